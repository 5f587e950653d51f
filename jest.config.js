/** Node test environments: TFJS_BACKEND=cpu|wasm|tensorflow (see tools/test-all.mjs). */
module.exports = {
  testEnvironment: '<rootDir>/test/support/jest_environment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  transform: {'^.+\\.ts$': ['@swc/jest', {jsc: {target: 'es2020'}}]},
  setupFilesAfterEnv: ['<rootDir>/test/support/jest_setup.ts'],
  testTimeout: 120000,
};
