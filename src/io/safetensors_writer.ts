/**
 * Writes the safetensors format that parseSafetensors reads (and torch's
 * safetensors.torch.load_file): the 8-byte header length, the JSON header
 * (padded with spaces to a multiple of 8 bytes, as the reference writer
 * does), then each tensor's little-endian bytes in key order. float32 ->
 * F32, int32 -> I32, bool -> BOOL.
 */
import {Tensor} from '@tensorflow/tfjs-core';
import {HostTensor} from './safetensors.ts';

const DTYPES: Record<string, [string, number]> = {float32: ['F32', 4], int32: ['I32', 4], bool: ['BOOL', 1]};

/**
 * The bytes of a .safetensors file holding `tensors` (tf.Tensors, read
 * asynchronously, or HostTensors) under their keys, with optional string
 * metadata. Keys must be non-empty and not '__metadata__'.
 *
 * ```js
 * const bytes = await serializeSafetensors(model.stateDict());
 * fs.writeFileSync('detector.safetensors', bytes);   // torch: safetensors.torch.load_file
 * ```
 */
export async function serializeSafetensors(tensors: Record<string, Tensor|HostTensor>,
    metadata: Record<string, string> = {}): Promise<Uint8Array> {
  const op = 'serializeSafetensors';
  if (tensors == null || typeof tensors !== 'object') throw new Error(`${op}: tensors must be an object of tensors by key`);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`${op}: metadata '${k}' must be a string`);
    }
    header.__metadata__ = metadata;
  }
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const key of Object.keys(tensors).sort()) {
    if (key === '' || key === '__metadata__') throw new Error(`${op}: '${key}' cannot be a tensor key`);
    const t = tensors[key];
    const dtype = t instanceof Tensor ? t.dtype : t?.dtype;
    const kind = DTYPES[dtype as string];
    if (kind == null) throw new Error(`${op}: '${key}' has dtype ${dtype}; float32, int32 and bool are written`);
    const values = t instanceof Tensor ? await t.data() : t.values;
    const bytes = dtype === 'bool' ? Uint8Array.from(values as ArrayLike<number>, v => (v ? 1 : 0)) :
        new Uint8Array(Float32Array.BYTES_PER_ELEMENT * values.length);
    if (dtype !== 'bool') {
      const view = new DataView(bytes.buffer);
      values.forEach((v: number, i: number) => dtype === 'float32' ? view.setFloat32(4 * i, v, true) :
        view.setInt32(4 * i, v, true));
    }
    header[key] = {dtype: kind[0], shape: t.shape, data_offsets: [offset, offset + bytes.length]};
    parts.push(bytes);
    offset += bytes.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(padded - json.length));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
