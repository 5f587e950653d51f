/**
 * Chromium test environments: KARMA_BACKEND=webgl|webgpu|wasm runs the one
 * spec set (bundled by tools/test-all.mjs into .build/browser-tests.js) in
 * headless Debian Chromium on SwiftShader, and writes its counts to
 * .build/karma-<backend>.json (or KARMA_OUT).
 */
const fs = require('fs');
const path = require('path');

const backend = process.env.KARMA_BACKEND;
if (!['webgl', 'webgpu', 'wasm'].includes(backend)) {
  throw new Error(`set KARMA_BACKEND to webgl, webgpu or wasm (got ${backend})`);
}
process.env.CHROME_BIN = process.env.CHROME_BIN || '/usr/bin/chromium';
// KARMA_BUNDLE / KARMA_TFJS_MODULES: the spec set bundled against another tfjs version (tools/test-all.mjs).
const bundle = process.env.KARMA_BUNDLE || '.build/browser-tests.js';
const tfjsModules = process.env.KARMA_TFJS_MODULES || 'node_modules';
const wasmDir = `${tfjsModules}/@tensorflow/tfjs-backend-wasm/dist`;

function CountsReporter(baseReporterDecorator) {
  baseReporterDecorator(this);
  const counts = {passed: 0, failed: 0, skipped: 0, error: false};
  this.onBrowserComplete = browser => {
    const r = browser.lastResult;
    counts.passed += r.success;
    counts.failed += r.failed;
    counts.skipped += r.skipped;
    counts.error = counts.error || r.error || r.disconnected;
  };
  this.onRunComplete = () => {
    fs.mkdirSync('.build', {recursive: true});
    fs.writeFileSync(process.env.KARMA_OUT || path.join('.build', `karma-${backend}.json`), JSON.stringify(counts));
  };
}
CountsReporter.$inject = ['baseReporterDecorator'];

module.exports = config => config.set({
  frameworks: ['jasmine'],
  files: [
    bundle,
    {pattern: `${wasmDir}/*.wasm`, included: false, served: true},
    {pattern: 'test/fixtures/*.safetensors', included: false, served: true},
    {pattern: 'test/fixtures/torch_checkpoint/*.pth', included: false, served: true},
    {pattern: 'test/fixtures/detector/*.pth', included: false, served: true},
  ],
  mime: {'application/wasm': ['wasm']},
  // KARMA_ISOLATED=1: a cross-origin isolated page, where tfjs-backend-wasm loads its
  // threaded build on a shared memory (and our module its shared-memory variant).
  customHeaders: process.env.KARMA_ISOLATED ? [
    {match: '.*', name: 'Cross-Origin-Opener-Policy', value: 'same-origin'},
    {match: '.*', name: 'Cross-Origin-Embedder-Policy', value: 'require-corp'},
  ] : [],
  plugins: ['karma-jasmine', 'karma-chrome-launcher', {'reporter:counts': ['type', CountsReporter]}],
  reporters: ['dots', 'counts'],
  browsers: ['ChromiumSwiftShader'],
  customLaunchers: {
    ChromiumSwiftShader: {
      base: 'ChromeHeadless',
      flags: [
        '--no-sandbox', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--enable-unsafe-swiftshader', '--enable-unsafe-webgpu',
      ],
    },
  },
  client: {args: [backend, `/base/${wasmDir}/`, process.env.TFJS_VERSION || '', process.env.KARMA_ISOLATED || ''], jasmine: {random: false, timeoutInterval: 120000}},
  singleRun: true,
  browserNoActivityTimeout: 600000,
  browserDisconnectTimeout: 60000,
  captureTimeout: 120000,
});
