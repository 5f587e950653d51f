/**
 * A restricted pickle reader for the subset torch.save writes for a
 * state_dict (protocol 2, and protocol 4's FRAME, MEMOIZE, SHORT_BINUNICODE,
 * STACK_GLOBAL): None, bools, ints, floats, str, tuples, lists, dicts, the
 * memo, and GLOBAL / REDUCE / NEWOBJ / BUILD / BINPERSID handed to hooks that
 * allow only what the caller knows. Every other opcode is refused. It runs
 * nothing: values are plain data, and a global is only a name.
 *
 * The reader is a loop over the bytes (no recursion), every read is bounded by
 * the buffer, and a value is never bigger than the bytes that declare it.
 */
import {quote} from './strict_json.ts';

export class PyTuple { constructor(readonly items: PyValue[]) {} }
export class PyList { constructor(readonly items: PyValue[]) {} }
/** A dict or (ordered) an OrderedDict; keys are str, int, float, bool, None or tuples (by identity). */
export class PyDict {
  readonly entries = new Map<PyValue, PyValue>();
  constructor(readonly ordered: boolean) {}
}
/** A global named by GLOBAL / STACK_GLOBAL: a name, never a function. */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get path(): string { return `${this.module}.${this.name}`; }
}
/** A value the hooks made (a storage, a tensor): opaque to the reader. */
export class PyOpaque { constructor(readonly what: string) {} }
/** Python values: ints are bigint, floats number. */
export type PyValue = null|boolean|bigint|number|string|PyTuple|PyList|PyDict|PyGlobal|PyOpaque;

export interface UnpickleHooks {
  /** Called with every error; prefixes the message and throws. */
  fail(message: string): never;
  /** GLOBAL module.name: a PyGlobal when allowed, else fail. */
  global(module: string, name: string): PyValue;
  /** BINPERSID. */
  persistentLoad(pid: PyValue): PyValue;
  /** REDUCE (callable(*args)) and NEWOBJ (cls.__new__(cls, *args)). */
  call(op: 'REDUCE'|'NEWOBJ', callable: PyValue, args: PyTuple): PyValue;
}

/** How deeply MARKs may nest (torch's state_dict pickles nest 3). */
const MAX_MARK_DEPTH = 64;
/** The longest GLOBAL module or name line. */
const MAX_GLOBAL_LINE = 256;
/** The longest LONG4 integer, in bytes. */
const MAX_LONG_BYTES = 1024;

const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT',
  0x4a: 'BININT', 0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID',
  0x52: 'REDUCE', 0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE',
  0x61: 'APPEND', 0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET',
  0x68: 'BINGET', 0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT',
  0x71: 'BINPUT', 0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS',
  0x47: 'BINFLOAT', 0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1',
  0x86: 'TUPLE2', 0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

/** A value as a message names it ('the int 3', 'a tuple of 2', ...), without looking inside. */
export function describePy(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'bigint') return `the int ${v.toString().length > 40 ? `${v.toString().slice(0, 40)}...` : v}`;
  if (typeof v === 'number') return `the float ${v}`;
  if (typeof v === 'string') return `the str ${quote(v)}`;
  if (v instanceof PyTuple) return `a tuple of ${v.items.length}`;
  if (v instanceof PyList) return `a list of ${v.items.length}`;
  if (v instanceof PyDict) return `${v.ordered ? 'an OrderedDict' : 'a dict'} of ${v.entries.size}`;
  if (v instanceof PyGlobal) return `the global ${v.path}`;
  return v.what;
}

const isKey = (v: PyValue) => v === null || typeof v !== 'object' || v instanceof PyTuple;

