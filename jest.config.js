/**
 * Node test environments: TFJS_BACKEND=cpu|wasm|tensorflow (see tools/test-all.mjs).
 * TFJS_MODULES=<dir>/node_modules resolves every package there first: the spec
 * set against another tfjs version (tools/install-tfjs.mjs).
 */
const path = require('node:path');

module.exports = {
  testEnvironment: '<rootDir>/test/support/jest_environment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  transform: {'^.+\\.ts$': ['@swc/jest', {jsc: {target: 'es2020'}}]},
  setupFilesAfterEnv: ['<rootDir>/test/support/jest_setup.ts'],
  testTimeout: 120000,
  ...(process.env.TFJS_MODULES ? {moduleDirectories: [path.resolve(process.env.TFJS_MODULES), 'node_modules']} : {}),
};
