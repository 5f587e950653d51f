/** parseSafetensors (the file format, every dtype, bad files) and loadTorchvisionWeights (names, layouts, errors). */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as vision from '../src/index';
import {expectRejects, expectThrows} from './support/helpers';
import {disposeLayer} from './support/layers';

interface Entry { dtype: string; shape: number[]; bytes: Uint8Array; }

/** A .safetensors file as the format describes it (header padded with spaces to 8 bytes). */
function safetensors(entries: Record<string, Entry>, metadata?: Record<string, string>, mutate?: (h: any) => void) {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, e] of Object.entries(entries)) {
    header[name] = {dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes.length]};
    offset += e.bytes.length;
  }
  if (metadata != null) header.__metadata__ = metadata;
  mutate?.(header);
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
  padded.set(json);
  json = padded;
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const e of Object.values(entries)) {
    out.set(e.bytes, at);
    at += e.bytes.length;
  }
  return out;
}

function bytesOf(values: number[], size: number, write: (v: DataView, o: number, x: number) => void): Uint8Array {
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  values.forEach((x, i) => write(view, i * size, x));
  return out;
}

describe('parseSafetensors', () => {
  it('reads every dtype into float32 / int32 / bool, and the metadata', () => {
    const f32 = bytesOf([1.5, -2, 3.25, 0], 4, (v, o, x) => v.setFloat32(o, x, true));
    const f64 = bytesOf([0.1, 1e10], 8, (v, o, x) => v.setFloat64(o, x, true));
    // float16: 1.0 = 0x3c00, -2.5 = 0xc100, 65504 = 0x7bff, smallest subnormal 2^-24 = 0x0001
    const f16 = bytesOf([0x3c00, 0xc100, 0x7bff, 0x0001], 2, (v, o, x) => v.setUint16(o, x, true));
    // bfloat16: the high half of the float32 bits
    const bf16 = bytesOf([0x3fc0, 0xc040], 2, (v, o, x) => v.setUint16(o, x, true));
    const i64 = bytesOf([5, -7], 8, (v, o, x) => v.setBigInt64(o, BigInt(x), true));
    const i32 = bytesOf([-3, 4], 4, (v, o, x) => v.setInt32(o, x, true));
    const u8 = new Uint8Array([255, 1]);
    const bool = new Uint8Array([1, 0, 1]);
    const file = safetensors({
      a: {dtype: 'F32', shape: [2, 2], bytes: f32}, b: {dtype: 'F64', shape: [2], bytes: f64},
      c: {dtype: 'F16', shape: [4], bytes: f16}, d: {dtype: 'BF16', shape: [2], bytes: bf16},
      e: {dtype: 'I64', shape: [2], bytes: i64}, f: {dtype: 'I32', shape: [1, 2], bytes: i32},
      g: {dtype: 'U8', shape: [2], bytes: u8}, h: {dtype: 'BOOL', shape: [3], bytes: bool},
      scalar: {dtype: 'F32', shape: [], bytes: bytesOf([7], 4, (v, o, x) => v.setFloat32(o, x, true))},
      empty: {dtype: 'F32', shape: [0, 3], bytes: new Uint8Array(0)},
    }, {format: 'pt'});
    const {tensors, metadata} = vision.parseSafetensors(file.buffer);
    expect(metadata).toEqual({format: 'pt'});
    const get = (k: string) => Array.from(tensors[k].values);
    expect(tensors.a.shape).toEqual([2, 2]);
    expect(get('a')).toEqual([1.5, -2, 3.25, 0]);
    expect(get('b')).toEqual([Math.fround(0.1), 1e10]);
    expect(get('c')).toEqual([1, -2.5, 65504, 2 ** -24]);
    expect(get('d')).toEqual([1.5, -3]);
    expect([tensors.e.dtype, ...get('e')]).toEqual(['int32', 5, -7]);
    expect(get('f')).toEqual([-3, 4]);
    expect(get('g')).toEqual([255, 1]);
    expect([tensors.h.dtype, ...get('h')]).toEqual(['bool', 1, 0, 1]);
    expect([tensors.scalar.shape, get('scalar')]).toEqual([[], [7]]);
    expect(tensors.empty.values.length).toBe(0);
    expect(tensors.e.sourceDtype).toBe('I64');
  });

  it('reads a file inside a larger buffer (a Uint8Array view)', () => {
    const file = safetensors({w: {dtype: 'F32', shape: [1], bytes: bytesOf([2], 4, (v, o, x) => v.setFloat32(o, x, true))}});
    const big = new Uint8Array(file.length + 16);
    big.set(file, 8);
    expect(Array.from(vision.parseSafetensors(big.subarray(8, 8 + file.length)).tensors.w.values)).toEqual([2]);
  });

  it('rejects broken files with a clear Error', () => {
    const ok = {w: {dtype: 'F32', shape: [2], bytes: new Uint8Array(8)}};
    expectThrows(() => vision.parseSafetensors(new Uint8Array(4)), /parseSafetensors/, /8 bytes/);
    const long = safetensors(ok);
    new DataView(long.buffer).setBigUint64(0, 1000n, true);
    expectThrows(() => vision.parseSafetensors(long), /parseSafetensors/, /header length 1000/);
    const notJson = safetensors(ok);
    notJson[8] = 0x7b + 1;  // '|' instead of '{'
    expectThrows(() => vision.parseSafetensors(notJson), /parseSafetensors/, /not JSON/);
    expectThrows(() => vision.parseSafetensors(safetensors({w: {dtype: 'C64', shape: [1], bytes: new Uint8Array(8)}})),
        /parseSafetensors/, /'w'/, /unsupported dtype/);
    expectThrows(() => vision.parseSafetensors(safetensors(ok, undefined, h => h.w.data_offsets = [0, 4])),
        /parseSafetensors/, /'w'/, /data_offsets/);
    expectThrows(() => vision.parseSafetensors(safetensors(ok, undefined, h => h.w.shape = [-1])),
        /parseSafetensors/, /'w'/, /shape/);
    const big = bytesOf([2 ** 40], 8, (v, o, x) => v.setBigInt64(o, BigInt(x), true));
    expectThrows(() => vision.parseSafetensors(safetensors({n: {dtype: 'I64', shape: [1], bytes: big}})),
        /parseSafetensors/, /'n'/, /int32/);
  });
});

