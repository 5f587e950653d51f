/**
 * Our WebAssembly module's plumbing, on every backend (pure: no fs, runs in
 * Node and in Chromium): the shared-memory variant derived from the one
 * embedded binary, and the start-up check of the tfjs-backend-wasm internals
 * the wasm kernels rely on.
 */
import {version_wasm} from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import {WASM_SIMD} from '../kernels/wasm/generated/module_bytes';
import {checkWasmBackend, visionOpsWasm, wasmReady, WasmBackendLike} from '../kernels/wasm/module';
import {
  encodeU32, readMemoryImport, SHARED_MAX_PAGES, sharedMemoryVariant,
} from '../kernels/wasm/shared_memory_variant';
import {expectThrows} from './support/helpers';

/** sharedMemoryVariant's result, typed for the WebAssembly API (it is a fresh Uint8Array). */
const deriveShared = (bytes: Uint8Array, maxPages?: number) =>
  sharedMemoryVariant(bytes, maxPages) as Uint8Array<ArrayBuffer>;

// --- building small modules by hand (independently of the code under test) ---

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

function leb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n === 0) return [...out, b];
    out.push(b | 0x80);
  }
}
const str = (s: string) => [...leb(s.length), ...Array.from(s, c => c.charCodeAt(0))];
const section = (id: number, contents: number[]) => [id, ...leb(contents.length), ...contents];
const wasm = (...sections: number[][]) => new Uint8Array([...HEADER, ...sections.flat()]);
const memoryImport = (module: string, name: string, limits: number[]) =>
  [...str(module), ...str(name), 0x02, ...limits];
const importSection = (...entries: number[][]) => section(2, [...leb(entries.length), ...entries.flat()]);

/** [id, contents] of each section (a second, deliberately simple parser). */
function sections(bytes: Uint8Array): Array<[number, Uint8Array]> {
  const out: Array<[number, Uint8Array]> = [];
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos++];
    let size = 0, shift = 0, b;
    do {
      b = bytes[pos++];
      size += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    out.push([id, bytes.subarray(pos, pos + size)]);
    pos += size;
  }
  if (pos !== bytes.length) throw new Error('section sizes overrun the module');
  return out;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  return Uint8Array.from(bin, c => c.charCodeAt(0));
}

/** A shared memory like tfjs-backend-wasm-threaded-simd's, or null where the platform refuses one. */
function sharedMemory(initial: number): WebAssembly.Memory|null {
  try {
    const descriptor = {initial, maximum: SHARED_MAX_PAGES, shared: true};
    const m = new WebAssembly.Memory(descriptor as WebAssembly.MemoryDescriptor);
    return m.buffer.constructor.name === 'SharedArrayBuffer' ? m : null;
  } catch {
    return null;
  }
}

