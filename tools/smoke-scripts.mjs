#!/usr/bin/env node
/**
 * Smoke runs of package.json's user-facing scripts, each under a time bound:
 * `npm run docs`, `npm run example`, `npm run example:train -- --steps 30`,
 * `npm run example:detector -- --steps 2`,
 * bad command lines of both examples and of the bench (exit 2 and a clear
 * error), a type check of bench/ and examples/demo/ (which tsconfig.json does
 * not cover), `npm run bench -- --tiny --node-only` (which must leave
 * bench/results alone) and `npm run demo` (started on a free port: the page,
 * the bundle and a wasm binary fetched over 127.0.0.1, then stopped). Needs
 * no tfjs-node and no browser. Prints one line per case and writes
 * .build/smoke.json: {passed, failed, skipped: 0, cases: [{name, ok, ms, detail}]}.
 * Exit 0 when every case passed, 1 otherwise.
 * Usage: node tools/smoke-scripts.mjs [CASE...]
 */
import {createHash} from 'node:crypto';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {parseCommandLine} from './cli.mjs';

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const TRAIN_STEPS = 30;

/**
 * Runs cmd args (its own process group) until it exits or `timeoutMs` passes
 * (then the group is killed). onOutput(text, stop) sees the output (stdout and
 * stderr together) as it comes; stop() ends the process group early.
 * Resolves to {code, signal, output, timedOut}.
 */
function run(cmd, args, {timeoutMs, env = {}, onOutput} = {}) {
  return new Promise(resolve => {
    const child = spawn(cmd, args, {env: {...process.env, ...env}, detached: true,
      stdio: ['ignore', 'pipe', 'pipe']});
    let output = '', timedOut = false, stopped = false;
    const stop = () => {
      if (stopped || child.exitCode != null) return;
      stopped = true;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, timeoutMs);
    const take = chunk => {
      output += chunk;
      onOutput?.(output, stop);
    };
    child.stdout.setEncoding('utf8').on('data', take);
    child.stderr.setEncoding('utf8').on('data', take);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({code, signal, output, timedOut});
    });
  });
}

/** The last `n` non-empty lines of text, joined with ' | '. */
const tail = (text, n = 3) => text.split('\n').map(l => l.trim()).filter(Boolean).slice(-n).join(' | ');

/** Throws with the command's exit status and output tail unless it exited 0. */
function expectSuccess(r, what) {
  if (r.timedOut) throw new Error(`${what} timed out: ${tail(r.output)}`);
  if (r.code !== 0) throw new Error(`${what} exited ${r.code ?? r.signal}: ${tail(r.output)}`);
}

/** A bad command line: exit 2 and an `error:` line matching `message`. */
async function expectUsageError(args, message) {
  const r = await run(process.execPath, args, {timeoutMs: 60000});
  const line = r.output.split('\n').find(l => l.includes('error:')) ?? '';
  if (r.code !== 2 || !message.test(line)) {
    throw new Error(`node ${args.join(' ')}: exit ${r.code ?? r.signal}, wanted 2 and ${message}: ${tail(r.output)}`);
  }
  return `exit 2: ${line.trim()}`;
}

const hashOf = file => fs.existsSync(file) ? createHash('sha256').update(fs.readFileSync(file)).digest('hex') : null;

