#!/usr/bin/env node
/**
 * Consumers: this package as its users get it. Packs the package once (`npm pack`, which builds
 * it), installs the tarball into freshly created projects under os.tmpdir() (from npm's cache,
 * --prefer-offline; never --legacy-peer-deps) and runs a short real job in each:
 *
 *   node-esm, node-cjs      Node with the umbrella @tensorflow/tfjs: nms, roiAlign, gradients, a
 *                           RoIAlign layer in a model (JSON round trip), on cpu and wasm
 *   tsc-node16, tsc-nodenext, tsc-bundler, tsc-node10
 *                           strict `tsc --noEmit`, skipLibCheck false, main entry + every subpath
 *   webpack|vite|esbuild / webgl|wasm
 *                           a browser app bundled by each (their Node APIs, from this repo's
 *                           devDependencies), served on 127.0.0.1, run in headless Chromium
 *                           (playwright-core); the page compares webgl / wasm with cpu
 *   esbuild-sizes           minified sizes of `{nms}` only and of everything (+ /layers), with
 *                           @tensorflow/* external and bundled; `{nms}` alone must be smaller
 *   tfjs-node               @tensorflow/tfjs-node installed --ignore-scripts, made to work offline by
 *                           `tools/build-tfjs-node.sh --project DIR`; `import 'tfjs-vision-ops/node'`
 *   attw                    @arethetypeswrong/cli on the tarball: no problems
 *   peers-lowest, peers-latest
 *                           beside @tensorflow/tfjs (+ -backend-wasm) at the lowest version that
 *                           peerDependencies['@tensorflow/tfjs-core'] allows and at the latest
 *                           tested one: exactly one tfjs-core in the tree, and a job on cpu + wasm
 *
 * Writes .build/consumers.json ({passed, failed, skipped, cases: [{name, ok, ms, detail}], sizes})
 * and ends with the line `N passed, N failed`. Exit status 1 when a case failed.
 *
 * Usage: node tools/consumers/run.mjs [--tarball FILE.tgz] [--only NAME[,NAME...]] [--keep]
 *   --tarball  use this tarball instead of running `npm pack`
 *   --only     run only cases whose name starts with one of these (e.g. --only tsc,peers)
 *   --keep     keep the temporary projects (they are kept anyway when a case fails)
 * Env: CHROME_BIN (default: `which chromium`), CONSUMERS_JOBS (parallel heavy steps, default 2)
 */
import {spawn, execFileSync} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import zlib from 'node:zlib';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const PKG = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
const T0 = Date.now();

// ---- arguments -----------------------------------------------------------------------------
const argv = process.argv.slice(2);
let tarballArg = null, only = null, keep = false;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--tarball') tarballArg = path.resolve(argv[++i]);
  else if (a.startsWith('--tarball=')) tarballArg = path.resolve(a.slice(10));
  else if (a === '--only') only = argv[++i].split(',');
  else if (a.startsWith('--only=')) only = a.slice(7).split(',');
  else if (a === '--keep') keep = true;
  else if (a.endsWith('.tgz')) tarballArg = path.resolve(a);
  else throw new Error(`unknown argument ${a} (see the header of ${path.relative(REPO, fileURLToPath(import.meta.url))})`);
}
const wanted = name => only == null || only.some(o => name.startsWith(o));

// ---- versions ------------------------------------------------------------------------------
function lowestOf(range) {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(range ?? '');
  if (m == null) throw new Error(`cannot read a version from peerDependencies['@tensorflow/tfjs-core'] = ${range}`);
  return `${m[1]}.${m[2]}.${m[3]}`;
}
const LOWEST = lowestOf(PKG.peerDependencies?.['@tensorflow/tfjs-core']);
const LATEST = (PKG.devDependencies?.['@tensorflow/tfjs-core'] ?? '4.22.0').replace(/^[\^~=]/, '');
const TFJS_NODE = (PKG.peerDependencies?.['@tensorflow/tfjs-node'] ?? '4.22.0').replace(/^[\^~=]/, '').match(/\d+\.\d+\.\d+/)[0];

