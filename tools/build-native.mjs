#!/usr/bin/env node
/**
 * Builds the native TensorFlow op library of tfjs-vision-ops for tfjs-node
 * (the 'tensorflow' backend): .build/native/vision_ops_tf.node, an N-API
 * addon that registers, when it is loaded, one TensorFlow op with a CPU
 * kernel per `VISION_EXPORT(name)` function of kernels/c/*.c, named
 * `Vision` + CamelCase(name) (roi_align -> VisionRoiAlign). Every op has the
 * same generic interface; the kernel is kernels/tensorflow/native/vision_call.cc.
 *
 * 1. Parses the VISION_EXPORT prototypes of kernels/c/*.c and writes
 *    kernels/tensorflow/native/generated/exports.inc: the C declarations, one
 *    trampoline per export (generic arguments -> the C signature) and the
 *    table (name, op name, return kind, signature, parameter names,
 *    trampoline). Signature letters: p const pointer, P writable pointer,
 *    i int32_t, u uint32_t, f float, d double.
 * 2. Builds with node-gyp (npm's bundled copy) in .build/native/gyp/ against
 *    tfjs-node's deps/include (TensorFlow C API), linking deps/lib's
 *    libtensorflow_framework.so.2 and libtensorflow_cc.so.2 (rpath to that
 *    directory); the C files are compiled natively with -O2
 *    -ffp-contract=off (the same results as the wasm build), -fPIC, warnings
 *    as errors.
 * 3. Copies the addon to .build/native/vision_ops_tf.node and checks that it
 *    loads after @tensorflow/tfjs-node.
 *
 * Idempotent: skipped when the sources, options and this script are
 * unchanged (hash in .build/native/vision_ops_tf.hash).
 *
 * Usage: node tools/build-native.mjs [--force] [--skip FILE.c ...] [--quiet]
 *   --force       rebuild even when nothing changed
 *   --skip FILE   leave kernels/c/FILE out (repeatable; e.g. a file being ported)
 *   --no-check    do not load the built addon afterwards
 * Needs: @tensorflow/tfjs-node with deps/ (bash tools/build-tfjs-node.sh),
 * Node's headers (npm config nodedir, or <node>/../include/node), a C/C++
 * compiler, make, python3.
 */