describe('loadTorchvisionWeights', () => {
  const f32 = (values: number[], shape: number[]) => ({shape, dtype: 'float32' as const,
    values: Float32Array.from(values), sourceDtype: 'F32'});

  it('maps Linear [out, in] -> [in, out], conv OIHW -> HWIO, BN statistics, with prefixes', async () => {
    const input = tfl.input({shape: [3, 3, 2]});
    const conv = tfl.layers.conv2d({name: 'conv', filters: 2, kernelSize: 2});
    const bn = tfl.layers.batchNormalization({name: 'bn'});
    const dense = tfl.layers.dense({name: 'dense', units: 3});
    const y = dense.apply(tfl.layers.flatten().apply(bn.apply(conv.apply(input)))) as tfl.SymbolicTensor;
    const model = tfl.model({inputs: input, outputs: y});
    const oihw = Array.from({length: 16}, (_, i) => i);
    const linear = Array.from({length: 24}, (_, i) => i);
    const report = vision.loadTorchvisionWeights(model, {
      'backbone.0.weight': f32(oihw, [2, 2, 2, 2]), 'backbone.0.bias': f32([1, 2], [2]),
      'backbone.1.weight': f32([3, 4], [2]), 'backbone.1.bias': f32([5, 6], [2]),
      'backbone.1.running_mean': f32([7, 8], [2]), 'backbone.1.running_var': f32([9, 10], [2]),
      'backbone.1.num_batches_tracked': {shape: [], dtype: 'int32', values: Int32Array.from([3]), sourceDtype: 'I64'},
      'head.weight': tf.tensor2d(linear, [3, 8]), 'head.bias': tf.tensor1d([0, 1, 2]),
    }, {prefixes: {conv: 'backbone.0', bn: 'backbone.1.', dense: 'head'}});
    expect(report.unused).toEqual(['backbone.1.num_batches_tracked']);
    const kernel = await conv.getWeights()[0].array() as number[][][][];
    // HWIO [h][w][i][o] = OIHW [o][i][h][w]
    expect(kernel[1][0][1][0]).toBe(oihw[((0 * 2 + 1) * 2 + 1) * 2 + 0]);
    expect(kernel[0][1][0][1]).toBe(oihw[((1 * 2 + 0) * 2 + 0) * 2 + 1]);
    expect(Array.from(await bn.getWeights()[3].data())).toEqual([9, 10]);
    const w = await dense.getWeights()[0].array() as number[][];
    expect(w[5][2]).toBe(linear[2 * 8 + 5]);
    model.dispose();
  });

  it('names the missing key, the bad shape, the unknown layer', () => {
    const layer = new vision.FrozenBatchNorm2d({numFeatures: 2});
    layer.build([1, 3, 3, 2]);
    const state = {weight: f32([1, 2], [2]), bias: f32([1, 2], [2]), running_mean: f32([1, 2], [2])};
    expectThrows(() => vision.loadTorchvisionWeights(layer, state), /loadTorchvisionWeights/, /'running_var'/);
    expectThrows(() => vision.loadTorchvisionWeights(layer, {...state, running_var: f32([1, 2, 3], [3])}),
        /loadTorchvisionWeights/, /'running_var'/, /\[3\]/, /\[2\]/);
    expectThrows(() => vision.loadTorchvisionWeights(layer, state, {prefixes: {nope: ''}}),
        /loadTorchvisionWeights/, /no layer named 'nope'/);
    disposeLayer(layer);
    const unbuilt = new vision.FrozenBatchNorm2d({numFeatures: 2});
    expectThrows(() => vision.loadTorchvisionWeights(unbuilt, state), /loadTorchvisionWeights/, /not built/);
    const embedding = tfl.layers.embedding({inputDim: 4, outputDim: 2, name: 'emb'});
    embedding.apply(tfl.input({shape: [3]}));
    expectThrows(() => vision.loadTorchvisionWeights(embedding, {}), /loadTorchvisionWeights/, /'emb'/,
        /Embedding/, /no torchvision mapping/);
  });
});