// ---- small helpers -------------------------------------------------------------------------
const JOBS = Math.max(1, Number(process.env.CONSUMERS_JOBS) || Math.min(2, os.cpus().length));
let running = 0;
const queue = [];
/** Runs fn when fewer than JOBS heavy steps (tsc, bundlers, Node jobs) are running. */
async function heavy(fn) {
  if (running >= JOBS) await new Promise(resolve => queue.push(resolve));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    queue.shift()?.();
  }
}

function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    // `npm test` exports its own package's lifecycle variables: not for the consumer projects.
    if (/^npm_(package|lifecycle)_/.test(k) || k === 'npm_config_legacy_peer_deps') continue;
    env[k] = v;
  }
  return {...env, ...extra};
}

/** Runs a command; resolves to {code, out, ms} (out: stdout + stderr). Never rejects. */
function sh(cmd, args, {cwd = REPO, env = {}, timeout = 300_000} = {}) {
  const t = Date.now();
  return new Promise(resolve => {
    let out = '';
    let child;
    try {
      child = spawn(cmd, args, {cwd, env: cleanEnv(env), detached: true, stdio: ['ignore', 'pipe', 'pipe']});
    } catch (e) {
      resolve({code: -1, out: String(e), ms: 0});
      return;
    }
    const timer = setTimeout(() => {
      out += `\n[timed out after ${timeout / 1000} s]`;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    }, timeout);
    child.stdout.on('data', d => { out += d; });
    child.stderr.on('data', d => { out += d; });
    child.on('error', e => { out += String(e); });
    child.on('close', code => {
      clearTimeout(timer);
      resolve({code: code ?? -1, out, ms: Date.now() - t});
    });
  });
}

function tail(text, n = 15) {
  return text.split('\n').map(l => l.trimEnd()).filter(l => l && !/Unknown (user|project) config/.test(l))
      .slice(-n).join('\n');
}

/** Copies a fixture file or folder (fixtures: [from under tools/consumers, to under the project]). */
function copyDir(from, to) {
  fs.cpSync(from, to, {recursive: true});
}

/** Every @tensorflow/tfjs-core in a node_modules tree (nested ones included), with versions. */
function tfjsCores(projectDir) {
  const found = [];
  const scan = nm => {
    let entries;
    try { entries = fs.readdirSync(nm, {withFileTypes: true}); } catch { return; }
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue;
      const dirs = e.name.startsWith('@') ?
          fs.readdirSync(path.join(nm, e.name), {withFileTypes: true}).filter(d => d.isDirectory())
              .map(d => path.join(nm, e.name, d.name)) :
          [path.join(nm, e.name)];
      for (const dir of dirs) {
        if (dir.endsWith(`${path.sep}@tensorflow${path.sep}tfjs-core`)) {
          try {
            found.push({dir: path.relative(projectDir, dir), version: JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version});
          } catch { /* no package.json: not a package */ }
        }
        scan(path.join(dir, 'node_modules'));
      }
    }
  };
  scan(path.join(projectDir, 'node_modules'));
  return found;
}

function resultLine(out) {
  const line = out.split('\n').find(l => l.startsWith('RESULT '));
  return line == null ? null : JSON.parse(line.slice(7));
}

