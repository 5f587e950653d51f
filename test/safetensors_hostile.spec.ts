/**
 * Hostile input (issue 11): parseSafetensors trusts nothing in the file and
 * loadTorchvisionWeights is atomic. Every byte buffer is built here (no fs),
 * so the spec runs on every backend, in Node and in the browser.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as vision from '../src/index';
import {expectThrows} from './support/helpers';
import {fixtureBytes} from './support/fixture_bytes';
import {Rng} from './support/fuzz';

const SIZES: Record<string, number> = {F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8,
  U32: 4, U16: 2, U8: 1, BOOL: 1};

/**
 * A .safetensors file: `header` as a JSON value, raw JSON text or raw bytes
 * (padded with spaces to 8 bytes), then `data`; `declared` overrides the
 * header length field.
 */
function build(header: unknown, data: ArrayLike<number> = [], declared?: bigint): Uint8Array {
  const raw = header instanceof Uint8Array ? header :
      new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const json = new Uint8Array(Math.ceil(raw.length / 8) * 8).fill(0x20);
  json.set(raw);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, declared ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(Array.from(data), 8 + json.length);
  return out;
}

const f32 = (...values: number[]) => {
  const out = new Uint8Array(values.length * 4);
  values.forEach((v, i) => new DataView(out.buffer).setFloat32(i * 4, v, true));
  return out;
};
const entry = (dtype: string, shape: unknown, offsets: unknown) => ({dtype, shape, data_offsets: offsets});
const parse = (bytes: Uint8Array) => vision.parseSafetensors(bytes);
const fails = (bytes: Uint8Array, ...patterns: RegExp[]) => expectThrows(() => parse(bytes), /^parseSafetensors: /,
    ...patterns);