class Unpickler {
  private at = 0;
  private stack: PyValue[] = [];
  private readonly marks: PyValue[][] = [];
  private readonly memo = new Map<number, PyValue>();
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array, private readonly hooks: UnpickleHooks) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private fail(message: string): never {
    return this.hooks.fail(`pickle ${message}`);
  }

  /** The next n bytes' offset, after checking they are there. */
  private take(n: number, what: string): number {
    if (n > this.bytes.length - this.at) {
      this.fail(`ends inside ${what} (needs ${n} bytes at byte ${this.at}, ${this.bytes.length - this.at} left)`);
    }
    const start = this.at;
    this.at += n;
    return start;
  }

  private pop(what: string): PyValue {
    if (this.stack.length === 0) this.fail(`${what} at byte ${this.at - 1} finds an empty stack`);
    return this.stack.pop()!;
  }

  private top(what: string): PyValue {
    if (this.stack.length === 0) this.fail(`${what} at byte ${this.at - 1} finds an empty stack`);
    return this.stack[this.stack.length - 1];
  }

  /** The values since the last MARK (which is removed). */
  private popMark(what: string): PyValue[] {
    if (this.marks.length === 0) this.fail(`${what} at byte ${this.at - 1} has no MARK`);
    const items = this.stack;
    this.stack = this.marks.pop()!;
    return items;
  }

  private text(start: number, end: number, what: string): string {
    try {
      return new TextDecoder('utf-8', {fatal: true, ignoreBOM: true}).decode(this.bytes.subarray(start, end));
    } catch {
      return this.fail(`${what} at byte ${start} is not valid UTF-8`);
    }
  }

  private line(at: number): string {
    const end = this.bytes.subarray(this.at, this.at + MAX_GLOBAL_LINE + 1).indexOf(0x0a);
    if (end < 0) this.fail(`GLOBAL at byte ${at} has no name line of at most ${MAX_GLOBAL_LINE} bytes`);
    const s = this.text(this.at, this.at + end, 'a GLOBAL name');
    this.at += end + 1;
    return s;
  }

  private integer(n: number): bigint {
    const start = this.take(n, 'an integer');
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.bytes[start + i]);
    return n > 0 && this.bytes[start + n - 1] & 0x80 ? v - (1n << BigInt(8 * n)) : v;
  }

  private setItems(dict: PyValue, items: PyValue[], what: string) {
    const at = this.at - 1;
    if (!(dict instanceof PyDict)) this.fail(`${what} at byte ${at} applies to ${describePy(dict)}, not a dict`);
    if (items.length % 2 !== 0) this.fail(`${what} at byte ${at} has an odd number of keys and values`);
    for (let i = 0; i < items.length; i += 2) {
      if (!isKey(items[i])) this.fail(`dict key ${describePy(items[i])} at byte ${at} is not supported`);
      dict.entries.set(items[i], items[i + 1]);
    }
  }

  private append(list: PyValue, items: PyValue[], what: string) {
    if (!(list instanceof PyList)) {
      this.fail(`${what} at byte ${this.at - 1} applies to ${describePy(list)}, not a list`);
    }
    for (const item of items) list.items.push(item);
  }

  run(): PyValue {
    const {view} = this;
    for (;;) {
      const at = this.at;
      if (at >= this.bytes.length) this.fail(`ends at byte ${at} without STOP`);
      const op = this.bytes[this.at++];
      switch (op) {
        case 0x80: {  // PROTO
          const protocol = this.bytes[this.take(1, 'PROTO')];
          if (protocol < 2 || protocol > 5) this.fail(`protocol ${protocol} is not supported (torch.save writes 2)`);
          break;
        }
        case 0x95: {  // FRAME: a length hint; the frame's opcodes follow inline
          const n = view.getBigUint64(this.take(8, 'FRAME'), true);
          if (n > BigInt(this.bytes.length - this.at)) {
            this.fail(`FRAME at byte ${at} declares ${n} bytes past the end`);
          }
          break;
        }
        case 0x2e: {  // STOP
          if (this.marks.length > 0 || this.stack.length !== 1) {
            this.fail(`STOP at byte ${at} finds ${this.stack.length} values and ${this.marks.length} open MARKs, ` +
                'not one value');
          }
          return this.stack[0];
        }
        case 0x28:  // MARK
          if (this.marks.length >= MAX_MARK_DEPTH) this.fail(`nests MARKs deeper than ${MAX_MARK_DEPTH} at byte ${at}`);
          this.marks.push(this.stack);
          this.stack = [];
          break;
        case 0x4e: this.stack.push(null); break;  // NONE
        case 0x88: this.stack.push(true); break;  // NEWTRUE
        case 0x89: this.stack.push(false); break;  // NEWFALSE
        case 0x4a: this.stack.push(BigInt(view.getInt32(this.take(4, 'BININT'), true))); break;
        case 0x4b: this.stack.push(BigInt(this.bytes[this.take(1, 'BININT1')])); break;
        case 0x4d: this.stack.push(BigInt(view.getUint16(this.take(2, 'BININT2'), true))); break;
        case 0x8a: this.stack.push(this.integer(this.bytes[this.take(1, 'LONG1')])); break;
        case 0x8b: {  // LONG4
          const n = view.getInt32(this.take(4, 'LONG4'), true);
          if (n < 0 || n > MAX_LONG_BYTES) {
            this.fail(`LONG4 at byte ${at} declares ${n} bytes (at most ${MAX_LONG_BYTES})`);
          }
          this.stack.push(this.integer(n));
          break;
        }
        case 0x47: this.stack.push(view.getFloat64(this.take(8, 'BINFLOAT'), false)); break;
        case 0x58: case 0x8c: {  // BINUNICODE, SHORT_BINUNICODE
          const n = op === 0x58 ? view.getUint32(this.take(4, 'BINUNICODE'), true) :
              this.bytes[this.take(1, 'SHORT_BINUNICODE')];
          const start = this.take(n, 'a string');
          this.stack.push(this.text(start, start + n, 'a string'));
          break;
        }
        case 0x29: this.stack.push(new PyTuple([])); break;  // EMPTY_TUPLE
        case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
          const n = op - 0x84;
          if (this.stack.length < n) this.fail(`${OPCODE_NAMES[op]} at byte ${at} finds ${this.stack.length} values`);
          this.stack.push(new PyTuple(this.stack.splice(this.stack.length - n, n)));
          break;
        }
        case 0x74: case 0x6c: {  // TUPLE, LIST (popMark first: it replaces this.stack)
          const items = this.popMark(OPCODE_NAMES[op]);
          this.stack.push(op === 0x74 ? new PyTuple(items) : new PyList(items));
          break;
        }
        case 0x5d: this.stack.push(new PyList([])); break;  // EMPTY_LIST
        case 0x61: {  // APPEND
          const item = this.pop('APPEND');
          this.append(this.top('APPEND'), [item], 'APPEND');
          break;
        }
        case 0x65: {  // APPENDS
          const items = this.popMark('APPENDS');
          this.append(this.top('APPENDS'), items, 'APPENDS');
          break;
        }
        case 0x7d: this.stack.push(new PyDict(false)); break;  // EMPTY_DICT
        case 0x64: {  // DICT
          const dict = new PyDict(false);
          this.setItems(dict, this.popMark('DICT'), 'DICT');
          this.stack.push(dict);
          break;
        }
        case 0x73: {  // SETITEM
          const value = this.pop('SETITEM');
          const key = this.pop('SETITEM');
          this.setItems(this.top('SETITEM'), [key, value], 'SETITEM');
          break;
        }
        case 0x75: {  // SETITEMS
          const items = this.popMark('SETITEMS');
          this.setItems(this.top('SETITEMS'), items, 'SETITEMS');
          break;
        }
        case 0x71: this.memo.set(this.bytes[this.take(1, 'BINPUT')], this.top('BINPUT')); break;
        case 0x72: this.memo.set(view.getUint32(this.take(4, 'LONG_BINPUT'), true), this.top('LONG_BINPUT')); break;
        case 0x94: this.memo.set(this.memo.size, this.top('MEMOIZE')); break;
        case 0x68: case 0x6a: {  // BINGET, LONG_BINGET
          const index = op === 0x68 ? this.bytes[this.take(1, 'BINGET')] :
              view.getUint32(this.take(4, 'LONG_BINGET'), true);
          if (!this.memo.has(index)) {
            this.fail(`${OPCODE_NAMES[op]} at byte ${at} reads memo ${index}, which is not set`);
          }
          this.stack.push(this.memo.get(index)!);
          break;
        }
        case 0x63: {  // GLOBAL
          const module = this.line(at);
          this.stack.push(this.hooks.global(module, this.line(at)));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          const name = this.pop('STACK_GLOBAL');
          const module = this.pop('STACK_GLOBAL');
          if (typeof module !== 'string' || typeof name !== 'string') {
            this.fail(`STACK_GLOBAL at byte ${at} takes two str, not ${describePy(module)} and ${describePy(name)}`);
          }
          this.stack.push(this.hooks.global(module, name));
          break;
        }
        case 0x52: case 0x81: {  // REDUCE, NEWOBJ
          const args = this.pop(OPCODE_NAMES[op]);
          const callable = this.pop(OPCODE_NAMES[op]);
          if (!(args instanceof PyTuple)) {
            this.fail(`${OPCODE_NAMES[op]} at byte ${at} takes a tuple of arguments, not ${describePy(args)}`);
          }
          this.stack.push(this.hooks.call(op === 0x52 ? 'REDUCE' : 'NEWOBJ', callable, args));
          break;
        }
        case 0x62: {  // BUILD: an OrderedDict's attributes (state_dict()._metadata), which are ignored
          const state = this.pop('BUILD');
          const target = this.top('BUILD');
          if (!(target instanceof PyDict && target.ordered) || !(state === null || state instanceof PyDict)) {
            this.fail(`BUILD at byte ${at} of ${describePy(target)} with ${describePy(state)} is not allowed ` +
                '(only an OrderedDict\'s attributes)');
          }
          break;
        }
        case 0x51: {  // BINPERSID
          const pid = this.pop('BINPERSID');
          this.stack.push(this.hooks.persistentLoad(pid));
          break;
        }
        default: {
          const name = OPCODE_NAMES[op];
          const hex = `0x${op.toString(16).padStart(2, '0')}`;
          this.fail(name == null ? `has the unknown opcode ${hex} at byte ${at}` :
              `opcode ${name} (${hex}) at byte ${at} is not allowed (a state_dict needs only dicts, tuples, ` +
              'numbers, strings, tensors and the memo)');
        }
      }
    }
  }
}

/** Reads one pickle from `bytes` (trailing bytes after STOP are ignored, as pickle.load does). */
export function unpickle(bytes: Uint8Array, hooks: UnpickleHooks): PyValue {
  return new Unpickler(bytes, hooks).run();
}