// ---- cases ---------------------------------------------------------------------------------
const cases = [];
const sizes = {};
function report(c) {
  cases.push(c);
  const detail = c.detail ? `  ${c.ok ? c.detail.split('\n')[0].slice(0, 150) : c.detail.replace(/\n/g, '\n      ')}` : '';
  console.log(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(15)} ${String(c.ms).padStart(6)} ms${detail}`);
}
/**
 * Runs one case: fn(dep) resolves to a detail string (ok) or throws (failure). ms counts from
 * dep (the case's project, when given) being ready: the shared installs are not in it.
 */
async function runCase(name, fn, dep = null) {
  if (!wanted(name)) return;
  let t = Date.now();
  try {
    const d = await dep;
    t = Date.now();
    const detail = await fn(d);
    report({name, ok: true, ms: Date.now() - t, detail: detail ?? ''});
  } catch (e) {
    report({name, ok: false, ms: Date.now() - t, detail: String(e && e.message || e)});
  }
}

// ---- main ----------------------------------------------------------------------------------
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-vision-ops-consumers-'));
console.log(`consumers: projects in ${TMP}; tfjs-core peers: lowest ${LOWEST}, latest ${LATEST}; ${JOBS} parallel steps`);

async function pack() {
  if (tarballArg != null) {
    if (!fs.existsSync(tarballArg)) throw new Error(`no tarball ${tarballArg}`);
    return tarballArg;
  }
  const dest = path.join(TMP, 'pack');
  fs.mkdirSync(dest);
  const r = await sh('npm', ['pack', '--pack-destination', dest, '--loglevel=error'], {timeout: 600_000});
  const tgz = fs.readdirSync(dest).filter(f => f.endsWith('.tgz'));
  if (r.code !== 0 || tgz.length !== 1) throw new Error(`npm pack failed (exit ${r.code}):\n${tail(r.out)}`);
  console.log(`  pack: ${tgz[0]} (${(fs.statSync(path.join(dest, tgz[0])).size / 1024).toFixed(0)} KiB) in ${r.ms} ms`);
  return path.join(dest, tgz[0]);
}

/** A fresh project: fixtures copied in, then `npm install` of the tarball and the given packages. */
async function project(name, tarball, deps, {fixtures = [], flags = []} = {}) {
  const dir = path.join(TMP, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({name: `consumer-${name}`, version: '0.0.0', private: true}, null, 2) + '\n');
  for (const [from, to] of fixtures) copyDir(path.join(HERE, from), path.join(dir, to));
  const r = await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-update-notifier',
    '--legacy-peer-deps=false', '--loglevel=error', ...flags, tarball, ...deps], {cwd: dir, timeout: 600_000});
  if (r.code !== 0) throw new Error(`npm install ${deps.join(' ')} failed (exit ${r.code}):\n${tail(r.out)}`);
  console.log(`  install ${name}: ${r.ms} ms`);
  return dir;
}

async function nodeJob(dir, file) {
  const r = await heavy(() => sh('node', [file], {cwd: dir, env: {TF_CPP_MIN_LOG_LEVEL: '2'}, timeout: 180_000}));
  const res = r.code === 0 ? resultLine(r.out) : null;
  if (res == null) throw new Error(`node ${file} exited ${r.code}:\n${tail(r.out)}`);
  return res;
}

function describe(res) {
  return `${res.backends.join('+')}: nms ${JSON.stringify(res.keep)}, roiAlign ${JSON.stringify(res.roi)}` +
      `${res.layer ? `, model [${res.layer}]` : ''}, tfjs-core ${res.tfjsCore}`;
}

function oneCore(dir, version) {
  const cores = tfjsCores(dir);
  const list = cores.map(c => `${c.dir}@${c.version}`).join(', ');
  if (cores.length !== 1) throw new Error(`${cores.length} copies of @tensorflow/tfjs-core: ${list || 'none'}`);
  if (version != null && cores[0].version !== version) throw new Error(`tfjs-core ${cores[0].version}, wanted ${version}`);
  return list;
}

// -- tsc --
// tfjs-layers 4.x ships .d.ts files that are not valid under strictNullChecks (15 errors with
// skipLibCheck false, with or without this package). A control program with the same @tensorflow
// packages and no tfjs-vision-ops gives tfjs's own errors; a case fails on any other error.
const TSC = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
const TS_VERSION = JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', 'typescript', 'package.json'), 'utf8')).version;
async function tscErrors(dir, mode) {
  const r = await heavy(() => sh('node', [TSC, '-p', path.join('tsc', mode, 'tsconfig.json'), '--pretty', 'false'], {cwd: dir, timeout: 240_000}));
  const errors = r.out.split('\n').filter(l => /^\S.*\(\d+,\d+\): error TS\d+/.test(l) || /^error TS\d+/.test(l));
  if (r.code !== 0 && errors.length === 0) throw new Error(`tsc exited ${r.code}:\n${tail(r.out, 25)}`);
  return errors;
}
let controlErrors = null;
async function tscCase(dir, mode) {
  controlErrors ??= tscErrors(dir, 'control');
  const [errors, control] = await Promise.all([tscErrors(dir, mode), controlErrors]);
  const known = new Set(control);
  const ours = errors.filter(e => !known.has(e));
  if (ours.length > 0) throw new Error(`${ours.length} error(s) beyond tfjs's own:\n${ours.slice(0, 20).join('\n')}`);
  const files = [...new Set(errors.map(e => e.split('(')[0].replace(/^node_modules\/(@tensorflow\/[^/]+).*/, '$1')))];
  return `typescript ${TS_VERSION}, strict, skipLibCheck false: no errors from tfjs-vision-ops or the consumer` +
      (errors.length ? ` (${errors.length} in ${files.join(', ')}'s own .d.ts, the same without tfjs-vision-ops)` : '');
}

