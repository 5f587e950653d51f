#!/usr/bin/env node
/**
 * Builds tfjs-vision-ops' own WebAssembly module (kernels/wasm/assembly/) with
 * AssemblyScript, in two variants that import the tfjs wasm backend's memory:
 *
 *   WASM_SIMD         env.memory plain    (tfjs-backend-wasm(-simd).wasm, Node)
 *   WASM_SIMD_SHARED  env.memory shared, maximum 65536 pages = 4 GiB
 *                     (tfjs-backend-wasm-threaded-simd.wasm declares exactly
 *                     {initial: INITIAL_MEMORY/65536, maximum: 4294967296/65536, shared: true})
 *
 * and writes kernels/wasm/generated/module_bytes.ts (base64 of both), plus the
 * .wasm/.wat files next to it for inspection.
 *
 * The module works in place on memory that belongs to tfjs, so the build FAILS
 * unless each binary has: no data segments (and no data count), no start
 * function, no globals (hence no shadow stack and no allocator state), no own
 * or exported memory, and exactly one import, env.memory, with the expected
 * sharing and limits. It also compiles and instantiates both binaries in Node.
 *
 * Idempotent and quick: the output records a hash of the sources, options and
 * compiler version, and an unchanged build only re-checks the binaries.
 * Flags: --force (always recompile), --quiet.
 */
import {createHash} from 'node:crypto';
import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {dirname, join, relative, resolve} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC_DIR = join(ROOT, 'kernels/wasm/assembly');
const ENTRY = join(SRC_DIR, 'index.ts');
const OUT_DIR = join(ROOT, 'kernels/wasm/generated');
const OUT_TS = join(OUT_DIR, 'module_bytes.ts');
const FORCE = process.argv.includes('--force');
const QUIET = process.argv.includes('--quiet');

/** 65536 pages = 4 GiB: the maximum of tfjs's threaded build's shared memory. */
const SHARED_MAX_PAGES = 65536;

const COMMON_ARGS = [
  '--optimizeLevel', '3', '--shrinkLevel', '0',
  '--noAssert',              // assertions become their value: no abort calls
  '--use', 'abort=',         // no env.abort import and no message strings
  '--runtime', 'stub',       // no GC, no TLSF; never used since nothing allocates
  '--importMemory',          // env.memory: the tfjs heap
  '--noExportMemory',
  '--initialMemory', '0',    // imposes nothing on the imported memory's size
  '--enable', 'simd',
];
const VARIANTS = [
  {name: 'WASM_SIMD', file: 'vision_ops_simd', shared: false, args: []},
  {name: 'WASM_SIMD_SHARED', file: 'vision_ops_simd_shared', shared: true,
   args: ['--enable', 'threads', '--sharedMemory', '--maximumMemory', String(SHARED_MAX_PAGES)]},
];

function log(...a) { if (!QUIET) console.log(...a); }
function fail(msg) {
  console.error(`build-wasm: ${msg}`);
  process.exit(1);
}

function sourceFiles(dir) {
  const out = [];
  for (const ent of readdirSync(dir, {withFileTypes: true})) {
    const p = join(dir, ent.name);
    if (ent.isDirectory()) out.push(...sourceFiles(p));
    else if (ent.name.endsWith('.ts') || ent.name.endsWith('.json')) out.push(p);
  }
  return out.sort();
}

function ascVersion() {
  return JSON.parse(readFileSync(join(ROOT, 'node_modules/assemblyscript/package.json'), 'utf8')).version;
}

function buildHash() {
  const h = createHash('sha256');
  h.update(`asc ${ascVersion()}\n${JSON.stringify([COMMON_ARGS, VARIANTS])}\n`);
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  for (const f of sourceFiles(SRC_DIR)) {
    h.update(`\n--- ${relative(ROOT, f)}\n`);
    h.update(readFileSync(f));
  }
  return h.digest('hex').slice(0, 16);
}

// --- binary checks -------------------------------------------------------------

function reader(bytes) {
  let pos = 0;
  const r = {
    get pos() { return pos; },
    set pos(p) { pos = p; },
    byte() {
      if (pos >= bytes.length) throw new Error('unexpected end of module');
      return bytes[pos++];
    },
    u32() {
      let result = 0, shift = 0, b;
      do {
        b = r.byte();
        result += (b & 0x7f) * 2 ** shift;
        shift += 7;
      } while (b & 0x80);
      return result;
    },
    name() {
      const n = r.u32();
      const s = new TextDecoder().decode(bytes.subarray(pos, pos + n));
      pos += n;
      return s;
    },
  };
  return r;
}

