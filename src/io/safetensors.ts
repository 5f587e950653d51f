/**
 * The safetensors format (https://github.com/huggingface/safetensors), read
 * without dependencies: an 8-byte little-endian header length n, n bytes of
 * UTF-8 JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {...}},
 * then the raw little-endian tensor bytes (offsets relative to the data start).
 * Floats become float32 (F16, BF16 and F64 converted), integers int32 (I64
 * and U32 must fit), BOOL bool.
 *
 * Nothing in the file is trusted: the header is parsed by a strict JSON reader
 * (duplicate keys, invalid UTF-8 and deep nesting are errors) and checked
 * against the format before any tensor byte is read; every failure is an Error
 * whose message starts with 'parseSafetensors:' and names the tensor and the
 * field.
 */
import {Json, JsonNumber, describeJson, parseStrictJson, quote} from './strict_json.ts';
import {f16ToF32} from './float16.ts';

const FORMAT = 'parseSafetensors';

/** The largest header accepted, in bytes (the reference implementation's limit). */
const MAX_HEADER_BYTES = 100_000_000;
/** A safetensors header nests 3 levels (object, entry, shape array); deeper JSON is refused early. */
const MAX_DEPTH = 8;

/** A tensor of a state_dict in host memory, in torch's layout. */
export interface HostTensor {
  /** torch's shape. */
  shape: number[];
  /** Floats are float32, integers int32, BOOL bool. */
  dtype: 'float32'|'int32'|'bool';
  /** The values in row-major order (Uint8Array 0/1 for bool). */
  values: Float32Array|Int32Array|Uint8Array;
  /** The safetensors dtype it was stored as ('F32', 'I64', ...). */
  sourceDtype: string;
}

/** The contents of a .safetensors file. */
export interface Safetensors {
  /**
   * The tensors by name (state_dict keys), in header order. A null-prototype
   * object: every name, '__proto__' and 'constructor' included, is an own
   * key, and no key is inherited (use `Object.keys`, `in` or `tensors[name]`).
   */
  tensors: Record<string, HostTensor>;
  /** The header's "__metadata__" (string to string; empty when absent), a null-prototype object. */
  metadata: Record<string, string>;
}

const BYTES = new Map<string, number>([
  ['F64', 8], ['F32', 4], ['F16', 2], ['BF16', 2], ['I64', 8], ['I32', 4], ['I16', 2], ['I8', 1],
  ['U64', 8], ['U32', 4], ['U16', 2], ['U8', 1], ['BOOL', 1],
]);
const FIELDS = ['dtype', 'shape', 'data_offsets'];

function fail(message: string): never {
  throw new Error(`${FORMAT}: ${message}`);
}

/** A non-negative integer field of the header (written as plain digits, at most 2^53 - 1). */
function index(v: Json, where: string): number {
  if (!(v instanceof JsonNumber) || !/^[0-9]+$/.test(v.text) || !Number.isSafeInteger(v.value)) {
    fail(`${where} is ${describeJson(v)}, not a non-negative integer (at most 2^53 - 1)`);
  }
  return v.value;
}

interface Entry { name: string; dtype: string; shape: number[]; count: number; begin: number; end: number; }