// -- browser bundles --
const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
function addWasm(dir, outDir) {
  fs.mkdirSync(path.join(outDir, 'wasm'), {recursive: true});
  for (const f of WASM_FILES) {
    fs.copyFileSync(path.join(dir, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist', f), path.join(outDir, 'wasm', f));
  }
}
function plainPage(outDir, script, module) {
  fs.writeFileSync(path.join(outDir, 'index.html'), `<!doctype html>\n<html><head><meta charset="utf-8"></head><body>\n` +
      `<script${module ? ' type="module"' : ''} src="./${script}"></script>\n</body></html>\n`);
}

async function bundleWebpack(dir) {
  const {default: webpack} = await import('webpack');
  const outDir = path.join(dir, 'out', 'webpack');
  const stats = await new Promise((resolve, reject) => webpack({
    mode: 'production', context: dir, entry: './app.js', target: 'web', devtool: false,
    output: {path: outDir, filename: 'bundle.js'}, performance: {hints: false}, infrastructureLogging: {level: 'error'},
  }, (err, s) => err ? reject(err) : resolve(s)));
  const info = stats.toJson({all: false, errors: true, warnings: true});
  if (stats.hasErrors()) throw new Error(`webpack: ${info.errors.map(e => e.message).join('\n').slice(0, 3000)}`);
  plainPage(outDir, 'bundle.js', false);
  addWasm(dir, outDir);
  return {outDir, size: fs.statSync(path.join(outDir, 'bundle.js')).size, warnings: info.warnings.map(w => w.message)};
}

async function bundleVite(dir) {
  const vite = await import('vite');
  const outDir = path.join(dir, 'out', 'vite');
  const warnings = [];
  const logger = vite.createLogger('warn');
  const customLogger = {...logger, warn: (m, o) => { warnings.push(m); }, warnOnce: (m, o) => { warnings.push(m); }};
  await vite.build({
    configFile: false, root: dir, base: './', mode: 'production', logLevel: 'warn', publicDir: false, customLogger,
    build: {outDir, emptyOutDir: true, target: 'es2020', reportCompressedSize: false, chunkSizeWarningLimit: 100_000},
  });
  addWasm(dir, outDir);
  const js = fs.readdirSync(path.join(outDir, 'assets')).filter(f => f.endsWith('.js'));
  const size = js.reduce((s, f) => s + fs.statSync(path.join(outDir, 'assets', f)).size, 0);
  return {outDir, size, warnings};
}

async function bundleEsbuild(dir) {
  const esbuild = await import('esbuild');
  const outDir = path.join(dir, 'out', 'esbuild');
  const r = await esbuild.build({
    absWorkingDir: dir, entryPoints: ['app.js'], bundle: true, minify: true, format: 'esm', platform: 'browser',
    target: 'es2020', outfile: path.join(outDir, 'bundle.js'), logLevel: 'silent',
  });
  plainPage(outDir, 'bundle.js', true);
  addWasm(dir, outDir);
  return {outDir, size: fs.statSync(path.join(outDir, 'bundle.js')).size, warnings: r.warnings.map(w => w.text)};
}

async function esbuildSize(dir, entry, external) {
  const esbuild = await import('esbuild');
  const r = await esbuild.build({
    absWorkingDir: dir, entryPoints: [path.join('sizes', entry)], bundle: true, minify: true, format: 'esm',
    platform: 'browser', target: 'es2020', write: false, logLevel: 'silent', external: external ? ['@tensorflow/*'] : [],
    outfile: path.join(dir, 'sizes-out', entry),
  });
  const code = r.outputFiles[0].contents;
  return {bytes: code.length, gzip: zlib.gzipSync(code, {level: 9}).length};
}

/**
 * Serves root on 127.0.0.1. Pages under the folders in `isolated` are cross-origin isolated
 * (COOP/COEP), so tfjs-backend-wasm picks its threaded SIMD build and this package its
 * shared-memory module; the others get the plain SIMD build.
 */
function serve(root, isolated) {
  const types = {'.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.json': 'application/json'};
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const file = path.join(root, decodeURIComponent(url.pathname));
    if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    const isolate = isolated.some(d => url.pathname.startsWith(`/${d}/`)) ?
        {'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp'} : {};
    res.writeHead(200, {'Content-Type': types[path.extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store', ...isolate});
    fs.createReadStream(file).pipe(res);
  });
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function chromiumPath() {
  if (process.env.CHROME_BIN) return process.env.CHROME_BIN;
  try {
    return execFileSync('which', ['chromium'], {encoding: 'utf8'}).trim() ||
        execFileSync('which', ['chromium-browser'], {encoding: 'utf8'}).trim();
  } catch {
    throw new Error('no Chromium: set CHROME_BIN or `apt-get install -y chromium`');
  }
}
const CHROME_FLAGS = ['--no-sandbox', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-unsafe-swiftshader'];

async function browserCases(browserProject) {
  const BUNDLERS = {webpack: bundleWebpack, vite: bundleVite, esbuild: bundleEsbuild};
  const names = Object.keys(BUNDLERS).filter(b => wanted(`${b}/`) || wanted(b));
  const sizeCase = wanted('esbuild-sizes');
  if (names.length === 0 && !sizeCase) return;
  let dir;
  try {
    dir = await browserProject;
  } catch (e) {
    for (const b of names) for (const be of ['webgl', 'wasm']) await runCase(`${b}/${be}`, () => { throw e; });
    if (sizeCase) await runCase('esbuild-sizes', () => { throw e; });
    return;
  }
  const sizesDone = !sizeCase ? null : runCase('esbuild-sizes', () => heavy(async () => {
    for (const [entry, label] of [['nms-only.js', 'nmsOnly'], ['everything.js', 'everything']]) {
      sizes[label] = {external: await esbuildSize(dir, entry, true), bundled: await esbuildSize(dir, entry, false)};
    }
    const kib = s => `${(s.bytes / 1024).toFixed(1)} KiB (gzip ${(s.gzip / 1024).toFixed(1)})`;
    const text = `{nms}: ${kib(sizes.nmsOnly.external)} external / ${kib(sizes.nmsOnly.bundled)} bundled; ` +
        `all + /layers: ${kib(sizes.everything.external)} / ${kib(sizes.everything.bundled)}`;
    if (!(sizes.nmsOnly.external.bytes < sizes.everything.external.bytes)) throw new Error(`no tree shaking: ${text}`);
    return text;
  }));
  const built = {};
  for (const b of names) {
    const t = Date.now();
    built[b] = await heavy(() => BUNDLERS[b](dir)).then(r => ({...r, ms: Date.now() - t}), e => ({error: e}));
  }
  await sizesDone;
  if (names.length === 0) return;
  let browser = null, server = null, launchError = null;
  try {
    const {chromium} = await import('playwright-core');
    browser = await chromium.launch({executablePath: chromiumPath(), headless: true, args: CHROME_FLAGS});
    // Not webpack: tfjs-backend-wasm 4.22's threaded build fails in a webpack production bundle on
    // its own ("a is not defined" in its worker; a page with only tfjs-core + -backend-wasm does it too).
    server = await serve(path.join(dir, 'out'), ['vite', 'esbuild']);
  } catch (e) {
    launchError = e;
  }
  for (const b of names) {
    for (const backend of ['webgl', 'wasm']) {
      await runCase(`${b}/${backend}`, async () => {
        if (built[b].error) throw new Error(`bundling failed: ${built[b].error.message ?? built[b].error}`);
        if (launchError) throw new Error(`browser: ${launchError.message}`);
        const page = await browser.newPage();
        const errors = [];
        page.on('pageerror', e => errors.push(`pageerror: ${e.message}`));
        page.on('console', m => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
        try {
          // Fails fast: 5 s after the first uncaught error without a verdict.
          let onError;
          const broken = new Promise((_, reject) => { onError = () => setTimeout(() => reject(new Error('no result')), 5000); });
          page.once('pageerror', () => onError());
          await page.goto(`http://127.0.0.1:${server.address().port}/${b}/index.html?backend=${backend}`);
          await Promise.race([page.waitForFunction(() => window.__result != null, null, {timeout: 120_000}), broken]);
          const r = await page.evaluate(() => window.__result);
          if (!r.ok) throw new Error(r.detail + (errors.length ? `\n${errors.join('\n')}` : ''));
          const warn = built[b].warnings.length ? `, ${built[b].warnings.length} bundler warning(s): ${built[b].warnings[0].split('\n')[0].slice(0, 120)}` : '';
          return `${r.detail}; bundle ${(built[b].size / 1024).toFixed(0)} KiB in ${built[b].ms} ms${warn}`;
        } catch (e) {
          if (/Timeout|no result/.test(e.message) && errors.length) throw new Error(`no result: ${[...new Set(errors)].join('\n')}`);
          throw e;
        } finally {
          await page.close();
        }
      });
    }
  }
  await browser?.close();
  server?.close();
}

async function main() {
  let tarball;
  try {
    tarball = await pack();
  } catch (e) {
    await runCase('pack', () => { throw e; });
    return;
  }
  const tf = v => [`@tensorflow/tfjs@${v}`, `@tensorflow/tfjs-backend-wasm@${v}`];
  const need = prefixes => prefixes.some(wanted);
  const lazy = (cond, fn) => (cond ? fn() : new Promise(() => {}));
  // Installs in parallel (mostly I/O); each scenario waits for its own project.
  const nodeProject = lazy(need(['node-esm', 'node-cjs', 'tsc']), () => project('node', tarball,
      [...tf(LATEST), `@tensorflow/tfjs-backend-webgpu@${LATEST}`], {fixtures: [['node', '.'], ...['node16', 'nodenext', 'bundler', 'node10'].flatMap(m =>
        [[`tsc/${m}`, `tsc/${m}`], ['tsc/consumer.ts', `tsc/${m}/consumer.ts`]]), ['tsc/control', 'tsc/control']]}));
  const browserProject = lazy(need(['webpack', 'vite', 'esbuild']), () => project('browser', tarball,
      ['core', 'backend-cpu', 'backend-webgl', 'backend-wasm', 'layers'].map(p => `@tensorflow/tfjs-${p}@${LATEST}`),
      {fixtures: [['browser', '.'], ['sizes', 'sizes']]}));
  const tfjsNodeProject = lazy(need(['tfjs-node']), () => project('tfjs-node', tarball, [`@tensorflow/tfjs-node@${TFJS_NODE}`],
      {fixtures: [['tfjs-node', '.'], ['node/job.cjs', 'job.cjs']], flags: ['--ignore-scripts']}));
  const peerProject = (name, v) => project(name, tarball, tf(v), {fixtures: [['peers', '.'], ['node/job.cjs', 'job.cjs']]});
  const lowestProject = lazy(need(['peers-lowest']), () => peerProject('peers-lowest', LOWEST));
  const latestProject = lazy(need(['peers-latest']), () => peerProject('peers-latest', LATEST));
  for (const p of [nodeProject, browserProject, tfjsNodeProject, lowestProject, latestProject]) p.catch(() => {});

  await Promise.all([
    runCase('attw', () => heavy(async () => {
      const attw = path.join(REPO, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
      const r = await sh('node', [attw, tarball, '--format', 'json', '--no-definitely-typed'], {timeout: 180_000});
      let j;
      try { j = JSON.parse(r.out.slice(r.out.indexOf('{'))); } catch { throw new Error(`attw exited ${r.code}:\n${tail(r.out)}`); }
      const problems = [].concat(j.analysis?.problems ?? []);
      const entries = Object.keys(j.analysis?.entrypoints ?? {});
      if (r.code !== 0 || problems.length > 0) {
        const table = await sh('node', [attw, tarball, '--no-definitely-typed', '--no-color', '--no-emoji'], {timeout: 180_000});
        throw new Error(`attw: ${problems.length} problem(s) (exit ${r.code}):\n${tail(table.out, 40)}`);
      }
      return `no problems in ${entries.length} entrypoints (${entries.join(' ')}) under node10, node16-cjs, node16-esm, bundler`;
    })),
    runCase('node-esm', async dir => describe(await nodeJob(dir, 'esm.mjs')), nodeProject),
    runCase('node-cjs', async dir => describe(await nodeJob(dir, 'cjs.cjs')), nodeProject),
    ...['node16', 'nodenext', 'bundler', 'node10'].map(mode => runCase(`tsc-${mode}`, dir => tscCase(dir, mode), nodeProject)),
    browserCases(browserProject),
    runCase('tfjs-node', async dir => {
      const setup = await heavy(() => sh('bash', [path.join(REPO, 'tools', 'build-tfjs-node.sh'), '--project', dir], {timeout: 600_000}));
      if (setup.code !== 0) throw new Error(`tools/build-tfjs-node.sh --project failed (exit ${setup.code}):\n${tail(setup.out)}`);
      // The package's TensorFlow op library, built in the consumer from the tarball's sources.
      const native = await heavy(() => sh('npx', ['--no-install', 'tfjs-vision-ops-build-native'], {cwd: dir, timeout: 600_000}));
      if (native.code !== 0) throw new Error(`npx tfjs-vision-ops-build-native failed (exit ${native.code}):\n${tail(native.out)}`);
      const cores = oneCore(dir, null);
      return `op library built; ${describe(await nodeJob(dir, 'job.mjs'))}; ${cores}`;
    }, tfjsNodeProject),
    ...[['peers-lowest', lowestProject, LOWEST], ['peers-latest', latestProject, LATEST]].map(([name, proj, v]) =>
      runCase(name, async dir => {
        const cores = oneCore(dir, v);
        return `exactly one tfjs-core (${cores}); ${describe(await nodeJob(dir, 'job.mjs'))}`;
      }, proj)),
  ]);
}

await main();

const failed = cases.filter(c => !c.ok).length;
fs.mkdirSync(path.join(REPO, '.build'), {recursive: true});
fs.writeFileSync(path.join(REPO, '.build', 'consumers.json'), JSON.stringify(
    {passed: cases.length - failed, failed, skipped: 0, cases, sizes, lowest: LOWEST, latest: LATEST,
     seconds: Math.round((Date.now() - T0) / 1000)}, null, 2) + '\n');
if (failed === 0 && !keep) fs.rmSync(TMP, {recursive: true, force: true});
else console.log(`consumers: projects kept in ${TMP}`);
console.log(`consumers: ${((Date.now() - T0) / 1000).toFixed(0)} s`);
console.log(`${cases.length - failed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
