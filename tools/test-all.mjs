#!/usr/bin/env node
/**
 * `npm test`: sets up what a fresh Debian machine lacks (clang and lld for
 * the wasm module, Chromium, the offline tfjs-node build), then runs every
 * environment and ends with the line `N passed, N failed`.
 *
 * - cpu, wasm, tensorflow: the one spec set under jest in Node (tensorflow =
 *   tfjs-node, built offline by tools/build-tfjs-node.sh when it is missing,
 *   with the package's TensorFlow op library, tools/build-native.mjs);
 * - tensorflow@wasm: tfjs-node with the fallback, the wasm kernels on host
 *   copies (TFJS_VISION_OPS_TENSORFLOW=wasm);
 * - webgl, webgpu, wasm-browser: the same spec set under karma in headless
 *   Debian Chromium (installed with apt-get when missing and we are root);
 * - cpu@lowest, wasm@lowest, webgl@lowest, wasm-browser@lowest: the spec set
 *   against the lowest tfjs version the tfjs-core peer range claims (webgpu's
 *   range starts at 4.22: older tfjs-backend-webgpu calls
 *   adapter.requestAdapterInfo(), which current Chromium no longer has);
 * - demo: the browser demo driven on every backend (playwright-core);
 * - consumers: the packed tarball in fresh projects (tools/consumers/run.mjs);
 * - scripts: a smoke run of every package.json script (tools/smoke-scripts.mjs).
 * A missing environment is a failure, never a skip.
 * Usage: node tools/test-all.mjs [environment ...]
 * SPECS=name[,name...] (development): only test/<name>.spec.ts in the jest and karma environments.
 */
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {build} from 'esbuild';

const ALL = ['cpu', 'wasm', 'tensorflow', 'tensorflow@wasm', 'webgl', 'webgpu', 'wasm-browser', 'cpu@lowest', 'wasm@lowest',
  'webgl@lowest', 'wasm-browser@lowest', 'demo', 'consumers', 'scripts'];
const BROWSER = ['webgl', 'webgpu', 'wasm-browser', 'webgl@lowest', 'wasm-browser@lowest', 'demo', 'consumers'];
const envs = process.argv.length > 2 ? process.argv.slice(2) : ALL;
for (const e of envs) if (!ALL.includes(e)) throw new Error(`unknown environment ${e}; one of ${ALL.join(' ')}`);
fs.mkdirSync('.build', {recursive: true});

/** The lowest tfjs version the peer ranges claim (`^4.N.0` -> 4.N.0). */
const peerRange = JSON.parse(fs.readFileSync('package.json', 'utf8')).peerDependencies['@tensorflow/tfjs-core'];
const LOWEST = /^\^?(\d+\.\d+\.\d+)$/.exec(peerRange)?.[1];
if (LOWEST == null) throw new Error(`cannot read the lowest version from the tfjs-core peer range ${peerRange}`);

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, {stdio: 'inherit', env: {...process.env, ...env}});
  return r.status ?? 1;
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], {encoding: 'utf8'}).stdout.trim() || null;
}

/** Installs Debian `packages` with apt-get unless `command` is on PATH (root only); returns its path. */
function aptProvide(command, packages, why) {
  const found = onPath(command);
  if (found != null) return found;
  if (process.getuid?.() !== 0) {
    throw new Error(`${command} is missing (${why}): run \`sudo apt-get install -y ${packages.join(' ')}\``);
  }
  console.log(`[test] installing Debian ${packages.join(', ')} (apt-get)`);
  const env = {DEBIAN_FRONTEND: 'noninteractive'};
  if (run('apt-get', ['update', '-q'], env) !== 0 || run('apt-get', ['install', '-y', '-q', ...packages], env) !== 0) {
    throw new Error(`apt-get install ${packages.join(' ')} failed`);
  }
  const installed = onPath(command);
  if (installed == null) throw new Error(`${command} is still not on PATH after apt-get install`);
  return installed;
}

function setUpChromium() {
  if (process.env.CHROME_BIN && fs.existsSync(process.env.CHROME_BIN)) return;
  process.env.CHROME_BIN = aptProvide('chromium', ['chromium'], 'for the browser environments');
}

/** tfjs-node ('tensorflow' backend) built offline, then our op library; quick no-ops when up to date. */
function setUpTfjsNode() {
  if (run('bash', ['tools/build-tfjs-node.sh']) !== 0) throw new Error('the offline tfjs-node build failed');
  if (run('node', ['tools/build-native.mjs']) !== 0) throw new Error('the TensorFlow op library build failed');
}

/** Resolves every @tensorflow/* import from another node_modules (the spec set at another tfjs version). */
function tfjsFrom(modules) {
  return {
    name: 'tfjs-from',
    setup(b) {
      b.onResolve({filter: /^@tensorflow\//}, async args => {
        if (args.pluginData === 'tfjs-from') return undefined;
        const r = await b.resolve(args.path, {kind: args.kind, resolveDir: modules, pluginData: 'tfjs-from'});
        return r.errors.length > 0 ? {errors: r.errors} : {path: r.path, sideEffects: r.sideEffects};
      });
    },
  };
}

const ONLY_SPECS = process.env.SPECS ? process.env.SPECS.split(',').map(s => `${s.trim()}.spec.ts`) : null;

