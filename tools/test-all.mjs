#!/usr/bin/env node
/**
 * `npm test`: the one spec set on every backend. cpu, wasm and tensorflow
 * (tfjs-node) run under jest in Node; webgl, webgpu and wasm again run under
 * karma in headless Chromium. Each environment prints its own counts; a
 * missing environment (no tfjs-node build, no Chromium) is a failure, never a
 * skip. 'demo' drives the browser demo on every backend (playwright-core).
 * Ends with the line `N passed, N failed`.
 * Usage: node tools/test-all.mjs [cpu wasm tensorflow webgl webgpu wasm-browser demo]
 */
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';

const ALL = ['cpu', 'wasm', 'tensorflow', 'webgl', 'webgpu', 'wasm-browser', 'demo'];
const envs = process.argv.length > 2 ? process.argv.slice(2) : ALL;
for (const e of envs) if (!ALL.includes(e)) throw new Error(`unknown environment ${e}`);
fs.mkdirSync('.build', {recursive: true});

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

if (run('node', ['tools/build-wasm.mjs']) !== 0) throw new Error('wasm build failed');

const browserEnvs = envs.filter(e => ['webgl', 'webgpu', 'wasm-browser'].includes(e));
if (browserEnvs.length > 0) {
  const specs = fs.readdirSync('test').filter(f => f.endsWith('.spec.ts')).sort();
  fs.writeFileSync('.build/browser_entry.ts', ["import '../test/support/browser_setup';",
    ...specs.map(f => `import '../test/${f.replace(/\.ts$/, '')}';`)].join('\n') + '\n');
  const status = run('npx', ['esbuild', '.build/browser_entry.ts', '--bundle', '--format=iife',
    '--platform=browser', '--target=es2020', '--outfile=.build/browser-tests.js', '--log-level=warning',
    '--external:fs', '--external:path', '--external:worker_threads', '--external:perf_hooks', '--external:os',
    '--external:crypto', '--external:util']);
  if (status !== 0) throw new Error('bundling the browser specs failed');
}

const results = [];
for (const e of envs) {
  let counts;
  if (['cpu', 'wasm', 'tensorflow'].includes(e)) {
    const out = `.build/jest-${e}.json`;
    fs.rmSync(out, {force: true});
    const status = run('npx', ['jest', '--json', `--outputFile=${out}`], {TFJS_BACKEND: e});
    const j = readJson(out);
    counts = j == null ? null :
        {passed: j.numPassedTests, failed: j.numFailedTests, skipped: j.numPendingTests + j.numTodoTests,
         error: status !== 0 && j.numFailedTests === 0};
  } else if (e === 'demo') {
    fs.rmSync('.build/demo.json', {force: true});
    const status = run('node', ['tools/demo.mjs', 'test']);
    counts = readJson('.build/demo.json');
    if (counts != null) counts.error = counts.error || (status !== 0 && counts.failed === 0);
  } else {
    const backend = e === 'wasm-browser' ? 'wasm' : e;
    const out = `.build/karma-${backend}.json`;
    fs.rmSync(out, {force: true});
    const status = run('npx', ['karma', 'start', 'karma.conf.js'], {KARMA_BACKEND: backend});
    counts = readJson(out);
    if (counts != null) counts.error = counts.error || (status !== 0 && counts.failed === 0);
  }
  if (counts == null || counts.passed + counts.failed === 0) {
    counts = {passed: 0, failed: 1, skipped: 0, error: true, missing: true};
  }
  results.push({env: e, ...counts});
}

console.log('\nResults per environment:');
for (const r of results) {
  const note = r.missing ? '  ENVIRONMENT MISSING OR CRASHED' : r.error ? '  (runner error)' : '';
  console.log(`  ${r.env.padEnd(13)} ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped${note}`);
}
const sum = k => results.reduce((s, r) => s + r[k], 0);
const failed = sum('failed') + results.filter(r => r.error && !r.missing).length;
const skipped = sum('skipped');
console.log(`${sum('passed')} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || skipped > 0 ? 1 : 0);
