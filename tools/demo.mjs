#!/usr/bin/env node
/**
 * The browser demo. `node tools/demo.mjs serve` builds it (esbuild) and serves
 * it on http://127.0.0.1:8080; `node tools/demo.mjs test` drives it in headless
 * Debian Chromium with playwright-core on cpu, wasm, webgl and webgpu, checks
 * each backend's detections and crops against cpu's, saves a screenshot per
 * backend to .build/demo-<backend>.png and writes its counts to .build/demo.json.
 */
import {buildSync} from 'esbuild';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const OUT = '.build/demo';
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--enable-unsafe-swiftshader', '--enable-unsafe-webgpu'];
const TYPES = {'.html': 'text/html', '.js': 'text/javascript', '.png': 'image/png', '.wasm': 'application/wasm'};

function build() {
  fs.mkdirSync(OUT, {recursive: true});
  buildSync({entryPoints: ['examples/demo/main.ts'], bundle: true, format: 'iife', platform: 'browser',
    target: 'es2020', outfile: path.join(OUT, 'bundle.js'), logLevel: 'warning',
    external: ['fs', 'path', 'worker_threads', 'perf_hooks', 'os', 'crypto', 'util']});
  for (const f of ['index.html', 'sample.png']) fs.copyFileSync(path.join('examples/demo', f), path.join(OUT, f));
  const wasmDir = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
  for (const f of fs.readdirSync(wasmDir).filter(f => f.endsWith('.wasm'))) {
    fs.copyFileSync(path.join(wasmDir, f), path.join(OUT, f));
  }
}

function serve(port) {
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
    const file = path.join(OUT, path.normalize(name));
    if (!file.startsWith(OUT) || !fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream'});
    fs.createReadStream(file).pipe(res);
  });
  return new Promise(resolve => server.listen(port, '127.0.0.1', () => resolve(server)));
}

function compare(result, reference) {
  const problems = [];
  if (result.boxes.length !== reference.boxes.length) {
    problems.push(`${result.boxes.length} detections, cpu has ${reference.boxes.length}`);
    return problems;
  }
  if (result.boxes.length === 0) problems.push('no detections');
  result.boxes.forEach((box, i) => {
    if (box.some((v, j) => Math.abs(v - reference.boxes[i][j]) > 1e-3)) problems.push(`box ${i} differs from cpu`);
    if (result.classes[i] !== reference.classes[i]) problems.push(`class of box ${i} differs from cpu`);
    if (Math.abs(result.cropMeans[i] - reference.cropMeans[i]) > 2e-2) problems.push(`crop ${i} differs from cpu`);
  });
  return problems;
}

async function test() {
  const {chromium} = await import('playwright-core');
  build();
  const server = await serve(0);
  const url = `http://127.0.0.1:${server.address().port}/`;
  const browser = await chromium.launch({executablePath: process.env.CHROME_BIN || '/usr/bin/chromium',
    args: CHROMIUM_FLAGS});
  const counts = {passed: 0, failed: 0, skipped: 0, error: false};
  let reference = null;
  try {
    for (const backend of ['cpu', 'wasm', 'webgl', 'webgpu']) {
      const page = await browser.newPage({viewport: {width: 900, height: 900}});
      page.on('pageerror', e => console.log(`  [${backend}] page error: ${e}`));
      await page.goto(`${url}?backend=${backend}&autorun=1`);
      await page.waitForFunction(() => window.demoResult || window.demoError, null, {timeout: 300000});
      const {result, error} = await page.evaluate(() => ({result: window.demoResult, error: window.demoError}));
      const shot = `.build/demo-${backend}.png`;
      await page.screenshot({path: shot, fullPage: true});
      await page.close();
      const problems = error != null ? [error] : reference == null ? (result.boxes.length ? [] : ['no detections'])
          : compare(result, reference);
      if (backend === 'cpu' && error == null) reference = result;
      const timing = result ? Object.entries(result.timings).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', ') : '';
      console.log(`  demo on ${backend}: ${problems.length ? 'FAILED ' + problems.join('; ') : 'ok'}` +
          ` (${result ? result.boxes.length : 0} detections; ${timing}; screenshot ${shot})`);
      counts[problems.length ? 'failed' : 'passed']++;
    }
  } finally {
    await browser.close();
    server.close();
  }
  fs.writeFileSync('.build/demo.json', JSON.stringify(counts));
  console.log(`demo: ${counts.passed} passed, ${counts.failed} failed`);
  process.exit(counts.failed ? 1 : 0);
}

const mode = process.argv[2];
if (mode === 'serve') {
  build();
  await serve(Number(process.env.PORT || 8080));
  console.log(`demo at http://127.0.0.1:${process.env.PORT || 8080}/ (Ctrl-C to stop)`);
} else if (mode === 'test') {
  await test();
} else {
  console.error('usage: node tools/demo.mjs serve|test');
  process.exit(2);
}