describe('serializeSafetensors', () => {
  it('writes what parseSafetensors reads back (float32, int32, bool, metadata; header padded to 8 bytes)', async () => {
    const tensors = {b: tf.tensor2d([[1.5, -2], [3, 1e-30]]), a: tf.tensor1d([7, -9], 'int32'),
      c: tf.tensor1d([true, false, true], 'bool'), empty: tf.zeros([0, 3])};
    try {
      const bytes = await vision.serializeSafetensors(tensors, {format: 'pt'});
      const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      expect(headerLength % 8).toBe(0);
      const {tensors: back, metadata} = vision.parseSafetensors(bytes);
      expect(metadata.format).toBe('pt');
      expect(Object.keys(back)).toEqual(['a', 'b', 'c', 'empty']);
      expect(Array.from(back.b.values)).toEqual(Array.from(await tensors.b.data()));
      expect(back.b.shape).toEqual([2, 2]);
      expect(Array.from(back.a.values)).toEqual([7, -9]);
      expect(back.a.sourceDtype).toBe('I32');
      expect(Array.from(back.c.values)).toEqual([1, 0, 1]);
      expect(back.empty.shape).toEqual([0, 3]);
      // a dtype safetensors' writer here does not take (tf.complex is not on every backend: a host tensor stands in)
      const complex = {shape: [1], dtype: 'complex64', values: new Float32Array(2), sourceDtype: 'C64'};
      await expectRejects(vision.serializeSafetensors({x: complex as never}),
          /serializeSafetensors: 'x' has dtype complex64/);
      await expectRejects(vision.serializeSafetensors({__metadata__: tensors.a}), /cannot be a tensor key/);
    } finally {
      tf.dispose(Object.values(tensors));
    }
  });
});