describe('parseSafetensors on hostile headers', () => {
  it('string data_offsets (concatenated into the byte offset before)', () => {
    fails(build({a: entry('F32', [1], ['0', '4'])}, f32(1)), /'a'/, /data_offsets\[0\]/, /string "0"/);
    fails(build({a: entry('F32', [1], [0, '4'])}, f32(1)), /'a'/, /data_offsets\[1\]/, /string "4"/);
  });

  it('fractional data_offsets, also written as 4.0 or 4e0', () => {
    const data = [...f32(1), 1, 2, 3, 4];
    fails(build({a: entry('F32', [1], [0.5, 4.5]), b: entry('U8', [3], [5, 8])}, data), /'a'/,
        /data_offsets\[0\]/, /0\.5/, /integer/);
    fails(build('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}}', f32(1)), /'a'/, /data_offsets\[1\]/, /4\.0/);
    fails(build('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4e0]}}', f32(1)), /'a'/, /data_offsets\[1\]/, /4e0/);
  });

  it('negative, reversed, out-of-buffer and malformed data_offsets', () => {
    fails(build({a: entry('F32', [0], [-4, -4])}, []), /'a'/, /data_offsets\[0\]/, /-4/);
    fails(build({a: entry('F32', [0], [4, 0])}, f32(1)), /'a'/, /begin is after end/);
    fails(build({a: entry('F32', [250], [0, 1000])}, f32(1)), /'a'/, /\[0, 1000\] past the 4 data bytes/);
    fails(build({a: entry('F32', [1], [0, 4, 8])}, f32(1)), /'a'/, /data_offsets/, /not an array \[begin, end\]/);
    fails(build({a: entry('F32', [1], {0: 0, 1: 4})}, f32(1)), /'a'/, /data_offsets/, /not an array \[begin, end\]/);
    fails(build('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,1e400]}}', f32(1)), /'a'/, /data_offsets\[1\]/);
  });

  it('overlapping tensors', () => {
    fails(build({a: entry('F32', [2], [0, 8]), b: entry('F32', [2], [4, 12])}, f32(1, 2, 3)),
        /'b'/, /\[4, 12\]/, /overlap tensor 'a'/);
    fails(build({a: entry('F32', [1], [0, 4]), b: entry('F32', [1], [0, 4])}, f32(1)), /'b'/, /overlap tensor 'a'/);
  });

  it('holes in the data section, before, between and after the tensors', () => {
    fails(build({a: entry('F32', [1], [0, 4]), b: entry('F32', [1], [8, 12])}, f32(1, 2, 3)),
        /'b'/, /hole/, /\[4, 8\)/);
    fails(build({a: entry('F32', [1], [4, 8])}, f32(1, 2)), /'a'/, /hole/, /\[0, 4\)/);
    fails(build({a: entry('F32', [1], [0, 4])}, f32(1, 2)), /cover 4 of the 8 data bytes/);
  });

  it('__metadata__ that is not an object of strings', () => {
    const a = entry('F32', [1], [0, 4]);
    for (const bad of ['pt', ['pt'], null, 3]) {
      fails(build({__metadata__: bad, a}, f32(1)), /__metadata__/, /not an object of strings/);
    }
    fails(build({__metadata__: {format: 1}, a}, f32(1)), /__metadata__ 'format'/, /number 1/, /not a string/);
    fails(build({__metadata__: {format: {x: 'y'}}, a}, f32(1)), /__metadata__ 'format'/, /not a string/);
  });

  it('shapes: negative, fractional, non-integer literals, strings, not an array', () => {
    fails(build({a: entry('F32', [-1], [0, 4])}, f32(1)), /'a'/, /shape\[0\]/, /-1/);
    fails(build({a: entry('F32', [1, 1.5], [0, 4])}, f32(1)), /'a'/, /shape\[1\]/, /1\.5/);
    fails(build('{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}', f32(1, 2)), /'a'/, /shape\[0\]/, /2\.0/);
    fails(build('{"a":{"dtype":"F32","shape":[-0],"data_offsets":[0,0]}}'), /'a'/, /shape\[0\]/, /-0/);
    fails(build({a: entry('F32', ['2'], [0, 8])}, f32(1, 2)), /'a'/, /shape\[0\]/, /string "2"/);
    fails(build({a: entry('F32', 2, [0, 8])}, f32(1, 2)), /'a'/, /shape/, /not an array/);
    fails(build('{"a":{"dtype":"F32","shape":[9007199254740993],"data_offsets":[0,4]}}', f32(1)),
        /'a'/, /shape\[0\]/, /2\^53/);
  });

  it('shapes whose element count does not match the bytes, or overflows', () => {
    fails(build({a: entry('F32', [3], [0, 8])}, f32(1, 2)), /'a'/, /8 bytes/, /F32 \[3\] takes 12 bytes/);
    fails(build({a: entry('I64', [2], [0, 8])}, new Uint8Array(8)), /'a'/, /I64 \[2\] takes 16 bytes/);
    // 2^90 elements times 0: the count overflows before the 0 (the reference rejects it too)
    fails(build({a: entry('F32', [2 ** 30, 2 ** 30, 2 ** 30, 0], [0, 0])}), /'a'/, /element count overflows/);
    fails(build({a: entry('F64', [2 ** 51], [0, 0])}), /'a'/, /byte size overflows/);
  });

  it('dtypes: unknown, inherited property names, lower case, not a string', () => {
    for (const dtype of ['toString', 'constructor', '__proto__', 'C64', 'f32', 'F8_E4M3', '']) {
      fails(build({a: entry(dtype, [1], [0, 4])}, f32(1)), /'a'/, /unsupported dtype/);
    }
    fails(build({a: {dtype: 4, shape: [1], data_offsets: [0, 4]}}, f32(1)), /'a'/, /dtype the number 4/, /not a string/);
  });

  it('tensor entries with missing or extra fields, or not objects', () => {
    const full = entry('F32', [1], [0, 4]);
    for (const field of ['dtype', 'shape', 'data_offsets']) {
      const partial: Record<string, unknown> = {...full};
      delete partial[field];
      fails(build({a: partial}, f32(1)), /'a'/, new RegExp(`missing the field '${field}'`));
    }
    fails(build({a: {...full, offsets: [0, 4]}}, f32(1)), /'a'/, /unknown field 'offsets'/);
    for (const bad of [null, 5, 'F32', [1, 2]]) fails(build({a: bad}, f32(1)), /'a'/, /not an object/);
  });

  it('BOOL bytes other than 0 and 1', () => {
    fails(build({m: entry('BOOL', [3], [0, 3])}, [1, 0, 2]), /'m'/, /BOOL/, /byte 2 at element 2/);
    fails(build({m: entry('BOOL', [1], [0, 1])}, [255]), /'m'/, /byte 255/);
  });

  it('a tensor named __proto__ (or constructor) is an own key of a null-prototype record', () => {
    const header = '{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
        '"constructor":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},' +
        '"__metadata__":{"__proto__":"x","hasOwnProperty":"y"}}';
    const {tensors, metadata} = parse(build(header, f32(5, 6)));
    expect(Object.keys(tensors)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(tensors)).toBe(null);
    expect(Array.from(tensors['__proto__'].values)).toEqual([5]);
    expect(Array.from(tensors['constructor'].values)).toEqual([6]);
    expect(Object.keys(metadata)).toEqual(['__proto__', 'hasOwnProperty']);
    expect(metadata['__proto__']).toBe('x');
    // nothing inherited: a name that is not in the file is absent
    expect(parse(build({a: entry('F32', [1], [0, 4])}, f32(1))).tensors['toString']).toBeUndefined();
  });

  it('duplicate keys in the header (JSON.parse would keep the last silently)', () => {
    fails(build('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
        '"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', f32(1, 2)), /key 'a' twice/);
    fails(build('{"a":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}}', f32(1)), /key 'dtype' twice/);
    fails(build('{"__metadata__":{"k":"1","k":"2"}}'), /key 'k' twice/);
  });

  it('header lengths over the 100 MB limit or past the buffer', () => {
    const file = build({a: entry('F32', [1], [0, 4])}, f32(1));
    fails(build({a: entry('F32', [1], [0, 4])}, f32(1), 2n ** 40n), /header length 1099511627776/, /over the limit/);
    fails(build({a: entry('F32', [1], [0, 4])}, f32(1), 2n ** 64n - 1n), /header length 18446744073709551615/,
        /over the limit/);
    fails(build({a: entry('F32', [1], [0, 4])}, f32(1), BigInt(file.length - 7)), /runs past/);
  });

  it('headers that are not valid UTF-8, not JSON, not an object, or nested too deeply', () => {
    const name = new Uint8Array([...new TextEncoder().encode('{"'), 0xff, 0xfe,
      ...new TextEncoder().encode('":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}')]);
    fails(build(name, f32(1)), /UTF-8/);
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{}')]);
    fails(build(bom), /not JSON/);
    for (const text of ['[]', '"x"', 'null', '5']) fails(build(text), /not a JSON object/);
    for (const text of ['{} x', '{"a":1,}', "{'a':1}", '{"a":tru}', '{"a\u0001":1}', '{"a":"\\x"}', '']) {
      fails(build(text), /not JSON/);
    }
    fails(build(`{"a":${'['.repeat(10000)}${']'.repeat(10000)}}`), /nests deeper/);
  });

  it('sources that are not bytes', () => {
    for (const bad of [null, undefined, 12, 'abc', [1, 2, 3]]) {
      expectThrows(() => vision.parseSafetensors(bad as unknown as Uint8Array), /^parseSafetensors: source must be/);
    }
  });
});

