/**
 * Hostile input (issue 15): parseTorchCheckpoint runs nothing from the pickle and trusts no size, offset or
 * stride in the file. Checkpoints are built here (a small pickle writer and fflate's zipSync) or mutated from a
 * torch.save fixture; every failure must be an Error starting with 'parseTorchCheckpoint: '.
 */
import {zipSync} from 'fflate';
import * as vision from '../src/index';
import {expectThrows} from './support/helpers';
import {fixtureBytes} from './support/fixture_bytes';
import {Rng} from './support/fuzz';

type Ops = number[];
const utf8 = (s: string) => Array.from(new TextEncoder().encode(s));
const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
const str = (s: string): Ops => [0x58, ...u32(utf8(s).length), ...utf8(s)];
const int = (n: number): Ops => n >= 0 && n < 256 ? [0x4b, n] : [0x4a, ...u32(n >>> 0)];
/** LONG1 of a bigint (8 bytes, two's complement). */
const long = (n: bigint): Ops =>
  [0x8a, 8, ...Array.from({length: 8}, (_, i) => Number(BigInt.asUintN(64, n) >> BigInt(8 * i) & 0xffn))];
const global = (module: string, name: string): Ops => [0x63, ...utf8(`${module}\n${name}\n`)];
const tupleOf = (...items: Ops[]): Ops => [0x28, ...items.flat(), 0x74];
const MARK = 0x28, TUPLE = 0x74, REDUCE = 0x52, SETITEMS = 0x75, EMPTY_DICT = 0x7d, EMPTY_TUPLE = 0x29, STOP = 0x2e;
const pickle = (...ops: Ops[]) => new Uint8Array([0x80, 2, ...ops.flat(), STOP]);

const storage = (type: string, key: string, numel: number|bigint): Ops =>
  [...tupleOf(str('storage'), global('torch', type), str(key), str('cpu'),
    typeof numel === 'bigint' ? long(numel) : int(numel)), 0x51];
const sizes = (xs: Array<number|bigint>) => tupleOf(...xs.map(x => typeof x === 'bigint' ? long(x) : int(x)));
/** torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()). */
const tensor = (s: Ops, offset: number|bigint, shape: Array<number|bigint>, stride: Array<number|bigint>): Ops => [
  ...global('torch._utils', '_rebuild_tensor_v2'), MARK, ...s, ...sizes([offset]).slice(1, -1), ...sizes(shape),
  ...sizes(stride), 0x89, ...global('collections', 'OrderedDict'), EMPTY_TUPLE, REDUCE, TUPLE, REDUCE];
const dict = (entries: Array<[Ops, Ops]>): Ops =>
  [EMPTY_DICT, MARK, ...entries.flatMap(([k, v]) => [...k, ...v]), SETITEMS];

const f32 = (...values: number[]) => new Uint8Array(new Float32Array(values).buffer);

/** A torch.save-like zip: archive/data.pkl, archive/data/<key>, archive/version, plus `extra` entries. */
function checkpoint(pkl: Uint8Array, data: Record<string, Uint8Array> = {}, extra: Record<string, Uint8Array> = {},
    archive = 'archive'): Uint8Array {
  const files: Record<string, [Uint8Array, {level: 0}]> = {[`${archive}/data.pkl`]: [pkl, {level: 0}]};
  for (const [k, v] of Object.entries(data)) files[`${archive}/data/${k}`] = [v, {level: 0}];
  files[`${archive}/version`] = [new Uint8Array(utf8('3\n')), {level: 0}];
  for (const [k, v] of Object.entries(extra)) files[k] = [v, {level: 0}];
  return zipSync(files);
}
/** {'w': FloatStorage '0' of 4 viewed as [2, 2]}. */
const simple = (shape = [2, 2], stride = [2, 1], offset = 0, numel = 4) =>
  pickle(dict([[str('w'), tensor(storage('FloatStorage', '0', numel), offset, shape, stride)]]));