async function linkError(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<boolean> {
  try {
    await WebAssembly.instantiate(module, {env: {memory}});
    return false;
  } catch (e) {
    return e instanceof WebAssembly.LinkError;
  }
}

describe('wasm module: shared-memory variant', () => {
  it('encodes u32 LEB128 canonically', () => {
    for (const n of [0, 1, 127, 128, 300, 16383, 16384, 65536, 2 ** 32 - 1]) {
      expect(encodeU32(n)).toEqual(leb(n));
    }
    expect(encodeU32(65536)).toEqual([0x80, 0x80, 0x04]);
    expectThrows(() => encodeU32(-1), /not a u32/);
    expectThrows(() => encodeU32(2 ** 32), /not a u32/);
  });

  it('rewrites a plain memory import to shared with maximum 65536 pages, keeping every other byte', () => {
    const custom = section(0, [...str('note'), 1, 2, 3]);
    const plain = wasm(importSection(memoryImport('env', 'memory', [0x00, 0x01])), custom);
    const shared = deriveShared(plain);
    expect(Array.from(shared)).toEqual(Array.from(wasm(
        importSection(memoryImport('env', 'memory', [0x03, 0x01, 0x80, 0x80, 0x04])), custom)));
    const mem = readMemoryImport(shared);
    expect([mem.module, mem.name, mem.flags, mem.shared, mem.min, mem.max])
        .toEqual(['env', 'memory', 3, true, 1, 65536]);
    expect(WebAssembly.validate(shared)).toBe(true);
  });

  it('replaces an existing maximum and keeps a multi-byte minimum', () => {
    const plain = wasm(importSection(memoryImport('env', 'memory', [0x01, ...leb(300), ...leb(400)])));
    expect(Array.from(deriveShared(plain))).toEqual(Array.from(wasm(
        importSection(memoryImport('env', 'memory', [0x03, ...leb(300), ...leb(65536)])))));
    expect(readMemoryImport(deriveShared(plain, 512)).max).toBe(512);
  });

  it('re-encodes the import section size when it crosses a LEB128 byte boundary', () => {
    // Contents 9 + 118 = 127 bytes (size: 1 byte), 130 bytes once shared (size: 2 bytes).
    const longName = 'm'.repeat(118);
    const plain = wasm(importSection(memoryImport('env', longName, [0x00, 0x00])));
    expect(sections(plain)[0][1].length).toBe(127);
    const shared = deriveShared(plain);
    expect(shared.length).toBe(plain.length + 4);
    expect(Array.from(shared.subarray(8, 11))).toEqual([0x02, 0x82, 0x01]); // id 2, size 130
    expect(Array.from(shared)).toEqual(Array.from(wasm(
        importSection(memoryImport('env', longName, [0x03, 0x00, 0x80, 0x80, 0x04])))));
    expect(WebAssembly.validate(shared)).toBe(true);
    const memory = sharedMemory(1);
    if (memory != null) new WebAssembly.Instance(new WebAssembly.Module(shared), {env: {[longName]: memory}});
  });

  it('skips function, table and global imports around the memory and keeps the code', async () => {
    const type = section(1, [1, 0x60, 0, 1, 0x7f]); // () -> i32
    const imports = importSection(
        [...str('env'), ...str('f'), 0x00, 0x00],                 // func, type 0
        [...str('env'), ...str('t'), 0x01, 0x70, 0x00, 0x00],     // table funcref {min 0}
        memoryImport('env', 'memory', [0x00, 0x01]),
        [...str('env'), ...str('g'), 0x03, 0x7f, 0x00]);          // global const i32
    const funcs = section(3, [1, 0]);
    const exps = section(7, [1, ...str('load'), 0x00, 0x01]);     // function 1 (0 is the import)
    const code = section(10, [1, ...leb(7), 0, 0x41, 8, 0x28, 2, 0, 0x0b]); // i32.load (i32.const 8)
    const plain = wasm(type, imports, funcs, exps, code);
    expect(WebAssembly.validate(plain)).toBe(true);
    const shared = deriveShared(plain);
    expect(WebAssembly.validate(shared)).toBe(true);
    const [a, b] = [sections(plain), sections(shared)];
    expect(b.map(s => s[0])).toEqual(a.map(s => s[0]));
    for (let i = 0; i < a.length; i++) if (a[i][0] !== 2) expect(same(a[i][1], b[i][1])).toBe(true);
    const memory = sharedMemory(1);
    if (memory != null) {
      new Int32Array(memory.buffer)[2] = 1234;
      const table = new WebAssembly.Table({initial: 0, element: 'anyfunc'});
      const {instance} = await WebAssembly.instantiate(shared, {env: {f: () => 0, t: table, g: 0, memory}});
      expect((instance.exports.load as () => number)()).toBe(1234);
    }
  });

  it('rejects what it cannot rewrite', () => {
    const mem = (limits: number[]) => wasm(importSection(memoryImport('env', 'memory', limits)));
    expectThrows(() => deriveShared(new Uint8Array([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0])),
        /not a wasm 1\.0 binary/);
    expectThrows(() => deriveShared(wasm()), /imports no memory/);
    expectThrows(() => deriveShared(wasm(importSection([...str('env'), ...str('f'), 0x00, 0x00]))),
        /imports no memory/);
    expectThrows(() => deriveShared(mem([0x03, 0x00, 0x80, 0x80, 0x04])), /already shared/);
    expectThrows(() => deriveShared(mem([0x04, 0x00])), /memory64/);
    expectThrows(() => deriveShared(mem([0x00, ...leb(65537)])), /over the shared maximum 65536/);
    expectThrows(() => deriveShared(mem([0x00, 0x01]).subarray(0, 20)), /unexpected end/);
    expectThrows(() => deriveShared(mem([0x00, 0x01]), 65537), /maximum 65537 pages/);
    expectThrows(() => deriveShared(wasm(
        importSection(memoryImport('env', 'a', [0x00, 0x00]), memoryImport('env', 'b', [0x00, 0x00])))),
    /more than one memory import/);
  });

  it('derives from the embedded binary a shared variant that differs only in the memory import', async () => {
    const plain = decodeBase64(WASM_SIMD);
    const before = readMemoryImport(plain);
    expect([before.module, before.name, before.shared, before.min, before.max])
        .toEqual(['env', 'memory', false, 0, null]);
    const shared = deriveShared(plain);
    const after = readMemoryImport(shared);
    expect([after.module, after.name, after.flags, after.min, after.max]).toEqual(['env', 'memory', 0x03, 0, 65536]);
    // Every section byte for byte, except the import section, where only the limits differ.
    const [a, b] = [sections(plain), sections(shared)];
    expect(b.map(s => s[0])).toEqual(a.map(s => s[0]));
    for (let i = 0; i < a.length; i++) {
      if (a[i][0] !== 2) {
        expect(same(a[i][1], b[i][1])).toBe(true);
        continue;
      }
      const limitsAt = before.limitsStart - before.sectionStart;
      expect(same(a[i][1].subarray(0, limitsAt), b[i][1].subarray(0, limitsAt))).toBe(true);
      expect(Array.from(b[i][1].subarray(limitsAt))).toEqual([0x03, 0x00, 0x80, 0x80, 0x04]);
      expect(Array.from(a[i][1].subarray(limitsAt))).toEqual([0x00, 0x00]);
    }
    expect(WebAssembly.validate(shared)).toBe(true);
    const [mp, ms] = await Promise.all([WebAssembly.compile(plain), WebAssembly.compile(shared)]);
    expect(WebAssembly.Module.imports(ms)).toEqual([{module: 'env', name: 'memory', kind: 'memory'}]);
    expect(WebAssembly.Module.exports(ms)).toEqual(WebAssembly.Module.exports(mp));

    const plainMemory = new WebAssembly.Memory({initial: 1});
    expect(await linkError(ms, plainMemory)).toBe(true);
    const memory = sharedMemory(1);
    if (memory == null) return; // no shared memories here (Chromium without cross-origin isolation)
    expect(await linkError(mp, memory)).toBe(true);
    // The same kernel on both memories gives the same bits.
    const run = async (module: WebAssembly.Module, m: WebAssembly.Memory) => {
      const {exports} = await WebAssembly.instantiate(module, {env: {memory: m}}) as unknown as
          {exports: {sigmoid_focal_loss(x: number, t: number, out: number, n: number, a: number, g: number): void}};
      const f = new Float32Array(m.buffer);
      f.set([-3, -0.5, 0, 0.25, 2, 7, -1, 4], 256);
      f.set([0, 1, 1, 0, 1, 0, 0.5, 1], 512);
      exports.sigmoid_focal_loss(1024, 2048, 4096, 8, 0.25, 2);
      return Array.from(f.subarray(1024, 1032));
    };
    const got = await run(ms, memory);
    expect(got).toEqual(await run(mp, plainMemory));
    expect(got.every(v => Number.isFinite(v) && v >= 0) && got.some(v => v > 0)).toBe(true);
  });
});

describe('wasm module: tfjs-backend-wasm internals check', () => {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const versionPattern = new RegExp(`@tensorflow/tfjs-backend-wasm ${escape(version_wasm)} lacks`);

  /** A backend object with the internals the kernels use, on a memory of its own. */
  function fakeBackend() {
    const memory = new WebAssembly.Memory({initial: 1});
    const map = new Map<object, {memoryOffset: unknown}>();
    const disposed: object[] = [];
    const backend = {
      wasm: {asm: {memory}} as Record<string, unknown>,
      dataIdMap: map as unknown,
      makeOutput(_shape: number[], _dtype: string) {
        const dataId = {};
        map.set(dataId, {memoryOffset: 64});
        return {dataId, shape: [1], dtype: 'float32'};
      },
      disposeData(dataId: object) {
        disposed.push(dataId);
        return map.delete(dataId);
      },
    };
    return {backend, map, disposed};
  }

  it('accepts a backend with every internal, and leaves no data behind', () => {
    const {backend, map, disposed} = fakeBackend();
    checkWasmBackend(backend);
    expect(map.size).toBe(0);
    expect(disposed.length).toBe(1);
    backend.wasm = {wasmMemory: new WebAssembly.Memory({initial: 1})}; // the threaded build's place
    checkWasmBackend(backend);
  });

  it('names the tfjs-backend-wasm version and the missing memory (backend.wasm.asm.memory)', async () => {
    const {backend} = fakeBackend();
    backend.wasm = {asm: {}};
    expectThrows(() => checkWasmBackend(backend), versionPattern, /backend\.wasm\.asm\.memory/,
        /backend\.wasm\.wasmMemory/);
    expectThrows(() => checkWasmBackend(backend, '9.8.7'), /tfjs-backend-wasm 9\.8\.7 lacks/);
    // The kernels' entry points give the same Error, not a TypeError.
    expectThrows(() => visionOpsWasm(backend as unknown as WasmBackendLike), versionPattern,
        /backend\.wasm\.asm\.memory/);
    let error: unknown = null;
    try {
      await wasmReady(backend);
    } catch (e) {
      error = e;
    }
    expect(error instanceof Error && versionPattern.test(error.message) &&
        /backend\.wasm\.asm\.memory/.test(error.message)).toBe(true);
  });

  it('names each other internal that is missing or changed', () => {
    const cases: Array<[(b: Record<string, unknown>) => void, RegExp]> = [
      [b => { b.wasm = null; }, /backend\.wasm,/],
      [b => { b.dataIdMap = {}; }, /backend\.dataIdMap\.get\(\)/],
      [b => { delete b.makeOutput; }, /backend\.makeOutput\(\)/],
      [b => { delete b.disposeData; }, /backend\.disposeData\(\)/],
    ];
    for (const [change, pattern] of cases) {
      const {backend} = fakeBackend();
      change(backend as unknown as Record<string, unknown>);
      expectThrows(() => checkWasmBackend(backend), versionPattern, pattern);
    }
    const {backend, map, disposed} = fakeBackend();
    backend.makeOutput = (shape: number[]) => {
      const dataId = {};
      map.set(dataId, {memoryOffset: {offset: 64}} as unknown as {memoryOffset: number}); // a renamed field
      return {dataId, shape, dtype: 'float32'};
    };
    expectThrows(() => checkWasmBackend(backend), versionPattern, /backend\.dataIdMap\.get\(dataId\)\.memoryOffset/);
    expect(disposed.length).toBe(1); // the probe tensor is freed even then
    expectThrows(() => checkWasmBackend(null), versionPattern, /a backend object/);
  });

  it('passes on the real wasm backend', () => {
    if (tf.getBackend() !== 'wasm') return;
    const before = tf.backend().numDataIds();
    checkWasmBackend(tf.backend());
    expect(tf.backend().numDataIds()).toBe(before);
  });
});
