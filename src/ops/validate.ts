/** Argument checks shared by all ops: each Error names the op and the argument. */
import {Tensor} from '@tensorflow/tfjs-core';

export function fail(op: string, arg: string, message: string): never {
  throw new Error(`${op}: argument '${arg}' ${message}`);
}

export function assertTensor(op: string, arg: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) {
    fail(op, arg, `must be a tf.Tensor, got ${x === null ? 'null' : typeof x}`);
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
    fail(op, arg, `must be a finite number, got ${value}`);
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
