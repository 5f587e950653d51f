/** Argument checks shared by all ops: each Error names the op and the argument. */
import {tensor, Tensor, TensorLike} from '@tensorflow/tfjs-core';

export function fail(op: string, arg: string, message: string): never {
  throw new Error(`${op}: argument '${arg}' ${message}`);
}

export function assertTensor(op: string, arg: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) {
    fail(op, arg, `must be a tf.Tensor, got ${describe(x)}`);
  }
}

export function assertRank(op: string, arg: string, x: Tensor, ranks: number[]) {
  if (!ranks.includes(x.rank)) {
    fail(op, arg, `must have rank ${ranks.join(' or ')}, got shape [${x.shape}]`);
  }
}

export function assertMinRank(op: string, arg: string, x: Tensor, min: number) {
  if (x.rank < min) {
    fail(op, arg, `must have rank >= ${min}, got shape [${x.shape}]`);
  }
}

export function assertLastDim(op: string, arg: string, x: Tensor, size: number) {
  if (x.rank === 0 || x.shape[x.rank - 1] !== size) {
    fail(op, arg, `must have last dimension ${size}, got shape [${x.shape}]`);
  }
}

export function assertDtype(op: string, arg: string, x: Tensor, dtypes: string[]) {
  if (!dtypes.includes(x.dtype)) {
    fail(op, arg, `must have dtype ${dtypes.join(' or ')}, got ${x.dtype}`);
  }
}

export function assertSameShape(op: string, arg: string, x: Tensor, y: Tensor, yArg: string) {
  if (x.rank !== y.rank || x.shape.some((d, i) => d !== y.shape[i])) {
    fail(op, arg, `must have the shape of '${yArg}' [${y.shape}], got [${x.shape}]`);
  }
}

export function assertOneOf<T>(op: string, arg: string, value: T, allowed: readonly T[]) {
  if (!allowed.includes(value)) {
    fail(op, arg, `must be one of ${allowed.map(a => `'${a}'`).join(', ')}, got '${value}'`);
  }
}

export function assertFiniteNumber(op: string, arg: string, value: unknown) {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    fail(op, arg, `must be a finite number, got ${typeof value === 'number' ? value : describe(value)}`);
  }
}

/** A number or [height, width], each an integer >= min: returns the pair. */
export function checkIntPair(op: string, arg: string, value: unknown, min: number): [number, number] {
  const pair = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(pair) || pair.length !== 2 ||
      !pair.every(v => typeof v === 'number' && Number.isInteger(v) && v >= min)) {
    fail(op, arg, `must be an integer >= ${min} or [height, width] of such integers, got ${JSON.stringify(value)}`);
  }
  return pair as [number, number];
}

/** A short description of a value for error messages: its type, and the value when small. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (value instanceof Tensor) return `a tf.Tensor of shape [${value.shape}]`;
  if (Array.isArray(value)) return `an array ${shortJson(value)}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === 'string') return `string '${value}'`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') {
    const name = (value as object).constructor?.name;
    return name != null && name !== 'Object' ? `a ${name}` : `an object ${shortJson(value)}`;
  }
  return `${typeof value} ${String(value)}`;
}

function shortJson(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Whether value is a plain options object ({...}, or an object without a prototype). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * An options argument: undefined or null give {}, a plain object is returned
 * as is; anything else (a string, number, array, tensor...) is an Error
 * naming the op, the argument and the options it takes (`keys`).
 */
export function checkOptions<T extends object>(
    op: string, arg: string, value: unknown, keys: readonly string[]): T {
  if (value == null) return {} as T;
  if (!isPlainObject(value)) {
    fail(op, arg, `must be an options object {${keys.join(', ')}}, got ${describe(value)}`);
  }
  return value as T;
}

/** Whether value is a tensor-like value tfjs ops accept: a number, boolean, typed array or (nested) array. */
function isTensorLike(value: unknown): boolean {
  return typeof value === 'number' || typeof value === 'boolean' || Array.isArray(value) ||
      (ArrayBuffer.isView(value) && !(value instanceof DataView));
}

/**
 * A tensor input as tfjs ops take it: a tf.Tensor is returned as is; a
 * TensorLike (number, boolean, typed array, nested array) becomes a new tensor
 * (dtype inferred as by tf.tensor: numbers float32, booleans bool, typed arrays
 * their own; `dtype` forces it for plain numbers), which the caller owns
 * (create it inside tf.tidy or dispose it). Anything else is an Error naming
 * the op and the argument.
 */
export function toTensor<T extends Tensor = Tensor>(
    op: string, arg: string, value: unknown, dtype?: 'float32'|'int32'): T {
  if (value instanceof Tensor) return value as T;
  if (!isTensorLike(value)) {
    fail(op, arg, `must be a tf.Tensor or TensorLike (nested array, typed array, number), got ${describe(value)}`);
  }
  const plain = Array.isArray(value) || typeof value === 'number';
  try {
    return tensor(value as TensorLike, undefined, plain ? dtype : undefined) as T;
  } catch (e) {
    return fail(op, arg, `could not be converted to a tensor: ${(e as Error).message}`);
  }
}
