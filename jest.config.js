// Two projects: `unit` (pure specs beside the code, TZ=UTC) and `integration` (specs under test/ that start real
// influxd, mosquitto and aedes on free loopback ports). aedes 1.x is an ES module; swc turns it into CommonJS so that
// jest's module registry can load it (STYLE.md: "make jest load it ... rather than falling back to the old 0.x line").
const swcTs = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];
const swcEsmPackages = [
  '@swc/jest',
  {
    jsc: { target: 'es2022', parser: { syntax: 'ecmascript', importAttributes: true } },
    module: { type: 'commonjs' },
  },
];
/** ES-module-only packages that must be transformed to load under jest. */
const esmPackages = ['aedes'];

const common = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': swcTs,
    [`/node_modules/(${esmPackages.join('|')})/.+\\.js$`]: swcEsmPackages,
  },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages.join('|')})/)`],
  moduleNameMapper: {
    '^@peakwatch/(config|contracts|domain|influx|mqtt|process|runtime|state)$': '<rootDir>/libs/$1/src',
    '^@peakwatch/device-sim$': '<rootDir>/device-sim/src',
    '^@peakwatch/(ingest|analytics|alerts|reports|api)$': '<rootDir>/apps/$1/src',
  },
  setupFiles: ['<rootDir>/test/support/jest-env.ts'],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/device-sim'],
      testMatch: ['**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.spec.ts'],
      testTimeout: 120_000,
    },
  ],
};