async function bundleBrowserSpecs(outfile, modules) {
  const specs = fs.readdirSync('test').filter(f => f.endsWith('.spec.ts') && (ONLY_SPECS?.includes(f) ?? true)).sort();
  fs.writeFileSync('.build/browser_entry.ts', ["import '../test/support/browser_setup';",
    ...specs.map(f => `import '../test/${f.replace(/\.ts$/, '')}';`)].join('\n') + '\n');
  await build({entryPoints: ['.build/browser_entry.ts'], bundle: true, format: 'iife', platform: 'browser',
    target: 'es2020', outfile, logLevel: 'warning', plugins: modules ? [tfjsFrom(modules)] : [],
    external: ['fs', 'path', 'worker_threads', 'perf_hooks', 'os', 'crypto', 'util']});
}

function installLowest() {
  const r = spawnSync('node', ['tools/install-tfjs.mjs', LOWEST], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']});
  if (r.status !== 0) throw new Error(`installing tfjs ${LOWEST} failed`);
  return path.relative('.', r.stdout.trim().split('\n').pop());
}

// --- set-up -------------------------------------------------------------------------------------
aptProvide('clang', ['clang', 'lld'], 'it builds the wasm module from kernels/c');
aptProvide('wasm-ld', ['clang', 'lld'], 'it links the wasm module');
if (run('node', ['tools/build-wasm.mjs']) !== 0) throw new Error('wasm build failed');
if (envs.some(e => BROWSER.includes(e))) setUpChromium();
if (envs.some(e => ['tensorflow', 'tensorflow@wasm', 'consumers'].includes(e))) setUpTfjsNode();
const lowestModules = envs.some(e => e.endsWith('@lowest')) ? installLowest() : null;
if (envs.some(e => ['webgl', 'webgpu', 'wasm-browser'].includes(e))) await bundleBrowserSpecs('.build/browser-tests.js');
if (envs.some(e => ['webgl@lowest', 'wasm-browser@lowest'].includes(e))) {
  await bundleBrowserSpecs('.build/browser-tests-lowest.js', path.resolve(lowestModules));
}

// --- environments -------------------------------------------------------------------------------
function jest(backend, out, env = {}) {
  fs.rmSync(out, {force: true});
  const only = ONLY_SPECS ? ONLY_SPECS.map(f => `test/${f}`) : [];
  const status = run('npx', ['jest', '--json', `--outputFile=${out}`, ...only], {TFJS_BACKEND: backend, ...env});
  const j = readJson(out);
  return j == null ? null : {passed: j.numPassedTests, failed: j.numFailedTests,
    skipped: j.numPendingTests + j.numTodoTests, error: status !== 0 && j.numFailedTests === 0};
}

function karma(backend, out, env = {}) {
  fs.rmSync(out, {force: true});
  const status = run('npx', ['karma', 'start', 'karma.conf.js'], {KARMA_BACKEND: backend, KARMA_OUT: out, ...env});
  const counts = readJson(out);
  if (counts != null) counts.error = counts.error || (status !== 0 && counts.failed === 0);
  return counts;
}

/** A runner of our own (node `args`) that writes {passed, failed, skipped} to `out`. */
function script(args, out) {
  fs.rmSync(out, {force: true});
  const status = run('node', args);
  const counts = readJson(out);
  if (counts != null) counts.error = counts.error || (status !== 0 && counts.failed === 0);
  return counts;
}

const atLowest = {TFJS_MODULES: lowestModules, TFJS_VERSION: LOWEST};
const karmaAtLowest = {KARMA_BUNDLE: '.build/browser-tests-lowest.js', KARMA_TFJS_MODULES: lowestModules,
  TFJS_VERSION: LOWEST};
const results = [];
for (const e of envs) {
  console.log(`\n[test] ${e}${e.endsWith('@lowest') ? ` (tfjs ${LOWEST})` : ''}`);
  let counts;
  if (['cpu', 'wasm', 'tensorflow'].includes(e)) counts = jest(e, `.build/jest-${e}.json`);
  else if (e === 'tensorflow@wasm') counts = jest('tensorflow', `.build/jest-${e}.json`, {TFJS_VISION_OPS_TENSORFLOW: 'wasm'});
  else if (e === 'cpu@lowest' || e === 'wasm@lowest') counts = jest(e.split('@')[0], `.build/jest-${e}.json`, atLowest);
  else if (['webgl', 'webgpu', 'wasm-browser'].includes(e)) {
    // wasm-browser: cross-origin isolated, so the threaded build on a shared memory (its
    // @lowest twin covers the plain build).
    const backend = e === 'wasm-browser' ? 'wasm' : e;
    counts = karma(backend, `.build/karma-${backend}.json`, e === 'wasm-browser' ? {KARMA_ISOLATED: '1'} : {});
  } else if (e === 'webgl@lowest' || e === 'wasm-browser@lowest') {
    const backend = e === 'webgl@lowest' ? 'webgl' : 'wasm';
    counts = karma(backend, `.build/karma-${e}.json`, karmaAtLowest);
  } else if (e === 'demo') counts = script(['tools/demo.mjs', 'test'], '.build/demo.json');
  else if (e === 'consumers') counts = script(['tools/consumers/run.mjs'], '.build/consumers.json');
  else counts = script(['tools/smoke-scripts.mjs'], '.build/smoke.json');
  if (counts == null || counts.passed + counts.failed === 0) {
    counts = {passed: 0, failed: 1, skipped: 0, error: true, missing: true};
  }
  results.push({env: e, ...counts});
}

console.log('\nResults per environment:');
for (const r of results) {
  const note = r.missing ? '  ENVIRONMENT MISSING OR CRASHED' : r.error ? '  (runner error)' : '';
  console.log(`  ${r.env.padEnd(15)} ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped${note}`);
}
const sum = k => results.reduce((s, r) => s + r[k], 0);
const failed = sum('failed') + results.filter(r => r.error && !r.missing).length;
const skipped = sum('skipped');
console.log(`${sum('passed')} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || skipped > 0 ? 1 : 0);