function checkEntry(name: string, raw: Json, dataLength: number): Entry {
  const what = `tensor ${quote(name)}`;
  if (!(raw instanceof Map)) fail(`${what} is ${describeJson(raw)}, not an object {dtype, shape, data_offsets}`);
  for (const key of raw.keys()) {
    if (!FIELDS.includes(key)) fail(`${what} has the unknown field ${quote(key)} (a tensor has dtype, shape, data_offsets)`);
  }
  for (const key of FIELDS) if (!raw.has(key)) fail(`${what} is missing the field '${key}'`);
  const dtype = raw.get('dtype')!;
  if (typeof dtype !== 'string') fail(`${what} has dtype ${describeJson(dtype)}, not a string`);
  const size = BYTES.get(dtype);
  if (size == null) {
    fail(`${what} has unsupported dtype ${quote(dtype).replace(/^'|'$/g, '"')} (supported: ${[...BYTES.keys()].join(', ')})`);
  }
  const rawShape = raw.get('shape')!;
  if (!Array.isArray(rawShape)) fail(`${what} has shape ${describeJson(rawShape)}, not an array`);
  const shape = rawShape.map((d, i) => index(d, `${what} shape[${i}]`));
  let count = 1;
  for (const d of shape) {
    count *= d;
    if (!Number.isSafeInteger(count)) fail(`${what} has shape [${shape}], whose element count overflows 2^53 - 1`);
  }
  const bytes = count * size;
  if (!Number.isSafeInteger(bytes)) fail(`${what} has shape [${shape}], whose ${dtype} byte size overflows 2^53 - 1`);
  const offsets = raw.get('data_offsets')!;
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    fail(`${what} has data_offsets ${describeJson(offsets)}, not an array [begin, end]`);
  }
  const begin = index(offsets[0], `${what} data_offsets[0]`);
  const end = index(offsets[1], `${what} data_offsets[1]`);
  if (begin > end) fail(`${what} has data_offsets [${begin}, ${end}]: begin is after end`);
  if (end > dataLength) fail(`${what} has data_offsets [${begin}, ${end}] past the ${dataLength} data bytes`);
  if (end - begin !== bytes) {
    fail(`${what} has data_offsets [${begin}, ${end}] (${end - begin} bytes), but ${dtype} [${shape}] takes ${bytes} bytes`);
  }
  return {name, dtype, shape, count, begin, end};
}

function decode(name: string, dtype: string, view: DataView, count: number): HostTensor['values'] {
  const size = BYTES.get(dtype)!;
  if (dtype === 'BOOL') {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) {
      const b = view.getUint8(i);
      if (b > 1) fail(`tensor ${quote(name)} (BOOL) has byte ${b} at element ${i}; BOOL bytes are 0 or 1`);
      out[i] = b;
    }
    return out;
  }
  if (dtype.startsWith('F') || dtype === 'BF16') {
    const floats = new Float32Array(count);
    const scratch = new DataView(new ArrayBuffer(4));
    for (let i = 0; i < count; i++) {
      const o = i * size;
      switch (dtype) {
        case 'F32': floats[i] = view.getFloat32(o, true); break;
        case 'F64': floats[i] = view.getFloat64(o, true); break;
        case 'F16': floats[i] = f16ToF32(view.getUint16(o, true)); break;
        default:  // BF16
          scratch.setUint32(0, (view.getUint16(o, true) << 16) >>> 0);
          floats[i] = scratch.getFloat32(0);
      }
    }
    return floats;
  }
  const ints = new Int32Array(count);
  const integer = (v: number|bigint, i: number) => {
    if (v > 2147483647 || v < -2147483648) fail(`tensor ${quote(name)} (${dtype}) has ${v} at element ${i}, outside int32`);
    return Number(v);
  };
  for (let i = 0; i < count; i++) {
    const o = i * size;
    switch (dtype) {
      case 'I64': ints[i] = integer(view.getBigInt64(o, true), i); break;
      case 'U64': ints[i] = integer(view.getBigUint64(o, true), i); break;
      case 'I32': ints[i] = view.getInt32(o, true); break;
      case 'U32': ints[i] = integer(view.getUint32(o, true), i); break;
      case 'I16': ints[i] = view.getInt16(o, true); break;
      case 'U16': ints[i] = view.getUint16(o, true); break;
      case 'I8': ints[i] = view.getInt8(o); break;
      default: ints[i] = view.getUint8(o); break;  // U8
    }
  }
  return ints;
}

function bytesOf(source: unknown): Uint8Array {
  const tag = Object.prototype.toString.call(source);
  if (tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]') return new Uint8Array(source as ArrayBuffer);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  const got = source === null ? 'null' : Array.isArray(source) ? 'an array' : typeof source;
  return fail(`source must be an ArrayBuffer or a Uint8Array, got ${got}`);
}

