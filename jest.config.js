/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
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