const CASES = [
  {name: 'docs', timeoutMs: 180000, async run() {
    const r = await run(NPM, ['run', 'docs'], {timeoutMs: this.timeoutMs});
    expectSuccess(r, 'npm run docs');
    const modules = ['tfjs-vision-ops', 'tfjs-vision-ops_layers', 'tfjs-vision-ops_webgl', 'tfjs-vision-ops_webgpu',
      'tfjs-vision-ops_wasm', 'tfjs-vision-ops_node'];
    const missing = modules.filter(m => !fs.existsSync(`docs/api/modules/${m}.html`));
    if (missing.length) throw new Error(`no module page for ${missing.join(', ')}`);
    const pages = fs.readdirSync('docs/api', {recursive: true}).filter(f => f.endsWith('.html'));
    const unnamed = pages.filter(f => fs.readFileSync(path.join('docs/api', f), 'utf8').includes('__namedParameters'));
    if (unnamed.length) throw new Error(`__namedParameters in ${unnamed.slice(0, 5).join(', ')}`);
    return `${pages.length} pages in docs/api, 6 modules, no __namedParameters`;
  }},
  {name: 'example', timeoutMs: 240000, async run() {
    const r = await run(NPM, ['run', 'example'], {timeoutMs: this.timeoutMs});
    expectSuccess(r, 'npm run example');
    const line = r.output.split('\n').find(l => l.startsWith('mean focal loss:'));
    if (line == null || !/\d\.\d+$/.test(line)) throw new Error(`no focal loss printed: ${tail(r.output)}`);
    return `npm run example (build included): ${line}`;
  }},
  {name: `example:train --steps ${TRAIN_STEPS}`, timeoutMs: 240000, async run() {
    const r = await run(NPM, ['run', 'example:train', '--', '--steps', String(TRAIN_STEPS)], {timeoutMs: this.timeoutMs});
    expectSuccess(r, 'npm run example:train');
    if (!r.output.includes(`${TRAIN_STEPS} steps of`)) throw new Error(`not ${TRAIN_STEPS} steps: ${tail(r.output)}`);
    return tail(r.output, 1);
  }},
  {name: 'example:detector --steps 2', timeoutMs: 300000, async run() {
    const out = '.build/detector-smoke';
    const r = await run(NPM, ['run', 'example:detector', '--', '--steps', '2', '--out', out], {timeoutMs: this.timeoutMs});
    expectSuccess(r, 'npm run example:detector');
    if (!r.output.includes('2 steps of 2 scenes')) throw new Error(`not 2 steps: ${tail(r.output)}`);
    if (!fs.existsSync(`${out}/detector.safetensors`)) throw new Error(`no ${out}/detector.safetensors`);
    return tail(r.output, 1);
  }},
  {name: 'example:detector --out (no value)', run: () => expectUsageError(['examples/train_detector.mjs', '--out'],
      /--out/)},
  {name: 'example: bad --backend', run: () => expectUsageError(['examples/score_detections.mjs', '--backend', 'nope'],
      /--backend must be one of cpu, wasm, tensorflow, got 'nope'/)},
  {name: 'example: unknown flag', run: () => expectUsageError(['examples/score_detections.mjs', '--bogus'],
      /Unknown option '--bogus'/)},
  {name: 'example:train --steps abc', run: () => expectUsageError(
      ['examples/train_detection_head.mjs', '--steps', 'abc'], /--steps must be an integer from 2 to \d+, got 'abc'/)},
  {name: 'example:train --steps -1', run: () => expectUsageError(
      ['examples/train_detection_head.mjs', '--steps', '-1'], /--steps must be an integer from 2 to \d+, got '-1'/)},
  {name: 'example --help', async run() {
    const r = await run(process.execPath, ['examples/train_detection_head.mjs', '--help'], {timeoutMs: 60000});
    expectSuccess(r, 'train_detection_head.mjs --help');
    if (!/^Usage: /.test(r.output) || !r.output.includes('--steps N')) throw new Error(`no usage: ${tail(r.output)}`);
    return `usage printed (${r.output.split('\n').length} lines), exit 0`;
  }},
  {name: 'typecheck bench/ and examples/demo/', timeoutMs: 180000, async run() {
    // tsconfig.json covers src, kernels and gradients; the bench and the demo are only bundled (no type check).
    const config = '.build/tsconfig.smoke.json';
    fs.writeFileSync(config, JSON.stringify({extends: '../tsconfig.json', compilerOptions: {noEmit: true},
      include: ['../bench', '../examples/demo', '../src', '../kernels', '../gradients']}));
    const wasm = await run(process.execPath, ['tools/build-wasm.mjs', '--quiet'], {timeoutMs: this.timeoutMs});
    expectSuccess(wasm, 'node tools/build-wasm.mjs');
    const r = await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', config], {timeoutMs: this.timeoutMs});
    expectSuccess(r, `tsc -p ${config}`);
    return 'no type errors';
  }},
  {name: 'bench: unknown case', run: () => expectUsageError(['tools/run-ts.mjs', 'bench/run.ts', '--tiny', 'no_such_case'],
      /unknown case 'no_such_case'/)},
  {name: 'bench --tiny --node-only', timeoutMs: 120000, async run() {
    const results = ['json', 'md', 'svg'].map(e => `bench/results/latest.${e}`);
    const before = results.map(hashOf);
    fs.rmSync('.build/bench-tiny', {recursive: true, force: true});
    const r = await run(NPM, ['run', 'bench', '--', '--tiny', '--node-only'], {timeoutMs: this.timeoutMs});
    expectSuccess(r, 'npm run bench -- --tiny --node-only');
    const {meta, rows} = JSON.parse(fs.readFileSync('.build/bench-tiny/latest.json', 'utf8'));
    const backends = [...new Set(rows.map(row => row.backend))];
    // bench/run.ts fails when a case gives no rows on a backend.
    if (meta.size !== 'tiny' || !backends.includes('cpu') || !backends.includes('wasm') || meta.cases.length < 7) {
      throw new Error(`rows of ${meta.cases.length} cases on ${backends.join(', ')} (size ${meta.size})`);
    }
    const changed = results.filter((f, i) => hashOf(f) !== before[i]);
    if (changed.length) throw new Error(`wrote over ${changed.join(', ')}`);
    const took = /bench took ([\d.]+ s)/.exec(r.output)?.[1];
    return `${rows.length} rows of ${meta.cases.length} cases on ${backends.join(', ')} in ${took}, ` +
        'written to .build/bench-tiny; bench/results untouched';
  }},
  {name: 'demo (npm run demo, served on 127.0.0.1)', timeoutMs: 180000, async run() {
    let url = null, fetched = null;
    const r = await run(NPM, ['run', 'demo'], {timeoutMs: this.timeoutMs, env: {PORT: '0'}, onOutput(out, stop) {
      const m = /demo at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m && url == null) {
        url = m[1];
        fetched = fetchDemo(url).then(detail => ({detail}), error => ({error})).finally(stop);
      }
    }});
    if (url == null) throw new Error(`the demo never served: exit ${r.code ?? r.signal}: ${tail(r.output)}`);
    const {detail, error} = await fetched;
    if (error) throw error;
    return detail;
  }},
];

