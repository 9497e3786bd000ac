/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // firebase-tools (about 20,000 files) installs into test/e2e/auth-emulator/node_modules: never tests, never
  // modules for the tests (its binary is spawned). Measured: `jest --listTests` takes the same ~2.2 s with it.
  testPathIgnorePatterns: ['/node_modules/'],
  modulePathIgnorePatterns: ['<rootDir>/test/e2e/auth-emulator/node_modules/'],
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // jose 6 ships ESM only: let swc transform it for jest.
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  testTimeout: 20000,
  // Every supertest response is validated against /openapi.json (src/http/openapi.ts).
  setupFilesAfterEnv: ['<rootDir>/testkit/openapi-jest-setup.ts'],
  reporters: ['default', '<rootDir>/testkit/summary-reporter.js'],
};
