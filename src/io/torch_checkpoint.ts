/**
 * torch.save's zip format (PyTorch >= 1.6): a zip of stored entries under one
 * archive folder, `<archive>/data.pkl` (a pickle whose tensors refer to
 * storages by persistent id ('storage', torch.FloatStorage, key, location,
 * numel)), `<archive>/data/<key>` (each storage's raw bytes),
 * `<archive>/version` and, from torch 2.1, `<archive>/byteorder`.
 *
 * The zip is read with fflate (directory and entry sizes checked before any
 * copy), the pickle by a restricted reader that knows only a state_dict's
 * globals, and every tensor's offset, shape and strides are checked against
 * its storage. Every failure is an Error starting with 'parseTorchCheckpoint:'.
 */
import {unzipSync} from 'fflate';
import {HostTensor} from './safetensors.ts';
import {quote} from './strict_json.ts';
import {PyDict, PyGlobal, PyOpaque, PyTuple, PyValue, describePy, unpickle} from './restricted_unpickler.ts';
import {f16ToF32} from './float16.ts';

const FORMAT = 'parseTorchCheckpoint';

/** torch's storage types: the safetensors-style dtype name (HostTensor.sourceDtype) and bytes per element. */
const STORAGES = new Map<string, [string, number]>([
  ['FloatStorage', ['F32', 4]], ['DoubleStorage', ['F64', 8]], ['HalfStorage', ['F16', 2]],
  ['BFloat16Storage', ['BF16', 2]], ['LongStorage', ['I64', 8]], ['IntStorage', ['I32', 4]],
  ['ShortStorage', ['I16', 2]], ['CharStorage', ['I8', 1]], ['ByteStorage', ['U8', 1]], ['BoolStorage', ['BOOL', 1]],
]);
const REBUILD_TENSOR = 'torch._utils._rebuild_tensor_v2';
const REBUILD_PARAMETER = 'torch._utils._rebuild_parameter';
const ORDERED_DICT = 'collections.OrderedDict';
const ALLOWED = new Set([ORDERED_DICT, REBUILD_TENSOR, REBUILD_PARAMETER,
  ...[...STORAGES.keys()].map(s => `torch.${s}`)]);
/** The smallest zip central directory record: it bounds how many entries a file can list. */
const CENTRAL_RECORD_BYTES = 46;
/** Decoded elements allowed per byte of the file (views that repeat storage elements, e.g. expand(), are copied). */
const ELEMENTS_PER_FILE_BYTE = 4;
const EXTRA_ELEMENTS = 2 ** 20;

function fail(message: string): never {
  throw new Error(`${FORMAT}: ${message}`);
}

class Storage extends PyOpaque {
  constructor(readonly type: string, readonly key: string, readonly numel: number, readonly bytes: Uint8Array) {
    super(`a ${type} storage`);
  }
}

class TensorRef extends PyOpaque {
  constructor(readonly storage: Storage, readonly offset: number, readonly shape: number[], readonly stride: number[]) {
    super('a tensor');
  }
}

/** A non-negative int that is a safe JS integer. */
function count(v: PyValue, what: string): number {
  if (typeof v !== 'bigint' || v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) {
    fail(`${what} is ${describePy(v)}, not a non-negative integer (at most 2^53 - 1)`);
  }
  return Number(v);
}

function counts(v: PyValue, what: string): number[] {
  if (!(v instanceof PyTuple)) fail(`${what} is ${describePy(v)}, not a tuple of integers`);
  return v.items.map((d, i) => count(d, `${what}[${i}]`));
}

interface Zip { archive: string; entries: Map<string, Uint8Array>; }