const parse = (bytes: Uint8Array) => vision.parseTorchCheckpoint(bytes);
const fails = (bytes: Uint8Array, ...patterns: RegExp[]) =>
  expectThrows(() => parse(bytes), /^parseTorchCheckpoint: /, ...patterns);

/** The central directory record of `name` (its offset in the zip). */
function centralRecord(zip: Uint8Array, name: string): number {
  const view = new DataView(zip.buffer, zip.byteOffset);
  for (let at = zip.length - 22; at >= 0; at--) {
    if (view.getUint32(at, true) !== 0x02014b50) continue;
    const n = view.getUint16(at + 28, true);
    if (new TextDecoder().decode(zip.subarray(at + 46, at + 46 + n)) === name) return at;
  }
  throw new Error(`no central record for ${name}`);
}

/** Every parse of a mutated file: a result whose tensors are whole, or a parseTorchCheckpoint Error. */
function parsesOrFailsCleanly(bytes: Uint8Array, what: string): boolean {
  try {
    const {tensors} = parse(bytes);
    for (const t of Object.values(tensors)) {
      if (t.values.length !== t.shape.reduce((a, b) => a * b, 1)) {
        throw new Error(`${what}: a tensor of the wrong length`);
      }
      if (t.dtype === 'bool' && !Array.from(t.values).every(v => v === 0 || v === 1)) throw new Error(`${what}: bool`);
    }
    return true;
  } catch (e) {
    if (!(e instanceof Error) || Object.getPrototypeOf(e) !== Error.prototype ||
        !e.message.startsWith('parseTorchCheckpoint: ')) {
      throw new Error(`${what} threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
    return false;
  }
}

describe('parseTorchCheckpoint: the pickle runs nothing', () => {
  it('refuses every global outside the state_dict allow-list, by GLOBAL or STACK_GLOBAL', () => {
    for (const [module, name] of [['os', 'system'], ['builtins', 'eval'], ['__builtin__', 'eval'], ['torch', 'load'],
      ['subprocess', 'Popen'], ['torch._utils', '_rebuild_tensor'], ['torch', 'ComplexFloatStorage'],
      ['torch._utils', '_rebuild_parameter_with_state'], ['collections', 'defaultdict']]) {
      const path = `${module}.${name}`.replace(/\./g, '\\.');
      fails(checkpoint(pickle(global(module, name), tupleOf(str('echo pwned')), [REDUCE])),
          new RegExp(`pickle global ${path} is not allowed`));
      fails(checkpoint(pickle(str(module), str(name), [0x93], tupleOf(str('x')), [REDUCE])),
          new RegExp(`pickle global ${path} is not allowed`));
    }
    fails(checkpoint(pickle(global('torch.nn.modules.linear', 'Linear'))), /Linear is not allowed/, /state_dict\(\)/);
    fails(checkpoint(pickle(global('os', 'system\u0000')), /not allowed/));
    fails(checkpoint(pickle([0x63, ...utf8('os'.padEnd(300, 'x'))])), /GLOBAL at byte 2 has no name line/);
  });

  it('calls allowed globals only as a state_dict does', () => {
    fails(checkpoint(pickle(global('torch', 'FloatStorage'), tupleOf(int(4)), [REDUCE])),
        /REDUCE of the global torch\.FloatStorage with a tuple of 1 is not allowed/);
    fails(checkpoint(pickle(global('collections', 'OrderedDict'), tupleOf(str('x')), [REDUCE])),
        /REDUCE of .*OrderedDict/);
    fails(checkpoint(pickle(global('torch._utils', '_rebuild_tensor_v2'), [EMPTY_TUPLE, 0x81])),
        /NEWOBJ of .*_rebuild_tensor_v2/);
    fails(checkpoint(pickle(global('torch._utils', '_rebuild_parameter'), tupleOf(int(1), int(0), int(0)), [REDUCE])),
        /REDUCE of .*_rebuild_parameter/);
    fails(checkpoint(pickle(str('x'), [EMPTY_TUPLE, REDUCE])), /REDUCE of the str 'x'/);
    const notStorage = tupleOf(int(1), int(0), sizes([1]), sizes([1]), [0x89], [0x4e]);
    fails(checkpoint(pickle(global('torch._utils', '_rebuild_tensor_v2'), notStorage, [REDUCE])),
        /takes a storage, not the int 1/);
    // BUILD on a plain dict (a dict has no attributes) or on a tensor
    fails(checkpoint(pickle([EMPTY_DICT, EMPTY_DICT, 0x62])), /BUILD at byte 4 of a dict of 0/);
    fails(checkpoint(pickle(tensor(storage('FloatStorage', '0', 1), 0, [], []), [EMPTY_DICT, 0x62]), {'0': f32(1)}),
        /BUILD .* of a tensor/);
  });

  it('refuses every opcode outside the subset, naming it', () => {
    const cases: Array<[Ops, RegExp]> = [
      [[0x69, ...utf8('os\nsystem\n')], /opcode INST \(0x69\) at byte 2 is not allowed/],
      [[MARK, ...global('os', 'system'), 0x6f], /pickle global os\.system/],
      [[MARK, 0x6f], /opcode OBJ \(0x6f\)/],
      [[0x82, 1], /opcode EXT1/], [[0x83, 1, 0], /opcode EXT2/], [[0x84, 1, 0, 0, 0], /opcode EXT4/],
      [[0x50, ...utf8('0\n')], /opcode PERSID/], [[0x53, ...utf8("'x'\n")], /opcode STRING/],
      [[0x49, ...utf8('1\n')], /opcode INT/], [[0x43, 1, 0], /opcode SHORT_BINBYTES/],
      [[0x8f], /opcode EMPTY_SET/], [[0x92], /opcode NEWOBJ_EX/], [[0x97], /opcode NEXT_BUFFER/],
      [[0x4e, 0x32], /opcode DUP/], [[0x4e, 0x30], /opcode POP/], [[0xff], /unknown opcode 0xff at byte 2/],
    ];
    for (const [ops, pattern] of cases) fails(checkpoint(pickle(ops)), pattern);
    fails(checkpoint(new Uint8Array([0x80, 1, 0x7d, STOP])), /protocol 1 is not supported/);
    fails(checkpoint(new Uint8Array([0x80, 2, 0x7d])), /ends at byte 3 without STOP/);
    fails(checkpoint(pickle([EMPTY_DICT, EMPTY_DICT])), /STOP .* finds 2 values/);
    fails(checkpoint(pickle([0x73])), /SETITEM at byte 2 finds an empty stack/);
    fails(checkpoint(pickle([0x74])), /TUPLE at byte 2 has no MARK/);
    fails(checkpoint(pickle([0x68, 7])), /BINGET at byte 2 reads memo 7, which is not set/);
    fails(checkpoint(pickle([0x58, ...u32(2 ** 31)])), /ends inside a string/);
    fails(checkpoint(pickle([0x58, 2, 0, 0, 0, 0xc3, 0x28])), /not valid UTF-8/);
    fails(checkpoint(pickle([0x8b, ...u32(2 ** 30)])), /LONG4 .* declares 1073741824 bytes/);
    fails(checkpoint(pickle([0x95, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, EMPTY_DICT])),
        /FRAME .* past the end/);
    fails(checkpoint(pickle([EMPTY_DICT, 0x5d, 0x5d, SETITEMS - 2])), /dict key a list of 0/);
  });

  it('bounds nesting and survives self-referencing and deep structures', () => {
    fails(checkpoint(pickle(Array(65).fill(MARK))), /nests MARKs deeper than 64/);
    // a list that contains itself, and a state_dict that contains itself, beside a tensor
    const w = tensor(storage('FloatStorage', '0', 1), 0, [], []);
    const selfish = pickle([EMPTY_DICT, 0x71, 0, MARK], str('w'), w, str('me'), [0x68, 0],
        str('loop'), [0x5d, 0x71, 1, 0x68, 1, 0x61], [SETITEMS]);
    const {tensors} = parse(checkpoint(selfish, {'0': f32(4)}));
    expect(Object.keys(tensors)).toEqual(['w']);
    // 100,000 nested lists without MARKs: no recursion anywhere
    const nestedLists = [...Array(100000).fill(0x5d), ...Array(99999).fill(0x61)];
    const deep = pickle(dict([[str('w'), w], [str('deep'), nestedLists]]));
    expect(Object.keys(parse(checkpoint(deep, {'0': f32(4)})).tensors)).toEqual(['w']);
  });
});

describe('parseTorchCheckpoint: storages and views are checked against the file', () => {
  it('a storage must match its zip entry exactly, before anything is allocated', () => {
    fails(checkpoint(simple([2, 2], [2, 1], 0, 100), {'0': f32(1, 2, 3, 4)}),
        /storage '0' is a FloatStorage of 100 elements \(400 bytes\), but its zip entry 'archive\/data\/0' has 16/);
    fails(checkpoint(simple([2, 2], [2, 1], 0, 3), {'0': f32(1, 2, 3, 4)}), /of 3 elements \(12 bytes\)/);
    fails(checkpoint(pickle(dict([[str('w'), tensor(storage('FloatStorage', '0', 2n ** 50n), 0, [1], [1])]])),
        {'0': f32(1)}), /of 1125899906842624 elements \(4503599627370496 bytes\)/);
    fails(checkpoint(pickle(dict([[str('w'), tensor(storage('FloatStorage', '0', 2n ** 62n), 0, [1], [1])]])),
        {'0': f32(1)}), /storage '0' numel is the int 4611686018427387904/);
    fails(checkpoint(pickle(dict([[str('w'), tensor(storage('FloatStorage', '0', -1n), 0, [1], [1])]])), {'0': f32(1)}),
        /numel is the int -1, not a non-negative integer/);
    fails(checkpoint(simple(), {'1': f32(1, 2, 3, 4)}),
        /storage '0' \(FloatStorage\) has no zip entry 'archive\/data\/0'/);
    fails(checkpoint(pickle(dict([[str('w'), [...tupleOf(str('storage'), str('x')), 0x51]]]))),
        /persistent id a tuple of 2/);
    fails(checkpoint(pickle(dict([[str('w'), [...tupleOf(str('storage'), global('collections', 'OrderedDict'), str('0'),
      str('cpu'), int(1)), 0x51]]]))), /persistent id/);
    const twice = pickle(dict([[str('a'), tensor(storage('FloatStorage', '0', 4), 0, [4], [1])],
      [str('b'), tensor(storage('IntStorage', '0', 4), 0, [4], [1])]]));
    fails(checkpoint(twice, {'0': f32(1, 2, 3, 4)}),
        /storage '0' is declared as FloatStorage of 4 and as IntStorage of 4/);
  });

  it('offsets, sizes and strides must stay inside the storage', () => {
    const data = {'0': f32(1, 2, 3, 4)};
    fails(checkpoint(simple([2, 2], [2, 1], 1), data),
        /tensor 'w' .*offset 1, size \[2,2\], stride \[2,1\]\) reaches past/);
    fails(checkpoint(simple([2, 3], [2, 1]), data), /reaches past the end of its storage/);
    fails(checkpoint(simple([5], [1]), data), /reaches past/);
    fails(checkpoint(simple([2], [4]), data), /reaches past/);
    fails(checkpoint(simple([1], [1], 4), data), /reaches past/);
    fails(checkpoint(simple([2, 2], [-1, 1]), data), /stride\[0\] is the int -1, not a non-negative integer/);
    fails(checkpoint(simple([2, 2], [2, 1], -1), data), /storage_offset is the int -1/);
    fails(checkpoint(simple([-2, 2], [2, 1]), data), /size\[0\] is the int -2/);
    fails(checkpoint(simple([2, 2], [2]), data), /size \(2,2\) but stride \(2\)/);
    const huge = (shape: Array<number|bigint>, stride: Array<number|bigint>, offset: number|bigint = 0) =>
      checkpoint(pickle(dict([[str('w'), tensor(storage('FloatStorage', '0', 4), offset, shape, stride)]])), data);
    fails(huge([2, 2n ** 51n], [1, 2n ** 52n]), /reaches past/);  // the reach overflows 2^53
    fails(huge([2n ** 30n, 2n ** 30n, 2n ** 30n], [0, 0, 0]), /more than 2\^53 - 1 elements/);
    fails(huge([1], [1], 2n ** 50n), /offset 1125899906842624.* reaches past/);
    fails(huge([1], [1], 2n ** 60n), /storage_offset is the int 1152921504606846976/);
    fails(huge([2n ** 50n], [1]), /reaches past/);
    fails(huge([2n ** 54n], [1]), /size\[0\] is the int 18014398509481984, not a non-negative integer/);
    // stride 0 repeats an element: allowed, but the copies are bounded by the file's size
    fails(huge([2n ** 40n], [0]), /takes the tensors over 4 elements per byte of the file/);
    expect(Array.from(parse(huge([2, 3], [0, 1])).tensors.w.values)).toEqual([1, 2, 3, 1, 2, 3]);
    // an empty tensor reads nothing, wherever it points (as torch)
    expect(parse(huge([0, 5], [9, 9], 99)).tensors.w.values.length).toBe(0);
  });

  it('integers outside int32 and bool bytes other than 0/1 name the tensor', () => {
    const i64 = new Uint8Array(16);
    new DataView(i64.buffer).setBigInt64(8, 2n ** 40n, true);
    fails(checkpoint(pickle(dict([[str('n'), tensor(storage('LongStorage', '0', 2), 0, [2], [1])]])), {'0': i64}),
        /tensor 'n' \(LongStorage\) has 1099511627776 at element 1, outside int32/);
    fails(checkpoint(pickle(dict([[str('m'), tensor(storage('BoolStorage', '0', 2), 0, [2], [1])]])),
        {'0': new Uint8Array([1, 2])}), /tensor 'm' \(BoolStorage\) has byte 2 at element 1/);
  });

  it('honours a big-endian byteorder entry and refuses an unknown one', () => {
    const big = new Uint8Array(8);
    new DataView(big.buffer).setFloat32(0, 1.5, false);
    new DataView(big.buffer).setFloat32(4, -3, false);
    const pkl = pickle(dict([[str('w'), tensor(storage('FloatStorage', '0', 2), 0, [2], [1])]]));
    const order = (s: string) => ({'archive/byteorder': new Uint8Array(utf8(s))});
    expect(Array.from(parse(checkpoint(pkl, {'0': big}, order('big'))).tensors.w.values)).toEqual([1.5, -3]);
    const little = parse(checkpoint(pkl, {'0': f32(1.5, -3)}, order('little')));
    expect(Array.from(little.tensors.w.values)).toEqual([1.5, -3]);
    fails(checkpoint(pkl, {'0': big}, order('middle')), /byteorder is 'middle', not 'little' or 'big'/);
  });
});

describe('parseTorchCheckpoint: the zip container', () => {
  const good = () => checkpoint(simple(), {'0': f32(1, 2, 3, 4)});

  it('reads a well-formed built checkpoint (any archive name, extra records ignored)', () => {
    const file = checkpoint(simple(), {'0': f32(1, 2, 3, 4)}, {'my model/.data/version': new Uint8Array([0x33])},
        'my model');
    expect(Array.from(parse(file).tensors.w.values)).toEqual([1, 2, 3, 4]);
  });

  it('refuses files that are not torch.save zips', () => {
    fails(new Uint8Array(0), /needs at least 22 bytes/);
    fails(new Uint8Array(100).fill(7), /not a zip file, or a damaged one/);
    fails(new Uint8Array([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]),
        /legacy torch\.save format/);
    fails(zipSync({'archive/data/0': [f32(1), {level: 0}]}), /no 'archive\/data\.pkl' entry/);
    fails(zipSync({}), /no <archive>\/data\.pkl entry/);
    fails(zipSync({'data.pkl': [simple(), {level: 0}]}), /zip entry 'data\.pkl' is not in an archive folder/);
    fails(checkpoint(simple(), {'0': f32(1, 2, 3, 4)}, {'other/data/1': f32(1)}),
        /zip entries are in two archive folders, 'archive' and 'other'/);
    for (const bad of [null, undefined, 12, 'abc', [1, 2, 3]]) {
      expectThrows(() => vision.parseTorchCheckpoint(bad as unknown as Uint8Array),
          /^parseTorchCheckpoint: source must be/);
    }
  });

  it('refuses compressed entries, before inflating them', () => {
    const zip = zipSync({'archive/data.pkl': [simple(), {level: 0}],
      'archive/data/0': [new Uint8Array(4096), {level: 9}]});
    fails(zip, /zip entry 'archive\/data\/0' is compressed \(method 8\)/);
  });

  it('checks declared entry sizes against the file before copying', () => {
    for (const [field, value] of [[20, 0xfffffff0], [24, 0xfffffff0], [20, 0xffffffff], [24, 64]] as const) {
      const zip = good();
      new DataView(zip.buffer).setUint32(centralRecord(zip, 'archive/data/0') + field, value, true);
      fails(zip, /zip entry 'archive\/data\/0' declares/);
    }
    // a local header offset near the end: the entry is cut short
    const zip = good();
    new DataView(zip.buffer).setUint32(centralRecord(zip, 'archive/data/0') + 42, zip.length - 8, true);
    fails(zip, /zip entry 'archive\/data\/0' is cut short: 0 of its 16 bytes/);
  });

  it('bounds the entry count a directory claims (zip and zip64)', () => {
    const zip = good();
    const view = new DataView(zip.buffer);
    view.setUint16(zip.length - 22 + 8, 0xffff, true);
    view.setUint16(zip.length - 22 + 10, 0xffff, true);
    const start = Date.now();
    fails(zip, /zip/);
    // a zip64 end record claiming 2^32 - 1 entries
    const plain = good();
    const eocd = plain.length - 22;
    const cdOffset = new DataView(plain.buffer).getUint32(eocd + 16, true);
    const z64 = new Uint8Array(56 + 20);
    const zv = new DataView(z64.buffer);
    zv.setUint32(0, 0x06064b50, true);
    zv.setUint32(32, 0xffffffff, true);
    zv.setUint32(40, 0xffffffff, true);
    zv.setUint32(48, cdOffset, true);
    zv.setUint32(56, 0x07064b50, true);
    zv.setUint32(64, eocd, true);
    const file = new Uint8Array([...plain.subarray(0, eocd), ...z64, ...plain.subarray(eocd)]);
    fails(file, /zip/);
    expect(Date.now() - start).toBeLessThan(1000);
  });

  it('refuses an entry listed twice', () => {
    const zip = checkpoint(simple(), {'0': f32(1, 2, 3, 4), '1': f32(5)});
    const from = utf8('archive/data/1');
    for (let at = 0; at + from.length <= zip.length; at++) {
      if (from.every((b, i) => zip[at + i] === b)) zip[at + from.length - 1] = 0x30;
    }
    fails(zip, /zip entry 'archive\/data\/0' is listed twice/);
  });
});

describe('parseTorchCheckpoint: which dict is the state_dict', () => {
  const w = (key = '0') => tensor(storage('FloatStorage', key, 1), 0, [], []);
  const data = {'0': f32(2), '1': f32(3)};

  it('the dict itself, or its one dict of tensors one level down', () => {
    const nested = pickle(dict([[str('epoch'), int(3)], [str('model'), dict([[str('w'), w()], [str('n'), int(1)]])],
      [str('optimizer'), dict([[str('state'), dict([[int(0), dict([[str('m'), w('1')]])]])]])]]));
    expect(Object.keys(parse(checkpoint(nested, data)).tensors)).toEqual(['w']);
    expect(Object.keys(parse(checkpoint(pickle([EMPTY_DICT]))).tensors)).toEqual([]);
    const protoNames = pickle(dict([[str('__proto__'), w()], [str('constructor'), w('1')]]));
    const proto = parse(checkpoint(protoNames, data)).tensors;
    expect(Object.keys(proto)).toEqual(['__proto__', 'constructor']);
    expect(Array.from(proto['__proto__'].values)).toEqual([2]);
    expect(Object.getPrototypeOf(proto)).toBe(null);
  });

  it('refuses ambiguous or tensor-less checkpoints and non-str keys', () => {
    fails(checkpoint(pickle(dict([[str('model'), dict([[str('w'), w()]])], [str('ema'), dict([[str('w'), w('1')]])]])),
        data), /holds 2 dicts of tensors \('model', 'ema'\)/);
    fails(checkpoint(pickle(dict([[str('epoch'), int(3)]]))), /holds no tensors/, /'epoch'/);
    fails(checkpoint(pickle([0x5d])), /data\.pkl holds a list of 0, not a dict/);
    fails(checkpoint(pickle(w()), data), /data\.pkl holds a tensor, not a dict/);
    fails(checkpoint(pickle(dict([[int(3), w()]])), data), /state_dict key the int 3 is not a str/);
  });
});

/** A seeded generator of uniform numbers in [0, 1). */
const random = (seed: number) => {
  const rng = new Rng(seed);
  return () => rng.next();
};

describe('parseTorchCheckpoint fuzz on a torch.save file', () => {
  it('truncated at every byte: an Error, never another exception', async () => {
    const bytes = await fixtureBytes('torch_checkpoint/views.pth');
    const start = Date.now();
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(parsesOrFailsCleanly(bytes.slice(0, cut), `cut at ${cut}`)).toBe(false);
    }
    expect(Date.now() - start).toBeLessThan(5000);
  });

  it('600 seeded byte mutations: whole tensors or a parseTorchCheckpoint Error', async () => {
    const base = await fixtureBytes('torch_checkpoint/state_dict.pth');
    const rand = random(15);
    const int = (n: number) => Math.floor(rand() * n);
    // the pickle's first byte (after the local header) and the central directory (start from the end record)
    const pickleStart = 30 + new DataView(base.buffer, base.byteOffset).getUint16(26, true) +
        new DataView(base.buffer, base.byteOffset).getUint16(28, true);
    const directory = new DataView(base.buffer, base.byteOffset).getUint32(base.length - 22 + 16, true);
    let parsed = 0;
    const start = Date.now();
    for (let iter = 0; iter < 600; iter++) {
      const bytes = base.slice();
      for (let k = 1 + int(3); k > 0; k--) {
        const region = int(3);
        const at = region === 0 ? pickleStart + int(700) : region === 1 ? directory + int(base.length - directory) :
            int(base.length);
        bytes[at] = rand() < 0.5 ? int(256) : bytes[at] ^ (1 << int(8));
      }
      if (parsesOrFailsCleanly(bytes, `mutation ${iter}`)) parsed++;
    }
    expect(parsed).toBeGreaterThan(20);
    expect(Date.now() - start).toBeLessThan(10000);
  });
});
