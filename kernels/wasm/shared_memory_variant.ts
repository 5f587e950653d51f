/**
 * The shared-memory variant of a wasm binary, derived from the plain one by
 * rewriting its memory import's limits: the only difference between our
 * module for tfjs-backend-wasm(-simd).wasm and for
 * tfjs-backend-wasm-threaded-simd.wasm (whose memory is declared
 * {maximum: 65536 pages, shared: true}). One binary is embedded; this runs
 * once at load time (tools/build-wasm.mjs runs and checks it at build time).
 *
 * Wasm binary format (core spec 5.5): after the 8-byte header, sections are
 * `id:u8 size:u32leb contents`; the import section (id 2) is
 * `count:u32leb (module:name field:name kind:u8 desc)*`, a memory import
 * (kind 2) has limits `flags:u8 min:u32leb [max:u32leb]` with flags 0x00 (min),
 * 0x01 (min, max), 0x03 (min, max, shared). Nothing here imports anything:
 * the build loads this file on its own.
 */

/** 65536 pages = 4 GiB: the maximum tfjs-backend-wasm-threaded-simd declares for its shared memory. */
export const SHARED_MAX_PAGES = 65536;

const IMPORT_SECTION = 2;
const KIND_FUNC = 0, KIND_TABLE = 1, KIND_MEMORY = 2, KIND_GLOBAL = 3, KIND_TAG = 4;
const FLAG_HAS_MAX = 0x01, FLAG_SHARED = 0x02;
const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** The limits of a memory import and where they lie in the binary. */
export interface MemoryImport {
  module: string;
  name: string;
  flags: number;
  shared: boolean;
  min: number;
  max: number|null;
  /** Where the import section's size (u32 LEB128) starts. */
  sizeStart: number;
  /** Byte range of the import section's contents (after its size). */
  sectionStart: number;
  sectionEnd: number;
  /** Byte range of the limits (flags, min, max). */
  limitsStart: number;
  limitsEnd: number;
}

class Reader {
  pos: number;
  constructor(readonly bytes: Uint8Array, pos = 0, readonly end = bytes.length) {
    this.pos = pos;
  }
  byte(): number {
    if (this.pos >= this.end) throw new Error('wasm: unexpected end of module');
    return this.bytes[this.pos++];
  }
  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) throw new Error('wasm: u32 LEB128 out of range');
        return result;
      }
    }
    throw new Error('wasm: u32 LEB128 longer than 5 bytes');
  }
  skip(n: number) {
    if (this.pos + n > this.end) throw new Error('wasm: unexpected end of module');
    this.pos += n;
  }
  name(): string {
    const n = this.u32();
    const start = this.pos;
    this.skip(n);
    let s = '';
    for (let i = start; i < this.pos; i++) s += String.fromCharCode(this.bytes[i]);
    // UTF-8 names decode byte-wise here: good enough to match 'env'/'memory' and for messages.
    return s;
  }
}

/** Unsigned LEB128, canonical (shortest) encoding. */
export function encodeU32(value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new Error(`wasm: ${value} is not a u32`);
  }
  const out: number[] = [];
  do {
    let b = value % 128;
    value = Math.floor(value / 128);
    if (value !== 0) b |= 0x80;
    out.push(b);
  } while (value !== 0);
  return out;
}

function skipLimits(r: Reader) {
  const flags = r.byte();
  r.u32();
  if (flags & FLAG_HAS_MAX) r.u32();
}

/**
 * The binary's single memory import (throws when there is none, more than one,
 * or a memory64 one), parsed from its import section.
 */
export function readMemoryImport(bytes: Uint8Array): MemoryImport {
  const r = new Reader(bytes);
  for (const b of HEADER) if (r.byte() !== b) throw new Error('wasm: not a wasm 1.0 binary');
  let found: MemoryImport|null = null;
  let sawImports = false;
  while (r.pos < bytes.length) {
    const id = r.byte();
    const sizeStart = r.pos;
    const size = r.u32();
    const start = r.pos;
    r.skip(size);
    if (id !== IMPORT_SECTION) continue;
    if (sawImports) throw new Error('wasm: more than one import section');
    sawImports = true;
    const s = new Reader(bytes, start, start + size);
    const count = s.u32();
    for (let i = 0; i < count; i++) {
      const module = s.name(), name = s.name(), kind = s.byte();
      if (kind === KIND_FUNC) {
        s.u32();
      } else if (kind === KIND_TABLE) {
        s.byte(); // reftype
        skipLimits(s);
      } else if (kind === KIND_MEMORY) {
        const limitsStart = s.pos;
        const flags = s.byte();
        if (flags & ~(FLAG_HAS_MAX | FLAG_SHARED)) {
          throw new Error(`wasm: memory import ${module}.${name} has limits flags 0x${flags.toString(16)} ` +
              '(memory64 or unknown); only 32-bit memories are supported');
        }
        const min = s.u32();
        const max = flags & FLAG_HAS_MAX ? s.u32() : null;
        if (found != null) throw new Error('wasm: more than one memory import');
        found = {module, name, flags, shared: (flags & FLAG_SHARED) !== 0, min, max, sizeStart,
          sectionStart: start, sectionEnd: start + size, limitsStart, limitsEnd: s.pos};
      } else if (kind === KIND_GLOBAL) {
        s.byte(); // valtype
        s.byte(); // mutability
      } else if (kind === KIND_TAG) {
        s.byte(); // attribute
        s.u32(); // type index
      } else {
        throw new Error(`wasm: unknown import kind ${kind}`);
      }
    }
    if (s.pos !== s.end) throw new Error('wasm: import section size mismatch');
  }
  if (found == null) throw new Error('wasm: the module imports no memory');
  return found;
}

/**
 * The same binary with its (non-shared) memory import turned into
 * `shared, maximum maxPages` (limits flags 0x03), the import section's size
 * re-encoded. Every other byte is kept. Throws if the memory is already shared,
 * if its minimum exceeds maxPages, or on a malformed binary.
 */
export function sharedMemoryVariant(bytes: Uint8Array, maxPages: number = SHARED_MAX_PAGES): Uint8Array {
  if (!Number.isInteger(maxPages) || maxPages < 1 || maxPages > 65536) {
    throw new Error(`wasm: maximum ${maxPages} pages is not a 32-bit memory's maximum`);
  }
  const mem = readMemoryImport(bytes);
  if (mem.shared) throw new Error(`wasm: memory import ${mem.module}.${mem.name} is already shared`);
  if (mem.min > maxPages) {
    throw new Error(`wasm: memory import ${mem.module}.${mem.name} needs ${mem.min} pages, over the ` +
        `shared maximum ${maxPages}`);
  }
  const limits = [FLAG_HAS_MAX | FLAG_SHARED, ...encodeU32(mem.min), ...encodeU32(maxPages)];
  const oldSize = mem.sectionEnd - mem.sectionStart;
  const newSize = oldSize - (mem.limitsEnd - mem.limitsStart) + limits.length;
  const {sizeStart} = mem;
  const sizeBytes = encodeU32(newSize);
  const out = new Uint8Array(
      bytes.length - (mem.sectionStart - sizeStart) + sizeBytes.length - oldSize + newSize);
  let o = 0;
  const put = (chunk: ArrayLike<number>) => {
    out.set(chunk, o);
    o += chunk.length;
  };
  put(bytes.subarray(0, sizeStart));
  put(sizeBytes);
  put(bytes.subarray(mem.sectionStart, mem.limitsStart));
  put(limits);
  put(bytes.subarray(mem.limitsEnd));
  if (o !== out.length) throw new Error('wasm: internal error rewriting the import section');
  return out;
}