/** The entries torch reads (data.pkl, data/<key>, byteorder) by name after the archive folder. */
function readZip(bytes: Uint8Array): Zip {
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] === 0x02) {
    fail('this is the legacy torch.save format (a bare pickle, from torch < 1.6 or ' +
        '_use_new_zipfile_serialization=False); load it and save it again with a current torch');
  }
  if (bytes.length < 22) fail(`needs at least 22 bytes for a zip file, got ${bytes.length}`);
  const sizes = new Map<string, number>();
  let archive: string|undefined;
  let listed = 0;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {filter: entry => {
      if (++listed > bytes.length / CENTRAL_RECORD_BYTES) {
        fail('the zip directory lists more entries than the file holds');
      }
      const slash = entry.name.indexOf('/');
      if (slash <= 0) {
        fail(`zip entry ${quote(entry.name)} is not in an archive folder (torch.save writes <archive>/data.pkl)`);
      }
      const folder = entry.name.slice(0, slash);
      archive ??= folder;
      if (folder !== archive) fail(`zip entries are in two archive folders, ${quote(archive)} and ${quote(folder)}`);
      const record = entry.name.slice(slash + 1);
      if (record !== 'data.pkl' && record !== 'byteorder' && !record.startsWith('data/')) return false;
      if (sizes.has(record)) fail(`zip entry ${quote(entry.name)} is listed twice`);
      if (entry.compression !== 0) {
        fail(`zip entry ${quote(entry.name)} is compressed (method ${entry.compression}); ` +
            'torch.save stores entries uncompressed');
      }
      if (entry.size !== entry.originalSize || entry.size > bytes.length) {
        fail(`zip entry ${quote(entry.name)} declares ${entry.size} bytes (${entry.originalSize} uncompressed) ` +
            `in a file of ${bytes.length} bytes`);
      }
      sizes.set(record, entry.size);
      return true;
    }});
  } catch (e) {
    if (e instanceof Error && e.message.startsWith(`${FORMAT}:`)) throw e;
    fail(`not a zip file, or a damaged one (${e instanceof Error ? e.message : String(e)})`);
  }
  const entries = new Map<string, Uint8Array>();
  for (const [record, size] of sizes) {
    const name = `${archive}/${record}`;
    const data = Object.prototype.hasOwnProperty.call(files, name) ? files[name] : undefined;
    if (data == null || data.length !== size) {
      fail(`zip entry ${quote(name)} is cut short: ${data?.length ?? 0} of its ${size} bytes are in the file`);
    }
    entries.set(record, data);
  }
  if (archive === undefined || !entries.has('data.pkl')) {
    fail(`the zip has no ${archive === undefined ? '<archive>/data.pkl' : quote(`${archive}/data.pkl`)} entry ` +
        '(not a torch.save checkpoint)');
  }
  return {archive, entries};
}

/** The pickle's hooks: a state_dict's globals, storages from the zip, tensors as references. */
function hooksFor(zip: Zip) {
  const storages = new Map<string, Storage>();
  return {
    fail,
    global(module: string, name: string): PyValue {
      const path = `${module}.${name}`;
      if (ALLOWED.has(path)) return new PyGlobal(module, name);
      const model = /^(torch\.nn|__main__|__torch__|torchvision)/.test(module);
      const hint = model ? '; save model.state_dict(), not the model' : '';
      return fail(`pickle global ${quote(path).slice(1, -1)} is not allowed (a state_dict needs only OrderedDict, ` +
          `torch's tensor and parameter rebuilds and storage types${hint})`);
    },
    persistentLoad(pid: PyValue): PyValue {
      const items = pid instanceof PyTuple ? pid.items : [];
      const [tag, type, key, , numel] = items;
      if (items.length !== 5 || tag !== 'storage' || !(type instanceof PyGlobal) || !STORAGES.has(type.name) ||
          typeof key !== 'string' || typeof items[3] !== 'string') {
        fail(`persistent id ${describePy(pid)} is not ('storage', <torch storage type>, key, location, numel)`);
      }
      const elements = count(numel, `storage ${quote(key)} numel`);
      const known = storages.get(key);
      if (known != null) {
        if (known.type !== type.name || known.numel !== elements) {
          fail(`storage ${quote(key)} is declared as ${known.type} of ${known.numel} ` +
              `and as ${type.name} of ${elements}`);
        }
        return known;
      }
      const data = zip.entries.get(`data/${key}`);
      const entry = quote(`${zip.archive}/data/${key}`);
      if (data == null) fail(`storage ${quote(key)} (${type.name}) has no zip entry ${entry}`);
      const size = STORAGES.get(type.name)![1];
      if (elements * size !== data.length) {
        fail(`storage ${quote(key)} is a ${type.name} of ${elements} elements (${elements * size} bytes), ` +
            `but its zip entry ${entry} has ${data.length} bytes`);
      }
      const storage = new Storage(type.name, key, elements, data);
      storages.set(key, storage);
      return storage;
    },
    call(op: 'REDUCE'|'NEWOBJ', callable: PyValue, args: PyTuple): PyValue {
      const path = callable instanceof PyGlobal ? callable.path : '';
      if (path === ORDERED_DICT && (op === 'NEWOBJ' || args.items.length === 0)) return new PyDict(true);
      if (op === 'REDUCE' && path === REBUILD_TENSOR && (args.items.length === 6 || args.items.length === 7)) {
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        const [storage, offset, shape, stride] = args.items;
        if (!(storage instanceof Storage)) fail(`${REBUILD_TENSOR} takes a storage, not ${describePy(storage)}`);
        const sizes = counts(shape, 'a tensor\'s size');
        const strides = counts(stride, 'a tensor\'s stride');
        if (strides.length !== sizes.length) fail(`a tensor has size (${sizes}) but stride (${strides})`);
        return new TensorRef(storage, count(offset, 'a tensor\'s storage_offset'), sizes, strides);
      }
      const [data] = args.items;
      if (op === 'REDUCE' && path === REBUILD_PARAMETER && args.items.length === 3 && data instanceof TensorRef) {
        return data;  // (data, requires_grad, backward_hooks): the tensor
      }
      return fail(`pickle ${op} of ${describePy(callable)} with ${describePy(args)} is not allowed`);
    },
  };
}