const SECTION_NAMES = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global',
  'export', 'start', 'element', 'code', 'data', 'datacount'];

/** Throws unless the binary is safe to run on memory owned by tfjs. */
export function checkModule(bytes, {shared}) {
  const r = reader(bytes);
  const magic = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  for (const b of magic) if (r.byte() !== b) throw new Error('not a wasm 1.0 binary');
  const sizes = {};
  const imports = [];
  const exports = [];
  while (r.pos < bytes.length) {
    const id = r.byte();
    const len = r.u32();
    const start = r.pos;
    const end = start + len;
    const sname = SECTION_NAMES[id] ?? `unknown${id}`;
    if (id === 0) {
      const cname = r.name();
      sizes[`custom:${cname}`] = len;
    } else {
      sizes[sname] = (sizes[sname] ?? 0) + len;
    }
    switch (id) {
      case 2: { // import
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          const module = r.name(), name = r.name(), kind = r.byte();
          const imp = {module, name, kind};
          if (kind === 0) r.u32(); // function: type index
          else if (kind === 1 || kind === 2) { // table (reftype, limits), memory (limits)
            if (kind === 1) r.byte();
            imp.flags = r.byte();
            imp.min = r.u32();
            if (imp.flags & 1) imp.max = r.u32();
          } else if (kind === 3) { r.byte(); r.byte(); } // global: valtype, mutability
          else throw new Error(`unknown import kind ${kind}`);
          imports.push(imp);
        }
        if (n !== 1) {
          throw new Error(`expected exactly one import (env.memory), found ${n}: ` +
              imports.map((m) => `${m.module}.${m.name}`).join(', '));
        }
        break;
      }
      case 5: throw new Error('the module defines its own memory; it must only import env.memory');
      case 6: {
        const n = r.u32();
        if (n !== 0) {
          throw new Error(`the module has ${n} global(s): a shadow stack or allocator/static ` +
              'state; kernels must be pure functions of their arguments');
        }
        break;
      }
      case 7: {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          const name = r.name(), kind = r.byte();
          r.u32();
          exports.push({name, kind});
        }
        break;
      }
      case 8: throw new Error('the module has a start function');
      case 11: // data
      case 12: { // data count (precedes the code section)
        const n = r.u32();
        if (n !== 0) {
          throw new Error(`the module has ${n} data segment(s): static data would be written ` +
              "into tfjs's heap. Remove strings, constant arrays, Math/Mathf calls (lookup " +
              'tables) and assert messages from kernels/wasm/assembly');
        }
        break;
      }
      default: break;
    }
    r.pos = end;
  }
  const [mem] = imports;
  if (mem == null || mem.module !== 'env' || mem.name !== 'memory' || mem.kind !== 2) {
    throw new Error(`the only import must be memory env.memory, found ${JSON.stringify(mem)}`);
  }
  const isShared = (mem.flags & 2) !== 0;
  if (isShared !== shared) throw new Error(`env.memory shared=${isShared}, expected ${shared}`);
  if (mem.min !== 0) throw new Error(`env.memory declares ${mem.min} initial pages, expected 0`);
  if (shared && mem.max !== SHARED_MAX_PAGES) {
    throw new Error(`shared env.memory maximum ${mem.max}, expected ${SHARED_MAX_PAGES}`);
  }
  if (!shared && mem.max != null) throw new Error(`env.memory declares a maximum (${mem.max})`);
  const bad = exports.filter((e) => e.kind !== 0);
  if (bad.length) throw new Error(`non-function exports: ${bad.map((e) => e.name).join(', ')}`);
  if (exports.length === 0) throw new Error('no exports');
  return {sizes, exports: exports.map((e) => e.name), memory: mem};
}

/** Compiles and instantiates against a memory like the one tfjs uses. */
function instantiateCheck(bytes, {shared}) {
  const module = new WebAssembly.Module(bytes);
  const memory = shared ?
      new WebAssembly.Memory({initial: 256, maximum: SHARED_MAX_PAGES, shared: true}) :
      new WebAssembly.Memory({initial: 256});
  new WebAssembly.Instance(module, {env: {memory}});
  return module;
}

// --- compile --------------------------------------------------------------------