describe('parseSafetensors on valid files', () => {
  it('still reads the torchvision fixture, every byte of its data section', async () => {
    const bytes = await fixtureBytes('faster_rcnn_box_branch.safetensors');
    const {tensors, metadata} = parse(bytes);
    expect(metadata.format).toBe('pt');
    const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const total = Object.values(tensors).reduce((n, t) => n + t.values.length * SIZES[t.sourceDtype], 0);
    expect(total).toBe(bytes.length - 8 - headerLength);
    expect(tensors['roi_heads.box_head.fc6.weight'].shape).toEqual([32, 16 * 7 * 7]);
  });

  it('reads tensors listed out of data order, empty tensors sharing an offset, escapes, no padding', () => {
    const header = '\n {"z\\u00e9\\n":{"dtype":"U8","shape":[2],"data_offsets":[8,10]},\t' +
        '"e0":{"dtype":"F32","shape":[0,3],"data_offsets":[8,8]},' +
        '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
        '"e1":{"dtype":"BOOL","shape":[0],"data_offsets":[10,10]}}\r\n';
    const json = new TextEncoder().encode(header);
    const data = [...f32(1.5, -2), 7, 9];
    const bytes = new Uint8Array(8 + json.length + data.length);  // no padding to 8 bytes
    new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
    bytes.set(json, 8);
    bytes.set(data, 8 + json.length);
    const {tensors, metadata} = parse(bytes);
    expect(Object.keys(tensors)).toEqual(['zé\n', 'e0', 'a', 'e1']);
    expect(Array.from(tensors['zé\n'].values)).toEqual([7, 9]);
    expect(Array.from(tensors.a.values)).toEqual([1.5, -2]);
    expect([tensors.e0.shape, tensors.e0.values.length, tensors.e1.dtype]).toEqual([[0, 3], 0, 'bool']);
    expect(Object.keys(metadata)).toEqual([]);
    bytes.fill(0, 8 + json.length);  // the values are copies, not views of the file
    expect(Array.from(tensors.a.values)).toEqual([1.5, -2]);
  });

  it('reads an empty file ({}), an ArrayBuffer and a view into a larger buffer', () => {
    expect(Object.keys(parse(build({})).tensors)).toEqual([]);
    const file = build({__metadata__: {format: 'pt'}, w: entry('F32', [1], [0, 4])}, f32(3));
    expect(Array.from(vision.parseSafetensors(file.slice().buffer).tensors.w.values)).toEqual([3]);
    const big = new Uint8Array(file.length + 24).fill(0xee);
    big.set(file, 16);
    expect(Array.from(parse(big.subarray(16, 16 + file.length)).tensors.w.values)).toEqual([3]);
  });
});

