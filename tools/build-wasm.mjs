#!/usr/bin/env node
/**
 * Builds tfjs-vision-ops' own WebAssembly module from the C sources of
 * kernels/c/ (the same sources the native TensorFlow op library compiles) with
 * clang (Debian clang + lld: `--target=wasm32 -msimd128`), ONE binary that
 * imports the tfjs wasm backend's memory:
 *
 *   WASM_SIMD   env.memory plain (tfjs-backend-wasm(-simd).wasm, Node)
 *
 * and writes kernels/wasm/generated/module_bytes.ts (its base64), plus the
 * .wasm file next to it for inspection. The variant for
 * tfjs-backend-wasm-threaded-simd.wasm (env.memory shared, maximum 65536 pages
 * = 4 GiB: that build declares exactly {initial: INITIAL_MEMORY/65536,
 * maximum: 4294967296/65536, shared: true}) differs only in the memory
 * import's limits, so it is not embedded: kernels/wasm/module.ts derives it at
 * load time with kernels/wasm/shared_memory_variant.ts, which this build runs
 * and checks too (vision_ops_simd_shared.wasm is that derived binary).
 *
 * wasm-ld always emits a shadow-stack global, a function table and a memory
 * import of at least one page; the build drops the global and the table and
 * sets the import's minimum to 0. The result must still validate, which proves
 * that no code uses them: C that needs a shadow stack (a local array, an
 * address-taken local) or a function pointer fails here.
 *
 * The module works in place on memory that belongs to tfjs, so the build FAILS
 * unless the binary has: no data segments (and no data count), no start
 * function, no globals (hence no shadow stack and no allocator state), no own
 * or exported memory, and exactly one import, env.memory, with the expected
 * sharing and limits. The derived shared variant must pass the same checks,
 * differ from the plain binary in the import section only, validate, and
 * compile and instantiate against a shared memory in Node (as the plain one
 * against a plain memory).
 *
 * Idempotent and quick: the output records a hash of the sources, options and
 * this script, and an unchanged build only re-checks the binaries (no compiler
 * needed then). Flags: --force (always recompile), --quiet.
 */
import {spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {dirname, join, relative, resolve} from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC_DIR = join(ROOT, 'kernels/c');
const OUT_DIR = join(ROOT, 'kernels/wasm/generated');
const OUT_TS = join(OUT_DIR, 'module_bytes.ts');
const CONSTANTS_TS = join(ROOT, 'kernels/constants.ts');
/** The C sources' copy of kernels/constants.ts (WASM_CONSTANTS, WASM_I32_CONSTANTS), written before each build. */
const CONSTANTS_H = join(SRC_DIR, 'generated/constants.h');
const VARIANT_TS = join(ROOT, 'kernels/wasm/shared_memory_variant.ts');
const FORCE = process.argv.includes('--force');
const QUIET = process.argv.includes('--quiet');

/** 65536 pages = 4 GiB: the maximum of tfjs's threaded build's shared memory. */
const SHARED_MAX_PAGES = 65536;

/** -ffp-contract=off: no fused multiply-adds natively either, so both builds round alike. */
const CLANG_ARGS = [
  '--target=wasm32', '-O3', '-msimd128', '-std=c11', '-nostdlib', '-ffp-contract=off',
  '-Wall', '-Wextra', '-Werror',
  '-Wl,--no-entry', '-Wl,--import-memory', '-Wl,-z,stack-size=0', '-Wl,--strip-all',
];
/** The embedded binary. */
const PLAIN = {name: 'WASM_SIMD', file: 'vision_ops_simd', shared: false};
/** Derived from PLAIN at load time. */
const SHARED = {name: 'shared variant', file: 'vision_ops_simd_shared', shared: true};

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
    else if (ent.name.endsWith('.c') || ent.name.endsWith('.h')) out.push(p);
  }
  return out.sort();
}

