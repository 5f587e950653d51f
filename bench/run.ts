/**
 * `npm run bench`: medians of this package's ops on cpu, wasm and tensorflow
 * (tfjs-node, when built) in Node and on webgl, webgpu and wasm in headless
 * Chromium, beside the tfjs op a user would use instead and torchvision
 * (Debian's python3-torchvision, when installed) timed in the same run.
 * Writes bench/results/latest.json, latest.md and latest.svg.
 * `npm run bench -- NAME...` runs only the named cases; `--node-only` skips
 * Chromium; `--tiny` runs every case at a toy size (a smoke test of the bench:
 * seconds in Node, no torchvision) and writes .build/bench-tiny/ instead.
 * `--help` lists the cases.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '../src/index';
import {wasmReady} from '../kernels/wasm/register';
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import {createRequire} from 'node:module';
import os from 'node:os';
import path from 'node:path';
// @ts-expect-error: plain JavaScript, bundled by esbuild
import {bundle} from '../tools/bundle.mjs';
// @ts-expect-error: plain JavaScript, bundled by esbuild
import {parseCommandLine} from '../tools/cli.mjs';
import {ratioChart} from './chart';
import {CASES} from './cases/index';
import {wasmPortCase} from './cases/wasm_port';
import {backwardRatioTable, BenchRow, BenchSize, capRepetitions, formatTable} from './harness';

/** Node runs these; Chromium runs CASES (wasm_port reads its baseline module from disk). */
const NODE_CASES = [...CASES, wasmPortCase];

const USAGE = `
Usage: npm run bench [-- [--node-only] [--tiny] [CASE...]]
       (node tools/run-ts.mjs bench/run.ts, after node tools/build-wasm.mjs)

Times every case (or the named ones) on cpu, wasm and tensorflow (tfjs-node,
when built) in Node, then on webgl, webgpu and wasm in headless Chromium, beside
tfjs's own ops and torchvision (python3-torchvision, when installed). Writes
bench/results/latest.{json,md,svg} (about 15 minutes for all cases).

  --node-only  skip Chromium
  --tiny       every case at a toy size, 1 warm-up and 3 runs, no torchvision:
               a smoke test of the bench (seconds in Node), written to
               .build/bench-tiny/latest.{json,md,svg}, not bench/results
  -h, --help   this text

Cases: ${NODE_CASES.map(c => c.name).join(', ')}
`;

const BROWSER_DIR = '.build/bench-browser';
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--enable-unsafe-swiftshader', '--enable-unsafe-webgpu'];

function torchvisionTimes(cases: string[]): Record<string, Record<string, number>> {
  if (cases.length === 0) return {};
  const r = spawnSync('/usr/bin/python3', ['bench/torchvision_bench.py', ...cases], {encoding: 'utf8'});
  if (r.status !== 0) {
    console.warn('torchvision not timed (install Debian python3-torchvision to compare):',
        (r.stderr || String(r.error)).trim().split('\n').pop());
    return {};
  }
  return JSON.parse(r.stdout);
}

function tfjsNodeAvailable(): boolean {
  try {
    createRequire(__filename)('@tensorflow/tfjs-node');
    require('../kernels/tensorflow/register');
    return true;
  } catch {
    console.warn('tfjs-node not built (npm run setup:node-backend): no tensorflow rows');
    return false;
  }
}

async function nodeRows(only: string[], torchvision: Record<string, Record<string, number>>, size: BenchSize) {
  const rows: BenchRow[] = [];
  const backends = ['cpu', 'wasm', ...(tfjsNodeAvailable() ? ['tensorflow'] : [])];
  for (const backend of backends) {
    await tf.setBackend(backend);
    if (backend === 'wasm') await wasmReady();
    for (const c of NODE_CASES.filter(c => c.backends.includes(backend) && (only.length === 0 || only.includes(c.name)))) {
      console.log(`${c.name} on ${backend} ...`);
      const caseRows = await c.run(backend, torchvision, size);
      if (caseRows.length === 0) throw new Error(`${c.name} on ${backend} gave no rows`);
      rows.push(...caseRows);
    }
  }
  return rows;
}

async function buildBrowserBench() {
  fs.mkdirSync(BROWSER_DIR, {recursive: true});
  await bundle({entryPoints: ['bench/browser_entry.ts'], format: 'iife', platform: 'browser',
    target: 'es2020', outfile: path.join(BROWSER_DIR, 'bench.js'),
    external: ['fs', 'path', 'worker_threads', 'perf_hooks', 'os', 'crypto', 'util']},
  ['kernels/cpu/register.ts', 'gradients/register.ts', 'kernels/wasm/register.ts', 'kernels/webgl/register.ts',
    'kernels/webgpu/register.ts']);
  fs.writeFileSync(path.join(BROWSER_DIR, 'index.html'), '<!doctype html><script src="bench.js"></script>');
  const wasmDir = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
  for (const f of fs.readdirSync(wasmDir).filter(f => f.endsWith('.wasm'))) {
    fs.copyFileSync(path.join(wasmDir, f), path.join(BROWSER_DIR, f));
  }
}