const isTensor = (v: PyValue) => v instanceof TensorRef;
const holdsTensors = (v: PyValue): boolean => v instanceof PyDict && [...v.entries.values()].some(isTensor);

/** The top-level dict if it holds a tensor, else its one value that is a dict holding tensors. */
function stateDictOf(root: PyValue): PyDict {
  if (!(root instanceof PyDict)) fail(`data.pkl holds ${describePy(root)}, not a dict (a state_dict or checkpoint)`);
  if (root.entries.size === 0 || holdsTensors(root)) return root;
  const nested = [...root.entries].filter(([, v]) => holdsTensors(v));
  const keys = (list: PyValue[]) =>
    list.slice(0, 8).map(k => (typeof k === 'string' ? quote(k) : describePy(k))).join(', ');
  if (nested.length === 1) return nested[0][1] as PyDict;
  if (nested.length > 1) {
    fail(`data.pkl holds ${nested.length} dicts of tensors (${keys(nested.map(([k]) => k))}), not one state_dict`);
  }
  return fail('data.pkl holds no tensors, neither in its dict nor in a dict one level down ' +
      `(keys ${keys([...root.entries.keys()])})`);
}

/** A reader of element j of the storage. */
function elementReader(name: string, storage: Storage, little: boolean): (j: number, i: number) => number {
  const view = new DataView(storage.bytes.buffer, storage.bytes.byteOffset, storage.bytes.byteLength);
  const int32 = (v: number|bigint, i: number) => {
    if (v > 2147483647 || v < -2147483648) {
      fail(`tensor ${quote(name)} (${storage.type}) has ${v} at element ${i}, outside int32`);
    }
    return Number(v);
  };
  const bits = new Uint32Array(1);
  const bf16 = new Float32Array(bits.buffer);
  switch (storage.type) {
    case 'FloatStorage': return j => view.getFloat32(j * 4, little);
    case 'DoubleStorage': return j => view.getFloat64(j * 8, little);
    case 'HalfStorage': return j => f16ToF32(view.getUint16(j * 2, little));
    case 'BFloat16Storage': return j => (bits[0] = view.getUint16(j * 2, little) << 16, bf16[0]);
    case 'LongStorage': return (j, i) => int32(view.getBigInt64(j * 8, little), i);
    case 'IntStorage': return j => view.getInt32(j * 4, little);
    case 'ShortStorage': return j => view.getInt16(j * 2, little);
    case 'CharStorage': return j => view.getInt8(j);
    case 'ByteStorage': return j => view.getUint8(j);
    default: return (j, i) => {  // BoolStorage
      const b = view.getUint8(j);
      if (b > 1) fail(`tensor ${quote(name)} (BoolStorage) has byte ${b} at element ${i}; bool bytes are 0 or 1`);
      return b;
    };
  }
}

function decode(name: string, t: TensorRef, little: boolean, budget: {left: number}): HostTensor {
  const {storage, offset, shape, stride} = t;
  const what = `tensor ${quote(name)} (storage ${quote(storage.key)}, ${storage.type} of ${storage.numel} elements, ` +
      `offset ${offset}, size [${shape}], stride [${stride}])`;
  let total = 1;
  for (const d of shape) total *= d;
  if (!Number.isSafeInteger(total)) fail(`${what} has more than 2^53 - 1 elements`);
  if (total > 0) {
    let last = offset;
    shape.forEach((d, i) => last += (d - 1) * stride[i]);
    if (!Number.isSafeInteger(last) || last >= storage.numel) fail(`${what} reaches past the end of its storage`);
  }
  budget.left -= total;
  if (budget.left < 0) fail(`${what} takes the tensors over ${ELEMENTS_PER_FILE_BYTE} elements per byte of the file`);
  const [sourceDtype] = STORAGES.get(storage.type)!;
  const dtype = sourceDtype === 'BOOL' ? 'bool' : /^(I|U8)/.test(sourceDtype) ? 'int32' : 'float32';
  const values = dtype === 'bool' ? new Uint8Array(total) : dtype === 'int32' ? new Int32Array(total) :
      new Float32Array(total);
  const read = elementReader(name, storage, little);
  // An odometer over the index: j is the storage element of index[] (any strides, 0 included).
  const index = shape.map(() => 0);
  let j = offset;
  for (let i = 0; i < total; i++) {
    values[i] = read(j, i);
    for (let d = shape.length - 1; d >= 0; d--) {
      j += stride[d];
      if (++index[d] < shape[d]) break;
      j -= stride[d] * shape[d];
      index[d] = 0;
    }
  }
  return {shape: [...shape], dtype, values, sourceDtype};
}

