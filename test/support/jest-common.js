// Jest settings shared by the project's jest.config.js and by the fixture runs that specs start themselves.
// aedes 1.x is an ES module; swc turns it into CommonJS so that jest's module registry can load it, rather than the
// tests falling back to the old aedes 0.x line.
const { join } = require('node:path');

const rootDir = join(__dirname, '../..');
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
    '^@peakwatch/(config|contracts|dashboards|domain|history|influx|metering|mqtt|policy|process|registry|reporting|runtime|state)$':
      join(rootDir, 'libs/$1/src'),
    '^@peakwatch/device-sim$': join(rootDir, 'device-sim/src'),
    '^@peakwatch/(ingest|analytics|alerts|reports|api)$': join(rootDir, 'apps/$1/src'),
  },
  setupFiles: [join(rootDir, 'test/support/jest-env.ts')],
};

module.exports = { common, rootDir };