function buildHash() {
  const h = createHash('sha256');
  h.update(`${JSON.stringify(CLANG_ARGS)}\n`);
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
  const sections = [];
  const imports = [];
  const exports = [];
  while (r.pos < bytes.length) {
    const sectionStart = r.pos;
    const id = r.byte();
    const len = r.u32();
    const start = r.pos;
    const end = start + len;
    if (end > bytes.length) throw new Error(`section ${id} runs past the end of the module`);
    sections.push({id, start: sectionStart, end});
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
              "into tfjs's heap. Remove strings, constant arrays and static variables from kernels/c");
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
  return {sizes, sections, exports: exports.map((e) => e.name), memory: mem};
}

/**
 * Throws unless `derived` has the sections of `plain`, in order, byte for byte,
 * except the import section (checked separately by checkModule).
 */
function checkOnlyImportsDiffer(plain, derived) {
  const a = checkModule(plain, {shared: false}).sections;
  const b = checkModule(derived, {shared: true}).sections;
  if (a.length !== b.length || a.some((s, i) => s.id !== b[i].id)) {
    throw new Error('the shared variant does not have the sections of the plain binary');
  }
  if (Buffer.compare(Buffer.from(plain.subarray(0, 8)), Buffer.from(derived.subarray(0, 8))) !== 0) {
    throw new Error('the shared variant has a different header');
  }
  for (let i = 0; i < a.length; i++) {
    if (a[i].id === 2) continue;
    const x = plain.subarray(a[i].start, a[i].end), y = derived.subarray(b[i].start, b[i].end);
    if (Buffer.compare(Buffer.from(x), Buffer.from(y)) !== 0) {
      throw new Error(`the shared variant differs from the plain binary in section ${SECTION_NAMES[a[i].id] ??
          a[i].id}, not only in the import section`);
    }
  }
}

/** Compiles and instantiates against a memory like the one tfjs uses. */
function instantiateCheck(bytes, {shared}) {
  if (!WebAssembly.validate(bytes)) {
    throw new Error(`WebAssembly.validate rejects the ${shared ? 'shared' : 'plain'} binary`);
  }
  const module = new WebAssembly.Module(bytes);
  const memory = shared ?
      new WebAssembly.Memory({initial: 256, maximum: SHARED_MAX_PAGES, shared: true}) :
      new WebAssembly.Memory({initial: 256});
  new WebAssembly.Instance(module, {env: {memory}});
  return module;
}

/**
 * kernels/wasm/shared_memory_variant.ts, the very code module.ts runs at load
 * time (it imports nothing), transpiled by esbuild and imported from a data: URL.
 */
async function loadVariantTransform() {
  const {transformSync} = await import('esbuild');
  const {code} = transformSync(readFileSync(VARIANT_TS, 'utf8'), {loader: 'ts', format: 'esm', target: 'node20'});
  const mod = await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
  if (mod.SHARED_MAX_PAGES !== SHARED_MAX_PAGES) {
    throw new Error(`${relative(ROOT, VARIANT_TS)}: SHARED_MAX_PAGES is ${mod.SHARED_MAX_PAGES}, ` +
        `expected ${SHARED_MAX_PAGES}`);
  }
  return mod.sharedMemoryVariant;
}

/** Bundles kernels/constants.ts (esbuild, packages external) and writes its WASM_(I32_)CONSTANTS for the C sources. */
async function writeConstants() {
  const {buildSync} = await import('esbuild');
  mkdirSync(join(ROOT, '.build'), {recursive: true});
  const bundle = join(ROOT, '.build/wasm-constants.mjs');
  buildSync({entryPoints: [CONSTANTS_TS], bundle: true, packages: 'external', format: 'esm', platform: 'node',
    outfile: bundle, logLevel: 'error'});
  const {WASM_CONSTANTS, WASM_I32_CONSTANTS} = await import(`${pathToFileURL(bundle).href}?${Date.now()}`);
  const line = (type, check, literal) => ([name, value]) => {
    if (!check(value)) fail(`constant ${name} = ${value} is not a ${type}`);
    return `#define ${name} ${literal(value)}`;
  };
  // Doubles printed as JavaScript does (shortest round trip), always with a point or exponent.
  const double = v => (/[.e]/.test(String(v)) ? String(v) : `${v}.0`);
  const lines = [...Object.entries(WASM_CONSTANTS).map(line('f64', Number.isFinite, double)),
    ...Object.entries(WASM_I32_CONSTANTS).map(line('i32', v => Number.isInteger(v) && Math.abs(v) < 2 ** 31, String))];
  const text = `/* Written by tools/build-wasm.mjs from kernels/constants.ts: do not edit. */\n#pragma once\n${lines.join('\n')}\n`;
  mkdirSync(dirname(CONSTANTS_H), {recursive: true});
  if (!existsSync(CONSTANTS_H) || readFileSync(CONSTANTS_H, 'utf8') !== text) writeFileSync(CONSTANTS_H, text);
}

