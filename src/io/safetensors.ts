/**
 * The safetensors format (https://github.com/huggingface/safetensors), read
 * without dependencies: an 8-byte little-endian header length n, n bytes of
 * JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {...}},
 * then the raw little-endian tensor bytes (offsets relative to the data start).
 * Floats become float32 (F16, BF16 and F64 converted), integers int32 (I64
 * and U32 must fit), BOOL bool.
 */
const FORMAT = 'parseSafetensors';

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
  /** The tensors by name (state_dict keys). */
  tensors: Record<string, HostTensor>;
  /** The header's "__metadata__" ({} when absent). */
  metadata: Record<string, string>;
}

const BYTES: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

function fail(message: string): never {
  throw new Error(`${FORMAT}: ${message}`);
}

function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function decode(name: string, dtype: string, view: DataView, count: number): HostTensor['values'] {
  const size = BYTES[dtype];
  const scratch = new DataView(new ArrayBuffer(4));
  const floats = new Float32Array(count);
  const ints = new Int32Array(count);
  const integer = (v: number|bigint) => {
    if (v > 2147483647 || v < -2147483648) fail(`tensor '${name}' (${dtype}) has ${v}, outside int32`);
    return Number(v);
  };
  for (let i = 0; i < count; i++) {
    const o = i * size;
    switch (dtype) {
      case 'F32': floats[i] = view.getFloat32(o, true); break;
      case 'F64': floats[i] = view.getFloat64(o, true); break;
      case 'F16': floats[i] = f16ToF32(view.getUint16(o, true)); break;
      case 'BF16':
        scratch.setUint32(0, (view.getUint16(o, true) << 16) >>> 0);
        floats[i] = scratch.getFloat32(0);
        break;
      case 'I64': ints[i] = integer(view.getBigInt64(o, true)); break;
      case 'U64': ints[i] = integer(view.getBigUint64(o, true)); break;
      case 'I32': ints[i] = view.getInt32(o, true); break;
      case 'U32': ints[i] = integer(view.getUint32(o, true)); break;
      case 'I16': ints[i] = view.getInt16(o, true); break;
      case 'U16': ints[i] = view.getUint16(o, true); break;
      case 'I8': ints[i] = view.getInt8(o); break;
      case 'U8': ints[i] = view.getUint8(o); break;
      default: break;
    }
  }
  if (dtype === 'BOOL') return new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + count));
  return dtype.startsWith('F') || dtype === 'BF16' ? floats : ints;
}

/**
 * Parses the bytes of a .safetensors file (e.g. a PyTorch state_dict saved with
 * `safetensors.torch.save_file(model.state_dict(), path)`) into host tensors:
 * F32/F16/BF16/F64 become float32, integers int32 (I64/U64/U32 values must
 * fit), BOOL bool. A malformed file is an Error. Not a torchvision function
 * (torchvision: `model.state_dict()`, saved with safetensors).
 *
 * ```js
 * const {tensors} = parseSafetensors(await (await fetch('model.safetensors')).arrayBuffer());
 * tensors['fpn.inner_blocks.0.0.weight'].shape  // e.g. [256, 64, 1, 1]
 * ```
 */
export function parseSafetensors(source: ArrayBuffer|Uint8Array): Safetensors {
  const bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
  if (bytes.length < 8) fail(`needs at least 8 bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.length) fail(`header length ${headerLength} runs past the ${bytes.length} bytes`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    fail(`the header is not JSON (${(e as Error).message})`);
  }
  if (header == null || typeof header !== 'object' || Array.isArray(header)) fail('the header is not a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const tensors: Record<string, HostTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const {dtype, shape, data_offsets: offsets} = entry as {dtype: string, shape: number[], data_offsets: number[]};
    if (BYTES[dtype] == null) fail(`tensor '${name}' has unsupported dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every(d => Number.isInteger(d) && d >= 0)) {
      fail(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    }
    const count = shape.reduce((a, b) => a * b, 1);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !(offsets[0] >= 0) ||
        offsets[1] - offsets[0] !== count * BYTES[dtype] || offsets[1] > dataLength) {
      fail(`tensor '${name}' has data_offsets ${JSON.stringify(offsets)} that do not fit ${dtype} ` +
          `[${shape}] in ${dataLength} data bytes`);
    }
    const tensorView = new DataView(bytes.buffer, bytes.byteOffset + dataStart + offsets[0], offsets[1] - offsets[0]);
    const values = decode(name, dtype, tensorView, count);
    const kind = dtype === 'BOOL' ? 'bool' : values instanceof Float32Array ? 'float32' : 'int32';
    tensors[name] = {shape, dtype: kind, values, sourceDtype: dtype};
  }
  return {tensors, metadata};
}