/** Fetches the demo's page, bundle, sample image and a wasm binary. */
async function fetchDemo(url) {
  const page = await (await fetch(url)).text();
  if (!page.includes('bundle.js')) {
    throw new Error('the page does not load bundle.js');
  }
  const sizes = [];
  for (const file of ['bundle.js', 'sample.png', 'tfjs-backend-wasm-simd.wasm']) {
    const res = await fetch(url + file);
    if (res.status !== 200) throw new Error(`${file}: HTTP ${res.status}`);
    sizes.push(`${file} ${((await res.arrayBuffer()).byteLength / 1024).toFixed(0)} KiB`);
  }
  return `fetched ${url}: index.html, ${sizes.join(', ')}; stopped`;
}

const {positionals: only, fail} = parseCommandLine({name: 'smoke-scripts', allowPositionals: true, options: {},
  usage: `Usage: node tools/smoke-scripts.mjs [CASE...]\n\nCases:\n${CASES.map(c => `  ${c.name}`).join('\n')}`});
for (const name of only) if (!CASES.some(c => c.name === name)) fail(`unknown case '${name}'`);

fs.mkdirSync('.build', {recursive: true});
const results = [];
const started = performance.now();
for (const c of CASES.filter(c => only.length === 0 || only.includes(c.name))) {
  const t0 = performance.now();
  let ok = true, detail;
  try {
    detail = await c.run();
  } catch (e) {
    ok = false;
    detail = String(e?.message ?? e);
  }
  const ms = Math.round(performance.now() - t0);
  results.push({name: c.name, ok, ms, detail});
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${c.name} (${(ms / 1000).toFixed(1)} s): ${detail}`);
}
const passed = results.filter(r => r.ok).length, failed = results.length - passed;
fs.writeFileSync('.build/smoke.json', JSON.stringify({passed, failed, skipped: 0, cases: results}, null, 2) + '\n');
console.log(`smoke: ${passed} passed, ${failed} failed in ${((performance.now() - started) / 1000).toFixed(0)} s ` +
    '(.build/smoke.json)');
process.exit(failed ? 1 : 0);