// --- compile --------------------------------------------------------------------

function clangVersion() {
  const r = spawnSync('clang', ['--version'], {encoding: 'utf8'});
  return r.status === 0 ? r.stdout.split('\n')[0].trim() : null;
}

/**
 * wasm-ld's output less its shadow-stack global, function table and custom
 * sections, with env.memory's minimum set to 0 (see the header comment).
 */
function finishLinked(bytes) {
  const r = reader(bytes);
  const parts = [bytes.subarray(0, 8)];
  r.pos = 8;
  while (r.pos < bytes.length) {
    const start = r.pos;
    const id = r.byte();
    const len = r.u32();
    const end = r.pos + len;
    if (id === 2) {
      const n = r.u32();
      const imp = {module: r.name(), name: r.name(), kind: r.byte()};
      if (n !== 1 || imp.module !== 'env' || imp.name !== 'memory' || imp.kind !== 2) {
        throw new Error(`expected the one import env.memory, found ${n} starting with ${JSON.stringify(imp)}`);
      }
      const body = [1, 3, ...Buffer.from('env'), 6, ...Buffer.from('memory'), 2, 0x00, 0x00];
      parts.push(Uint8Array.from([2, body.length, ...body]));
    } else if (id === 9) {
      throw new Error('the module has an element segment (function pointers): kernels must call functions directly');
    } else if (id !== 0 && id !== 4 && id !== 6) {
      parts.push(bytes.subarray(start, end));
    }
    r.pos = end;
  }
  const out = new Uint8Array(Buffer.concat(parts.map(p => Buffer.from(p))));
  if (!WebAssembly.validate(out)) {
    throw new Error('the module does not validate without its shadow-stack global and table: some C code ' +
        'needs a shadow stack (a local array or an address-taken local) or an indirect call');
  }
  return out;
}

function compile() {
  const version = clangVersion();
  if (version == null) {
    fail('clang is needed to build the wasm module from kernels/c (Debian: apt-get install -y clang lld); ' +
        '`npm test` installs it when it runs as root');
  }
  const tmp = join(ROOT, '.build/wasm');
  mkdirSync(tmp, {recursive: true});
  const linked = join(tmp, 'linked.wasm');
  const sources = sourceFiles(SRC_DIR).filter(f => f.endsWith('.c'));
  const r = spawnSync('clang', [...CLANG_ARGS, '-I', SRC_DIR, '-o', linked, ...sources], {encoding: 'utf8'});
  if (r.status !== 0) fail(`clang failed:\n${(r.stderr || String(r.error)).trim()}`);
  if (r.stderr.trim()) console.error(r.stderr.trim());
  try {
    return {wasm: finishLinked(new Uint8Array(readFileSync(linked))), version};
  } catch (e) {
    fail(`${relative(ROOT, linked)}: ${e.message}`);
  }
}

function toBase64(bytes) { return Buffer.from(bytes).toString('base64'); }

function readExisting() {
  if (!existsSync(OUT_TS)) return null;
  const text = readFileSync(OUT_TS, 'utf8');
  const hash = /^\/\/ build-hash: ([0-9a-f]+)$/m.exec(text)?.[1];
  const m = new RegExp(`^export const ${PLAIN.name}: string =\\s*'([A-Za-z0-9+/=]*)';$`, 'm').exec(text);
  if (m == null) return null;
  return {hash, plain: new Uint8Array(Buffer.from(m[1], 'base64'))};
}