/** A seeded generator of uniform numbers in [0, 1). */
const random = (seed: number) => {
  const rng = new Rng(seed);
  return () => rng.next();
};

describe('parseSafetensors fuzz', () => {
  it('300 seeded mutations: tensors that tile the data section, or a parseSafetensors Error', () => {
    const rand = random(11);
    const int = (n: number) => Math.floor(rand() * n);
    const i64 = new Uint8Array(16);
    new DataView(i64.buffer).setBigInt64(0, -3n, true);
    new DataView(i64.buffer).setBigInt64(8, 40n, true);
    const header = {
      __metadata__: {format: 'pt'}, w: entry('F32', [2, 2], [0, 16]), n: entry('I64', [2], [16, 32]),
      h: entry('F16', [2], [32, 36]), m: entry('BOOL', [3], [36, 39]), u: entry('U8', [1], [39, 40]),
    };
    const data = [...f32(1, 2, 3, 4), ...i64, 0x00, 0x3c, 0x00, 0xc0, 1, 0, 1, 200];
    const base = build(header, data);
    const text = JSON.stringify(header);
    const tokens = ['-1', '1.5', '"4"', '1e400', '9007199254740993', 'null', '[]', '{}', '2.0', '0', '-0', '"\\u0000"',
      '"__proto__"', '"toString"', '[0,0]', '[16,0]', '""', '{"a":1}'];
    const charset = '-.e0123456789[]{},:"\\ \u00ff';
    let parsed = 0;
    let rejected = 0;
    const start = Date.now();
    for (let iter = 0; iter < 300; iter++) {
      let bytes: Uint8Array = base.slice();
      const headerEnd = () => 8 + Number(new DataView(base.buffer).getBigUint64(0, true));
      for (let k = 1 + int(3); k > 0; k--) {
        const kind = int(7);
        if (kind === 0) {  // any byte of the header
          bytes[8 + int(headerEnd() - 8)] = int(256);
        } else if (kind === 1) {  // a JSON-ish character in the header
          bytes[8 + int(headerEnd() - 8)] = charset.charCodeAt(int(charset.length)) & 0xff;
        } else if (kind === 2) {  // a data byte
          bytes[headerEnd() + int(data.length)] = int(256);
        } else if (kind === 3) {  // the header length field
          const v = [0n, 1n, BigInt(int(bytes.length + 16)), BigInt(headerEnd() - 8 + int(9) - 4), 2n ** 63n + BigInt(int(99))];
          new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(0, v[int(v.length)], true);
        } else if (kind === 4) {  // cut or extend
          bytes = rand() < 0.5 ? bytes.slice(0, int(bytes.length)) :
              new Uint8Array([...bytes, ...Array.from({length: 1 + int(16)}, () => int(256))]);
        } else {  // a value of the header replaced by a hostile token (header length kept right)
          const values = [...text.matchAll(/-?\d+|"[^"]*"|\[[^\]]*\]/g)];
          const m = values[int(values.length)];
          const mutated = text.slice(0, m.index) + tokens[int(tokens.length)] + text.slice(m.index! + m[0].length);
          bytes = build(mutated, data);
        }
      }
      try {
        const {tensors, metadata} = vision.parseSafetensors(bytes);
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const dataBytes = bytes.length - 8 - Number(view.getBigUint64(0, true));
        let total = 0;
        for (const t of Object.values(tensors)) {
          expect(t.values.length).toBe(t.shape.reduce((a, b) => a * b, 1));
          if (t.dtype === 'bool') expect(Array.from(t.values).every(v => v === 0 || v === 1)).toBe(true);
          total += t.values.length * SIZES[t.sourceDtype];
        }
        expect(total).toBe(dataBytes);  // the tensors' bytes are exactly the data section, inside the buffer
        expect(Object.values(metadata).every(v => typeof v === 'string')).toBe(true);
        parsed++;
      } catch (e) {
        if (!(e instanceof Error) || Object.getPrototypeOf(e) !== Error.prototype ||
            !e.message.startsWith('parseSafetensors')) {
          throw new Error(`mutation ${iter} threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
        }
        rejected++;
      }
    }
    expect(parsed).toBeGreaterThan(10);
    expect(rejected).toBeGreaterThan(100);
    expect(Date.now() - start).toBeLessThan(2000);
  });
});

describe('loadTorchvisionWeights is atomic', () => {
  const host = (values: number[], shape: number[]): vision.HostTensor =>
    ({shape, dtype: 'float32', values: Float32Array.from(values), sourceDtype: 'F32'});
  const iota = (n: number, from = 0) => Array.from({length: n}, (_, i) => from + i);

  function model() {
    const input = tfl.input({shape: [3, 3, 2]});
    const conv = tfl.layers.conv2d({name: 'conv', filters: 2, kernelSize: 2});
    const dense = tfl.layers.dense({name: 'dense', units: 3});
    const y = dense.apply(tfl.layers.flatten().apply(conv.apply(input))) as tfl.SymbolicTensor;
    return tfl.model({inputs: input, outputs: y});
  }
  const good = (): vision.StateDict => ({
    'backbone.weight': host(iota(16, 100), [2, 2, 2, 2]), 'backbone.bias': host([1, 2], [2]),
    'head.weight': host(iota(24, 200), [3, 8]), 'head.bias': host([3, 4, 5], [3]),
  });
  const prefixes = {conv: 'backbone', dense: 'head'};
  const snapshot = (m: tfl.LayersModel) => Promise.all(m.weights.map(async w => Array.from(await w.read().data())));

  /** `load` throws naming `patterns`; every weight keeps its value and no tensor is left behind. */
  async function expectAtomicFailure(load: (m: tfl.LayersModel) => unknown, ...patterns: RegExp[]) {
    const m = model();
    try {
      const before = await snapshot(m);
      const tensors = tf.memory().numTensors;
      expectThrows(() => load(m), /^loadTorchvisionWeights: /, ...patterns);
      expect(tf.memory().numTensors).toBe(tensors);
      expect(await snapshot(m)).toEqual(before);
    } finally {
      m.dispose();
    }
  }

  it('a missing later key leaves the earlier weights unchanged', async () => {
    const state = good();
    delete state['head.bias'];
    await expectAtomicFailure(m => vision.loadTorchvisionWeights(m, state, {prefixes}), /'head.bias'/, /'dense'/);
    // a key inherited from Object.prototype is not in the state_dict
    await expectAtomicFailure(m => vision.loadTorchvisionWeights(m, {...good(), 'head.bias': undefined} as never,
        {prefixes}), /no 'head.bias'/);
  });

  it('a mis-shaped later key leaves the earlier weights unchanged', async () => {
    await expectAtomicFailure(m => vision.loadTorchvisionWeights(m, {...good(), 'head.weight': host(iota(24), [8, 3])},
        {prefixes}), /'head.weight'/, /\[8,3\]/, /\[8,3\]|torch shape \[3,8\]/);
    const long = tf.zeros([4]);
    await expectAtomicFailure(m => vision.loadTorchvisionWeights(m, {...good(), 'head.bias': long}, {prefixes}),
        /'head.bias'/, /\[4\]/);
    long.dispose();
  });

  it('a later key of the wrong dtype, or malformed, leaves the earlier weights unchanged', async () => {
    const ints: vision.HostTensor = {shape: [3], dtype: 'int32', values: Int32Array.from([1, 2, 3]), sourceDtype: 'I64'};
    await expectAtomicFailure(m => vision.loadTorchvisionWeights(m, {...good(), 'head.bias': ints}, {prefixes}),
        /'head.bias'/, /dtype "int32"/, /I64/);
    const bools: vision.HostTensor = {shape: [3], dtype: 'bool', values: Uint8Array.from([1, 0, 1]), sourceDtype: 'BOOL'};
    await expectAtomicFailure(m => vision.loadTorchvisionWeights(m, {...good(), 'head.bias': bools}, {prefixes}),
        /'head.bias'/, /dtype "bool"/);
    const intTensor = tf.tensor1d([1, 2, 3], 'int32');
    await expectAtomicFailure(m => vision.loadTorchvisionWeights(m, {...good(), 'head.bias': intTensor}, {prefixes}),
        /'head.bias'/, /int32/);
    intTensor.dispose();
    await expectAtomicFailure(m => vision.loadTorchvisionWeights(m, {...good(), 'head.bias': host([1, 2], [3])},
        {prefixes}), /'head.bias'/, /3 elements/);
    await expectAtomicFailure(m => vision.loadTorchvisionWeights(m, {...good(), 'head.bias': [1, 2, 3] as never},
        {prefixes}), /'head.bias'/, /an array/);
  });

  it('a later prefix that names no layer, or a bad linearFromNchw, leaves the earlier weights unchanged', async () => {
    await expectAtomicFailure(m => vision.loadTorchvisionWeights(m, good(), {prefixes: {...prefixes, nope: 'x'}}),
        /no layer named 'nope'/);
    await expectAtomicFailure(m => vision.loadTorchvisionWeights(m, good(), {prefixes: {...prefixes, dense: 4 as never}}),
        /prefixes\['dense'\]/, /string/);
    await expectAtomicFailure(m => vision.loadTorchvisionWeights(m, good(), {prefixes,
      linearFromNchw: {dense: [2, 3, 3]}}), /linearFromNchw\['dense'\]/, /18 elements/, /8 inputs/);
    await expectAtomicFailure(m => vision.loadTorchvisionWeights(m, good(), {prefixes,
      linearFromNchw: {dense: [2, 2, -2] as never}}), /linearFromNchw\['dense'\]/, /positive integers/);
  });

  it('a state dict that is not an object is a clear Error', async () => {
    for (const bad of [null, undefined, 5, 'weights', [host([1], [1])], new Map()]) {
      await expectAtomicFailure(m => vision.loadTorchvisionWeights(m, bad as never), /stateDict/);
    }
  });

  it('loads the same state dict once it is whole, without leaking', async () => {
    const m = model();
    try {
      const tensors = tf.memory().numTensors;
      const report = vision.loadTorchvisionWeights(m, good(), {prefixes});
      expect(report.loaded).toEqual(['backbone.weight', 'backbone.bias', 'head.weight', 'head.bias']);
      expect(tf.memory().numTensors).toBe(tensors);
      const [, convBias, kernel, bias] = await snapshot(m);
      expect(convBias).toEqual([1, 2]);
      expect(bias).toEqual([3, 4, 5]);
      expect(kernel[5 * 3 + 2]).toBe(200 + 2 * 8 + 5);  // [in, out] = torch [out, in] transposed
    } finally {
      m.dispose();
    }
  });
});
