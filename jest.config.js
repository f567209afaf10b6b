// Two projects: `unit` (pure specs beside the code, TZ=UTC) and `integration` (specs under test/ that start real
// influxd, mosquitto and aedes on free loopback ports).
const { common } = require('./test/support/jest-common');

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
      testPathIgnorePatterns: ['/test/fixtures/'],
      setupFilesAfterEnv: ['<rootDir>/test/support/integration-setup.ts'],
    },
  ],
};