async function compile(variant) {
  const {default: asc} = await import('assemblyscript/asc');
  const outputs = {};
  const stderr = asc.createMemoryStream();
  const stdout = asc.createMemoryStream();
  const args = [relative(ROOT, ENTRY), ...COMMON_ARGS, ...variant.args,
    '--outFile', 'out.wasm', '--textFile', 'out.wat'];
  const {error} = await asc.main(args, {
    stdout, stderr,
    writeFile(name, contents) { outputs[name] = contents; },
    // baseDir defaults to the cwd
    readFile(name, baseDir) {
      const p = resolve(baseDir, name);
      return existsSync(p) ? readFileSync(p, 'utf8') : null;
    },
  });
  const diag = stderr.toString().trim();
  if (error) fail(`asc failed for ${variant.name}:\n${diag || error.message}`);
  if (diag) console.error(diag); // warnings
  const wasm = outputs['out.wasm'];
  if (!(wasm instanceof Uint8Array)) fail(`asc produced no binary for ${variant.name}`);
  return {wasm, wat: outputs['out.wat']};
}

function toBase64(bytes) { return Buffer.from(bytes).toString('base64'); }

function readExisting() {
  if (!existsSync(OUT_TS)) return null;
  const text = readFileSync(OUT_TS, 'utf8');
  const hash = /^\/\/ build-hash: ([0-9a-f]+)$/m.exec(text)?.[1];
  const bins = {};
  for (const v of VARIANTS) {
    const m = new RegExp(`^export const ${v.name} =\\s*'([A-Za-z0-9+/=]*)';$`, 'm').exec(text);
    if (m == null) return null;
    bins[v.name] = new Uint8Array(Buffer.from(m[1], 'base64'));
  }
  return {hash, bins};
}

function render(hash, bins) {
  const lines = [
    '// Generated by tools/build-wasm.mjs from kernels/wasm/assembly/. Do not edit.',
    `// build-hash: ${hash}`,
    `// AssemblyScript ${ascVersion()}: ${COMMON_ARGS.join(' ')}`,
    '',
  ];
  for (const v of VARIANTS) {
    lines.push(`/** ${bins[v.name].length} bytes; env.memory ${v.shared ?
        `shared, maximum ${SHARED_MAX_PAGES} pages` : 'not shared'}. */`);
    lines.push(`export const ${v.name} =\n    '${toBase64(bins[v.name])}';`);
  }
  lines.push('');
  return lines.join('\n');
}

function report(bins, cached) {
  for (const v of VARIANTS) {
    const bytes = bins[v.name];
    const info = checkModule(bytes, v);
    instantiateCheck(bytes, v);
    const code = info.sizes.code ?? 0;
    log(`  ${v.name.padEnd(17)} ${String(bytes.length).padStart(6)} bytes ` +
        `(code ${code}, base64 ${toBase64(bytes).length}); imports env.memory ` +
        `{min ${info.memory.min}${info.memory.max != null ? `, max ${info.memory.max}` : ''}` +
        `${v.shared ? ', shared' : ''}}; no data/start/globals; exports ${info.exports.join(', ')}`);
  }
  log(cached ? 'build-wasm: up to date' : `build-wasm: wrote ${relative(ROOT, OUT_TS)}`);
}

async function main() {
  const t0 = performance.now();
  const hash = buildHash();
  const existing = readExisting();
  if (!FORCE && existing?.hash === hash) {
    try {
      report(existing.bins, true);
    } catch (e) {
      fail(`${relative(ROOT, OUT_TS)}: ${e.message}`);
    }
    log(`build-wasm: ${(performance.now() - t0).toFixed(0)} ms`);
    return;
  }
  mkdirSync(OUT_DIR, {recursive: true});
  const bins = {};
  for (const v of VARIANTS) {
    const {wasm, wat} = await compile(v);
    try {
      checkModule(wasm, v);
    } catch (e) {
      if (typeof wat === 'string') writeFileSync(join(OUT_DIR, `${v.file}.rejected.wat`), wat);
      fail(`${v.name}: ${e.message}`);
    }
    bins[v.name] = wasm;
    writeFileSync(join(OUT_DIR, `${v.file}.wasm`), wasm);
    if (typeof wat === 'string') writeFileSync(join(OUT_DIR, `${v.file}.wat`), wat);
  }
  const text = render(hash, bins);
  if (!existsSync(OUT_TS) || readFileSync(OUT_TS, 'utf8') !== text) writeFileSync(OUT_TS, text);
  try {
    report(bins, false);
  } catch (e) {
    fail(e.message);
  }
  log(`build-wasm: ${(performance.now() - t0).toFixed(0)} ms`);
}

// Run when executed (importing this file only gives checkModule).
if (process.argv[1] != null && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e) => fail(e.stack ?? String(e)));
}