async function browserRows(only: string[], torchvision: Record<string, Record<string, number>>, size: BenchSize) {
  const {chromium} = await import('playwright-core');
  await buildBrowserBench();
  const types: Record<string, string> = {'.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm'};
  const server = http.createServer((req, res) => {
    const file = path.join(BROWSER_DIR, path.basename(new URL(req.url!, 'http://x').pathname) || 'index.html');
    if (!fs.existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, {'content-type': types[path.extname(file)] ?? 'application/octet-stream'});
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as {port: number}).port;
  const browser = await chromium.launch({executablePath: process.env.CHROME_BIN || '/usr/bin/chromium',
    args: CHROMIUM_FLAGS});
  const rows: BenchRow[] = [];
  try {
    for (const backend of ['webgl', 'webgpu', 'wasm']) {
      const page = await browser.newPage();
      page.on('console', m => console.log(`  [chromium] ${m.text()}`));
      const query = new URLSearchParams({backend, size, torchvision: JSON.stringify(torchvision)});
      for (const c of only) query.append('case', c);
      await page.goto(`http://127.0.0.1:${port}/?${query}`, {waitUntil: 'commit'});
      await page.waitForFunction(() => (window as any).benchRows || (window as any).benchError, null,
          {timeout: 600000, polling: 1000});
      const {benchRows, benchError} = await page.evaluate(() => ({
        benchRows: (window as any).benchRows, benchError: (window as any).benchError}));
      if (benchError) throw new Error(`bench on ${backend} in chromium: ${benchError}`);
      rows.push(...benchRows);
      await page.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
  return rows;
}

/** Rows whose timings are not finite, non-negative numbers (a broken case). */
function badRows(rows: BenchRow[]) {
  const bad = (ms: number | undefined) => ms != null && !(Number.isFinite(ms) && ms >= 0);
  return rows.filter(r => bad(r.median_ms) || bad(r.baseline_ms));
}

async function main() {
  const {values, positionals: only, fail} = parseCommandLine({name: 'bench', usage: USAGE, allowPositionals: true,
    options: {'node-only': {type: 'boolean'}, tiny: {type: 'boolean'}}});
  const names = NODE_CASES.map(c => c.name);
  for (const name of only) if (!names.includes(name)) fail(`unknown case '${name}' (cases: ${names.join(', ')})`);
  const size: BenchSize = values.tiny ? 'tiny' : 'full';
  const outDir = size === 'tiny' ? '.build/bench-tiny' : 'bench/results';
  if (size === 'tiny') capRepetitions(1, 3);
  const started = performance.now();
  const cases = NODE_CASES.filter(c => only.length === 0 || only.includes(c.name));
  // torchvision at the full sizes: no comparison for toy sizes.
  const torchvision = size === 'tiny' ? {} : torchvisionTimes(cases.flatMap(c => c.torchvisionCases));
  const rows = await nodeRows(only, torchvision, size);
  if (!values['node-only']) rows.push(...await browserRows(only, torchvision, size));
  const table = formatTable(rows);
  const ratios = backwardRatioTable(rows);
  console.log(`${table}\n\n${ratios}`);
  fs.mkdirSync(outDir, {recursive: true});
  const meta = {date: new Date().toISOString(), node: process.version, cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model, minutes: +((performance.now() - started) / 60000).toFixed(1), size,
    cases: cases.map(c => c.name)};
  const sizeNote = size === 'tiny' ? 'Tiny sizes (`--tiny`, a smoke test of the bench): these timings mean nothing. ' : '';
  fs.writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify({meta, rows}, null, 2) + '\n');
  fs.writeFileSync(path.join(outDir, 'latest.md'), `${sizeNote}Measured ${meta.date} on ${meta.cpus} cores ` +
      `(${meta.cpu}), Node ${meta.node}, in ${meta.minutes} minutes. webgl/webgpu run on SwiftShader (software): ` +
      `compare them with the tfjs op on the same backend, not in absolute terms.\n\n${table}\n\n` +
      `Backward / forward on the same backend (a forward+backward row's backward: its time less the forward's):` +
      `\n\n${ratios}\n`);
  fs.writeFileSync(path.join(outDir, 'latest.svg'), ratioChart(rows));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`bench took ${seconds} s (${rows.length} rows, ${size} sizes); wrote ${outDir}/latest.{json,md,svg}`);
  const bad = badRows(rows);
  if (rows.length === 0 || bad.length) {
    console.error(rows.length === 0 ? 'bench: no rows' :
        `bench: ${bad.length} rows without a valid time: ${bad.map(r => `${r.case} on ${r.backend}`).join(', ')}`);
    process.exit(1);
  }
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