function render(hash, plain, version) {
  return [
    '// Generated by tools/build-wasm.mjs from kernels/c/. Do not edit.',
    `// build-hash: ${hash}`,
    `// ${version}: clang ${CLANG_ARGS.join(' ')}`,
    '',
    `/** ${plain.length} bytes; env.memory not shared (the shared variant is derived: ../shared_memory_variant.ts). */`,
    // Typed `string`: the declaration files then do not repeat the bytes as a literal type.
    `export const ${PLAIN.name}: string =\n    '${toBase64(plain)}';`,
    '',
  ].join('\n');
}

/** Checks the plain binary, derives and checks the shared one; returns it. */
function checkAll(plain, sharedMemoryVariant) {
  let shared;
  try {
    checkModule(plain, PLAIN);
    instantiateCheck(plain, PLAIN);
  } catch (e) {
    throw new Error(`${PLAIN.name}: ${e.message}`);
  }
  try {
    shared = sharedMemoryVariant(plain);
    checkModule(shared, SHARED);
    checkOnlyImportsDiffer(plain, shared);
    instantiateCheck(shared, SHARED);
  } catch (e) {
    throw new Error(`${SHARED.name} (derived by ${relative(ROOT, VARIANT_TS)}): ${e.message}`);
  }
  return shared;
}

function report(bins, cached) {
  for (const [v, bytes] of [[PLAIN, bins.plain], [SHARED, bins.shared]]) {
    const info = checkModule(bytes, v);
    const code = info.sizes.code ?? 0;
    log(`  ${v.name.padEnd(15)} ${String(bytes.length).padStart(6)} bytes ` +
        `(code ${code}${v.shared ? ', derived at load time, not embedded' : `, base64 ${toBase64(bytes).length}`}); ` +
        `imports env.memory {min ${info.memory.min}${info.memory.max != null ? `, max ${info.memory.max}` : ''}` +
        `${v.shared ? ', shared' : ''}}; no data/start/globals; exports ${info.exports.join(', ')}`);
  }
  log(cached ? 'build-wasm: up to date' : `build-wasm: wrote ${relative(ROOT, OUT_TS)}`);
}

async function main() {
  const t0 = performance.now();
  await writeConstants();
  const hash = buildHash();
  const existing = readExisting();
  let sharedMemoryVariant;
  try {
    sharedMemoryVariant = await loadVariantTransform();
  } catch (e) {
    fail(`loading ${relative(ROOT, VARIANT_TS)}: ${e.message}`);
  }
  if (!FORCE && existing?.hash === hash) {
    let shared;
    try {
      shared = checkAll(existing.plain, sharedMemoryVariant);
      report({plain: existing.plain, shared}, true);
    } catch (e) {
      fail(`${relative(ROOT, OUT_TS)}: ${e.message}`);
    }
    log(`build-wasm: ${(performance.now() - t0).toFixed(0)} ms`);
    return;
  }
  mkdirSync(OUT_DIR, {recursive: true});
  const {wasm: plain, version} = compile();
  let shared;
  try {
    shared = checkAll(plain, sharedMemoryVariant);
  } catch (e) {
    fail(e.message);
  }
  writeFileSync(join(OUT_DIR, `${PLAIN.file}.wasm`), plain);
  writeFileSync(join(OUT_DIR, `${SHARED.file}.wasm`), shared);
  // Left by the AssemblyScript builds.
  for (const old of ['constants.ts', `${PLAIN.file}.wat`, `${SHARED.file}.wat`]) rmSync(join(OUT_DIR, old), {force: true});
  const text = render(hash, plain, version);
  if (!existsSync(OUT_TS) || readFileSync(OUT_TS, 'utf8') !== text) writeFileSync(OUT_TS, text);
  report({plain, shared}, false);
  log(`build-wasm: ${(performance.now() - t0).toFixed(0)} ms`);
}

// Run when executed (importing this file only gives checkModule).
if (process.argv[1] != null && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e) => fail(e.stack ?? String(e)));
}