import {spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {dirname, join, relative, resolve} from 'node:path';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const C_DIR = join(ROOT, 'kernels/c');
const NATIVE_DIR = join(ROOT, 'kernels/tensorflow/native');
const GEN_DIR = join(NATIVE_DIR, 'generated');
const OUT_DIR = join(ROOT, '.build/native');
const STAGE = join(OUT_DIR, 'gyp');
const OUT = join(OUT_DIR, 'vision_ops_tf.node');
const HASH_FILE = join(OUT_DIR, 'vision_ops_tf.hash');
/** tfjs-node as this package resolves it: in the repository, or beside it in a consumer's node_modules. */
const TFJS_NODE = (() => {
  try {
    return dirname(createRequire(join(ROOT, 'package.json')).resolve('@tensorflow/tfjs-node/package.json'));
  } catch {
    return join(ROOT, 'node_modules/@tensorflow/tfjs-node');
  }
})();

let opts;
try {
  opts = parseArgs({
    options: {
      force: {type: 'boolean', default: false},
      skip: {type: 'string', multiple: true, default: []},
      quiet: {type: 'boolean', default: false},
      'no-check': {type: 'boolean', default: false},
      help: {type: 'boolean', short: 'h', default: false},
    },
    allowPositionals: false,
  }).values;
} catch (e) {
  die(`${e.message} (see --help)`, 2);
}
if (opts.help) {
  const src = readFileSync(fileURLToPath(import.meta.url), 'utf8');
  console.log(src.slice(src.indexOf('/**') + 4, src.indexOf('*/')).replace(/^ \* ?/gm, ''));
  process.exit(0);
}

function log(msg) { if (!opts.quiet) console.log(`[build-native] ${msg}`); }
function die(msg, code = 1) {
  console.error(`[build-native] ERROR: ${msg}`);
  process.exit(code);
}

// --- 1. the exports of kernels/c/*.c --------------------------------------------------------
const SCALARS = {int32_t: 'i', uint32_t: 'u', float: 'f', double: 'd'};

function stripComments(s) {
  return s.replace(/\/\*[\s\S]*?\*\//g, m => m.replace(/[^\n]/g, ' ')).replace(/\/\/[^\n]*/g, m => ' '.repeat(m.length));
}

/** [{name, op, ret: 'v'|'i', sig, params: [{name, type, letter}], file}] of one C file. */
function parseExports(file) {
  const text = stripComments(readFileSync(file, 'utf8'));
  const rel = relative(ROOT, file);
  const out = [];
  const re = /(^|[^A-Za-z0-9_])VISION_EXPORT\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)/g;
  let m;
  while ((m = re.exec(text)) !== null) {
    if (/^\s*#\s*define\b/.test(text.slice(text.lastIndexOf('\n', m.index) + 1, m.index + m[0].length))) continue;
    const name = m[2];
    const line = text.slice(0, m.index).split('\n').length;
    const where = `${rel}:${line} (${name})`;
    const after = m.index + m[0].length;
    const nameRe = new RegExp(`(^|[^A-Za-z0-9_])${name}\\s*\\(`, 'g');
    nameRe.lastIndex = after;
    const n = nameRe.exec(text);
    if (n === null) die(`${where}: no prototype '${name}(' after VISION_EXPORT(${name})`);
    const head = text.slice(after, n.index + n[1].length).trim().split(/\s+/).filter(Boolean);
    // Drop the attribute macros (NMS_NO_MEMSET...): the return type is what is left.
    const retWords = head.filter(w => !/^[A-Z][A-Z0-9_]*$/.test(w) && w !== 'static' && w !== 'inline');
    const retText = retWords.join(' ');
    let ret;
    if (retText === 'void') ret = 'v';
    else if (retText === 'int32_t') ret = 'i';
    else die(`${where}: return type '${retText}' (only void and int32_t are supported)`);
    let depth = 0, i = n.index + n[0].length - 1, end = -1;
    for (; i < text.length; i++) {
      if (text[i] === '(') depth++;
      else if (text[i] === ')' && --depth === 0) { end = i; break; }
    }
    if (end < 0) die(`${where}: unterminated parameter list`);
    const plist = text.slice(n.index + n[0].length, end).replace(/\s+/g, ' ').trim();
    const params = plist === '' || plist === 'void' ? [] : plist.split(',').map((p, k) => {
      const pm = /^(.*?)\s*\b([A-Za-z_][A-Za-z0-9_]*)$/.exec(p.trim());
      if (!pm || pm[1] === '') die(`${where}: cannot parse parameter ${k + 1} '${p.trim()}'`);
      const type = pm[1].replace(/\s*\*\s*/g, ' *').replace(/\s+/g, ' ').trim();
      let letter;
      if (type.includes('*')) {
        if ((type.match(/\*/g) || []).length !== 1 || !type.endsWith('*')) die(`${where}: parameter '${pm[2]}' has type '${type}' (one level of pointer only)`);
        const base = type.slice(0, -1).trim().split(' ');
        const elem = base.filter(w => w !== 'const').join(' ');
        if (!['float', 'int32_t', 'uint32_t', 'uint8_t', 'int8_t', 'double', 'int16_t', 'uint16_t', 'void'].includes(elem)) {
          die(`${where}: parameter '${pm[2]}' points to '${elem}' (unsupported)`);
        }
        letter = base.includes('const') ? 'p' : 'P';
      } else {
        letter = SCALARS[type];
        if (!letter) die(`${where}: parameter '${pm[2]}' has type '${type}' (supported: pointers, ${Object.keys(SCALARS).join(', ')})`);
      }
      return {name: pm[2], type, letter};
    });
    const op = 'Vision' + name.split('_').filter(Boolean).map(s => s[0].toUpperCase() + s.slice(1)).join('');
    out.push({name, op, ret, sig: params.map(p => p.letter).join(''), params, file: rel});
  }
  return out;
}

const skip = new Set(opts.skip.map(s => s.replace(/^.*\//, '')));
if (!existsSync(C_DIR)) die(`${relative(ROOT, C_DIR)} does not exist`);
const allC = readdirSync(C_DIR).filter(f => f.endsWith('.c')).sort();
for (const s of skip) if (!allC.includes(s)) die(`--skip ${s}: no such file in kernels/c`);
const cFiles = allC.filter(f => !skip.has(f)).map(f => join(C_DIR, f));
if (cFiles.length === 0) die('no C files in kernels/c');
const exportsList = cFiles.flatMap(parseExports);
if (exportsList.length === 0) die('no VISION_EXPORT functions in kernels/c/*.c');
{
  const seen = new Map();
  for (const e of exportsList) {
    for (const key of [e.name, e.op]) {
      if (seen.has(key)) die(`'${key}' is exported twice (${seen.get(key)} and ${e.file})`);
      seen.set(key, e.file);
    }
  }
}
exportsList.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function generateInc() {
  const L = [];
  L.push('// GENERATED by tools/build-native.mjs from the VISION_EXPORT prototypes of');
  L.push(`// ${cFiles.map(f => relative(ROOT, f)).join(', ')}.`);
  L.push('// Do not edit. Included by vision_call.cc (after VisionArg and VisionExport).');
  L.push('');
  L.push('extern "C" {');
  for (const e of exportsList) {
    const ps = e.params.map(p => `${p.type}${p.type.endsWith('*') ? '' : ' '}${p.name}`).join(', ');
    L.push(`${e.ret === 'i' ? 'int32_t' : 'void'} ${e.name}(${ps || 'void'});`);
  }
  L.push('}  // extern "C"');
  L.push('');
  const field = {i: 'i', u: 'u', f: 'f', d: 'd'};
  for (const e of exportsList) {
    const args = e.params.map((p, k) => p.type.endsWith('*') ? `(${p.type})a[${k}].p` : `a[${k}].${field[p.letter]}`);
    L.push(`static int32_t vision_call_${e.name}(const VisionArg *a) {`);
    if (e.params.length === 0) L.push('  (void)a;');
    const call = `${e.name}(${args.join(', ')})`;
    if (e.ret === 'i') L.push(`  return ${call};`);
    else L.push(`  ${call};`, '  return 0;');
    L.push('}');
  }
  L.push('');
  L.push(`static constexpr size_t kVisionExportCount = ${exportsList.length};`);
  L.push('static const VisionExport kVisionExports[kVisionExportCount] = {');
  for (const e of exportsList) {
    L.push(`  {"${e.name}", "${e.op}", '${e.ret}', "${e.sig}", "${e.params.map(p => p.name).join(',')}", &vision_call_${e.name}},`);
  }
  L.push('};');
  return L.join('\n') + '\n';
}

function writeIfChanged(path, content) {
  if (existsSync(path) && readFileSync(path, 'utf8') === content) return false;
  mkdirSync(dirname(path), {recursive: true});
  writeFileSync(path, content);
  return true;
}

// --- 2. prerequisites ---------------------------------------------------------------------------
if (!existsSync(join(TFJS_NODE, 'package.json'))) {
  die('@tensorflow/tfjs-node is not installed (in this repository: bash tools/build-tfjs-node.sh)');
}
const TF_DEPS = join(TFJS_NODE, 'deps');
for (const f of ['include/tensorflow/c/kernels.h', 'include/tensorflow/c/ops.h', 'include/tensorflow/c/c_api.h',
  'lib/libtensorflow_framework.so.2', 'lib/libtensorflow_cc.so.2']) {
  if (!existsSync(join(TF_DEPS, f))) {
    die(`${join(TF_DEPS, f)} is missing: tfjs-node's TensorFlow C API is not set up (tfjs-node's own install, ` +
        'or offline: bash tools/build-tfjs-node.sh [--project DIR])');
  }
}
const tfDeps = realpathSync(TF_DEPS);

function sh(cmd, args, o = {}) { return spawnSync(cmd, args, {encoding: 'utf8', ...o}); }
function findNodeGyp() {
  const npm = sh('sh', ['-c', 'command -v npm']).stdout.trim();
  const cands = [];
  if (npm) {
    const cli = realpathSync(npm);
    cands.push(join(dirname(cli), '../node_modules/node-gyp/bin/node-gyp.js'));
    cands.push(join(dirname(npm), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'));
  }
  cands.push(join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'));
  const prefix = sh('npm', ['prefix', '-g']).stdout?.trim();
  if (prefix) cands.push(join(prefix, 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'));
  cands.push(join(ROOT, 'node_modules/node-gyp/bin/node-gyp.js'));
  return cands.find(c => existsSync(c));
}
function findNodeDir() {
  const has = d => d && existsSync(join(d, 'include/node/common.gypi')) && existsSync(join(d, 'include/node/node_api.h'));
  let cfg = sh('npm', ['config', 'get', 'nodedir']).stdout?.trim().split('\n').pop() ?? '';
  if (cfg === 'undefined' || cfg === 'null') cfg = '';
  return [cfg, process.env.npm_config_nodedir, join(dirname(process.execPath), '..'), '/usr', '/usr/local']
    .find(has);
}
const nodeGyp = findNodeGyp();
if (!nodeGyp) die("cannot find node-gyp (npm's bundled node_modules/node-gyp/bin/node-gyp.js)");
const nodeDir = findNodeDir();
if (!nodeDir) die('no Node.js headers (need <dir>/include/node/node_api.h and common.gypi; set npm config nodedir)');
for (const tool of ['make', 'python3']) {
  if (sh('sh', ['-c', `command -v ${tool}`]).status !== 0) die(`'${tool}' is not on PATH (node-gyp needs it)`);
}
if (/\s/.test(ROOT) || /\s/.test(tfDeps)) die('paths with whitespace are not supported by this build');

const incPath = join(GEN_DIR, 'exports.inc');
if (writeIfChanged(incPath, generateInc())) log(`wrote ${relative(ROOT, incPath)}`);
log(`${exportsList.length} exports from ${cFiles.length} files: ${exportsList.map(e => e.name).join(', ')}`);

// --- 3. up to date? -------------------------------------------------------------------------------
const gypFile = join(NATIVE_DIR, 'binding.gyp');
const ccFile = join(NATIVE_DIR, 'vision_call.cc');
for (const f of [gypFile, ccFile]) if (!existsSync(f)) die(`${relative(ROOT, f)} is missing`);
const hash = createHash('sha256');
const headers = readdirSync(C_DIR).filter(f => f.endsWith('.h')).map(f => join(C_DIR, f));
const genDir = join(C_DIR, 'generated');
if (existsSync(genDir)) headers.push(...readdirSync(genDir).filter(f => f.endsWith('.h')).map(f => join(genDir, f)));
for (const f of [fileURLToPath(import.meta.url), gypFile, ccFile, incPath, ...cFiles, ...headers.sort()]) {
  hash.update(relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0');
}
hash.update(JSON.stringify([process.version, process.execPath, tfDeps, nodeDir, process.env.CC ?? '', process.env.CXX ?? '',
  realpathSync(join(tfDeps, 'lib/libtensorflow_framework.so.2'))]));
const digest = hash.digest('hex');
if (!opts.force && existsSync(OUT) && existsSync(HASH_FILE) && readFileSync(HASH_FILE, 'utf8').trim() === digest) {
  log(`up to date: ${relative(ROOT, OUT)} (use --force to rebuild)`);
  process.exit(0);
}

// --- 4. node-gyp in .build/native/gyp (the repo tree gets no build/ folder) -------------------------
// gyp's make generator wants sources below the .gyp file: src/native and src/c link to the
// repo's folders.
mkdirSync(join(STAGE, 'src'), {recursive: true});
copyFileSync(gypFile, join(STAGE, 'binding.gyp'));
for (const [link, target] of [['native', NATIVE_DIR], ['c', C_DIR]]) {
  const at = join(STAGE, 'src', link);
  let ok = false;
  try { ok = realpathSync(at) === realpathSync(target); } catch { /* absent */ }
  if (!ok) {
    rmSync(at, {force: true, recursive: true});
    symlinkSync(target, at);
  }
}
writeIfChanged(join(STAGE, 'c_sources.txt'), cFiles.map(f => 'src/c/' + relative(C_DIR, f) + '\n').join(''));
writeIfChanged(join(STAGE, 'tf_deps.txt'), tfDeps + '\n');
const env = {...process.env};
delete env.npm_config_nodedir;  // the flag below decides
function runGyp(args) {
  log(`node-gyp ${args[0]}`);
  const r = spawnSync(process.execPath, [nodeGyp, ...args, `--nodedir=${nodeDir}`],
    {cwd: STAGE, env, encoding: 'utf8', maxBuffer: 64 << 20});
  if (r.status !== 0) {
    const text = (r.stdout ?? '') + (r.stderr ?? '');
    console.error(text.split('\n').filter(l => !/^gyp (info|verb)/.test(l)).slice(-60).join('\n'));
    die(`node-gyp ${args[0]} failed (exit ${r.status ?? r.signal})`);
  }
}
const start = Date.now();
runGyp(['configure']);
runGyp(['build', `--jobs=${Math.max(1, Math.min(4, (await import('node:os')).availableParallelism?.() ?? 2))}`]);
const built = join(STAGE, 'build/Release/vision_ops_tf.node');
if (!existsSync(built)) die(`node-gyp succeeded but ${relative(ROOT, built)} is missing`);
copyFileSync(built, OUT);
log(`built ${relative(ROOT, OUT)} in ${((Date.now() - start) / 1000).toFixed(1)} s`);

// --- 5. it loads after tfjs-node and registers every op ---------------------------------------------
if (!opts['no-check']) {
  const script = `
    const tf = require('@tensorflow/tfjs-node');
    const a = require(${JSON.stringify(OUT)});
    const want = ${JSON.stringify(exportsList.map(e => e.op))};
    const miss = want.filter(o => !a.ops.includes(o));
    if (miss.length) throw new Error('ops not registered: ' + miss.join(', '));
    if (tf.getBackend() !== 'tensorflow') throw new Error('backend ' + tf.getBackend());
    console.log(a.ops.length);`;
  const r = spawnSync(process.execPath, ['-e', script], {cwd: ROOT, encoding: 'utf8',
    env: {...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2'}});
  if (r.status !== 0) {
    console.error((r.stderr ?? '').split('\n').slice(-20).join('\n'));
    die('the built addon does not load after @tensorflow/tfjs-node (see above)');
  }
  log(`checked: loads after tfjs-node, ${r.stdout.trim()} ops registered`);
}
writeFileSync(HASH_FILE, digest + '\n');