function bytesOf(source: unknown): Uint8Array {
  const tag = Object.prototype.toString.call(source);
  if (tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]') {
    return new Uint8Array(source as ArrayBuffer);
  }
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  const got = source === null ? 'null' : Array.isArray(source) ? 'an array' : typeof source;
  return fail(`source must be an ArrayBuffer or a Uint8Array, got ${got}`);
}

/**
 * Parses a checkpoint written by `torch.save` (PyTorch >= 1.6's zip format,
 * e.g. `torch.save(model.state_dict(), 'model.pth')`) into host tensors, the
 * same result as {@link parseSafetensors}: floats become float32 (float16,
 * bfloat16 and float64 converted), integers int32 (int64 values must fit),
 * bool bool; `sourceDtype` is the safetensors name of torch's storage type
 * ('F32' for FloatStorage, 'I64' for LongStorage, ...). Not a torchvision
 * function (torchvision: `torch.load`).
 *
 * Which dict is the state_dict: the pickled dict itself when one of its values
 * is a tensor; otherwise its one value that is a dict with a tensor value
 * (`{'model': state_dict, 'optimizer': ..., 'epoch': 3}`); two such values, or
 * none, are an Error. Of the state_dict, the tensor values (nn.Parameters
 * included) are returned in order; other values (ints, strings, nested
 * containers) and OrderedDict attributes such as `_metadata` are ignored.
 * Views are read as torch.load reads them: offset and strides (0 included) in
 * their storage, materialised row-major; storages shared by several tensors
 * are copied for each.
 *
 * Nothing in the file is trusted or run: the pickle is read by a restricted
 * reader that allows only the opcodes of plain data and the globals
 * collections.OrderedDict, torch._utils._rebuild_tensor_v2,
 * torch._utils._rebuild_parameter and torch.{Float, Double, Half, BFloat16,
 * Long, Int, Short, Char, Byte, Bool}Storage (a pickled nn.Module, or any
 * other global or opcode, is an Error naming it); zip entries must be stored
 * (uncompressed) in one archive folder with their declared sizes inside the
 * file; a storage's numel times its element size must equal its entry's size;
 * each tensor's offset and strides must stay inside its storage; a big-endian
 * `byteorder` is honoured; and the decoded tensors together may hold at most 4
 * elements per byte of the file plus 2^20. Any fault is an Error whose message
 * starts with 'parseTorchCheckpoint:'. The record has a null prototype.
 *
 * ```js
 * const {tensors} = parseTorchCheckpoint(await (await fetch('model.pth')).arrayBuffer());
 * loadTorchvisionWeights(model, tensors, {prefixes});
 * ```
 */
export function parseTorchCheckpoint(source: ArrayBuffer|Uint8Array): {tensors: Record<string, HostTensor>} {
  const bytes = bytesOf(source);
  const zip = readZip(bytes);
  const byteorder = zip.entries.get('byteorder');
  let little = true;
  if (byteorder != null) {
    const order = new TextDecoder().decode(byteorder).trim();
    if (order !== 'little' && order !== 'big') fail(`byteorder is ${quote(order)}, not 'little' or 'big'`);
    little = order === 'little';
  }
  const root = unpickle(zip.entries.get('data.pkl')!, hooksFor(zip));
  const budget = {left: ELEMENTS_PER_FILE_BYTE * bytes.length + EXTRA_ELEMENTS};
  const tensors: Record<string, HostTensor> = Object.create(null);
  for (const [key, value] of stateDictOf(root).entries) {
    if (!(value instanceof TensorRef)) continue;
    if (typeof key !== 'string') fail(`state_dict key ${describePy(key)} is not a str`);
    tensors[key] = decode(key, value, little, budget);
  }
  return {tensors};
}