/**
 * Parses the bytes of a .safetensors file (e.g. a PyTorch state_dict saved with
 * `safetensors.torch.save_file(model.state_dict(), path)`) into host tensors:
 * F32/F16/BF16/F64 become float32, integers int32 (I64/U64/U32 values must
 * fit), BOOL bool. Not a torchvision function (torchvision:
 * `model.state_dict()`, saved with safetensors).
 *
 * The file is checked against the format before any tensor is decoded, and
 * any fault is an Error whose message starts with 'parseSafetensors:' and
 * names the tensor and the field: the header length (at most 100,000,000 and
 * within the buffer), the header (UTF-8 JSON object, no duplicate keys),
 * `__metadata__` (an object of strings), each tensor's fields (exactly dtype,
 * shape and data_offsets; a supported dtype; shape and offsets non-negative
 * integers; begin <= end; the byte length = element count * dtype size, with
 * no overflow) and the layout (tensors tile the data section from its first
 * to its last byte, without overlaps, holes or trailing bytes), and BOOL bytes
 * are 0 or 1. Nothing outside the buffer is read. The result's records have a
 * null prototype, so any tensor name (even '__proto__') is an own key.
 *
 * ```js
 * const {tensors} = parseSafetensors(await (await fetch('model.safetensors')).arrayBuffer());
 * tensors['fpn.inner_blocks.0.0.weight'].shape  // e.g. [256, 64, 1, 1]
 * ```
 */
export function parseSafetensors(source: ArrayBuffer|Uint8Array): Safetensors {
  const bytes = bytesOf(source);
  if (bytes.length < 8) fail(`needs at least 8 bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    fail(`header length ${declared} is over the limit of ${MAX_HEADER_BYTES} bytes`);
  }
  if (declared > BigInt(bytes.length - 8)) {
    fail(`header length ${declared} runs past the ${bytes.length} bytes (at most ${bytes.length - 8})`);
  }
  const headerLength = Number(declared);
  let text: string;
  try {
    text = new TextDecoder('utf-8', {fatal: true, ignoreBOM: true}).decode(bytes.subarray(8, 8 + headerLength));
  } catch (e) {
    fail(`the header is not valid UTF-8 (${(e as Error).message})`);
  }
  const header = parseStrictJson(text, MAX_DEPTH, problem => fail(`the header ${problem}`));
  if (!(header instanceof Map)) fail(`the header is ${describeJson(header)}, not a JSON object`);
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = Object.create(null);
  const entries: Entry[] = [];
  for (const [name, raw] of header) {
    if (name === '__metadata__') {
      if (!(raw instanceof Map)) fail(`__metadata__ is ${describeJson(raw)}, not an object of strings`);
      for (const [key, value] of raw) {
        if (typeof value !== 'string') fail(`__metadata__ ${quote(key)} is ${describeJson(value)}, not a string`);
        metadata[key] = value;
      }
      continue;
    }
    entries.push(checkEntry(name, raw, dataLength));
  }
  // The tensors must tile the data section: sorted by offsets, each begins where the last ended.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: Entry|undefined;
  for (const e of sorted) {
    const span = `tensor ${quote(e.name)} has data_offsets [${e.begin}, ${e.end}]`;
    if (e.begin < covered) fail(`${span}, which overlap tensor ${quote(previous!.name)} [${previous!.begin}, ${previous!.end}]`);
    if (e.begin > covered) {
      fail(`${span}, which leave a hole: data bytes [${covered}, ${e.begin}) belong to no tensor`);
    }
    covered = e.end;
    previous = e;
  }
  if (covered !== dataLength) {
    fail(`the tensors cover ${covered} of the ${dataLength} data bytes: data bytes [${covered}, ${dataLength}) ` +
        'belong to no tensor');
  }
  const tensors: Record<string, HostTensor> = Object.create(null);
  for (const {name, dtype, shape, count, begin, end} of entries) {
    const tensorView = new DataView(bytes.buffer, bytes.byteOffset + dataStart + begin, end - begin);
    const values = decode(name, dtype, tensorView, count);
    const kind = dtype === 'BOOL' ? 'bool' : values instanceof Float32Array ? 'float32' : 'int32';
    tensors[name] = {shape, dtype: kind, values, sourceDtype: dtype};
  }
  return {tensors, metadata};
}
