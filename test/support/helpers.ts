/** Runner-neutral helpers for the one spec set (jest in Node, jasmine in Chromium). */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor} from '@tensorflow/tfjs-core';
import {Tolerance, TOLERANCES} from './tolerances';

export interface FixtureTensor { shape: number[]; dtype: 'float32'|'int32'|'bool'; data: string; }
export interface FixtureCase {
  op: string; name: string; note?: string;
  args: Record<string, unknown>;
  inputs: Record<string, FixtureTensor>;
  output?: FixtureTensor; outputs?: FixtureTensor[];
  dy?: FixtureTensor; grads?: Record<string, FixtureTensor>;
}
export interface Fixture { generator: string; cases: FixtureCase[]; }

export function backendTolerance(): Tolerance {
  const tol = TOLERANCES[tf.getBackend()];
  if (tol == null) throw new Error(`no tolerance for backend ${tf.getBackend()}`);
  return tol;
}

function bytesOf(base64: string): Uint8Array {
  const bin = atob(base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

export function fixtureValues(t: FixtureTensor): Float32Array|Int32Array|Uint8Array {
  const bytes = bytesOf(t.data);
  if (t.dtype === 'float32') return new Float32Array(bytes.buffer, 0, bytes.length / 4);
  if (t.dtype === 'int32') return new Int32Array(bytes.buffer, 0, bytes.length / 4);
  return bytes;
}

export function fixtureTensor(t: FixtureTensor): Tensor {
  return tf.tensor(fixtureValues(t), t.shape, t.dtype);
}

export function casesOf(fixture: Fixture, op: string): FixtureCase[] {
  const cases = fixture.cases.filter(c => c.op === op);
  if (cases.length === 0) throw new Error(`fixture has no case for ${op}`);
  return cases;
}

/** Compares values elementwise (NaN must match NaN); throws with the worst index. */
export function expectClose(
    actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance = backendTolerance(),
    what = 'value') {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  }
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    const bothNaN = Number.isNaN(a) && Number.isNaN(e);
    const sameInf = !Number.isFinite(e) && a === e;
    if (bothNaN || sameInf) continue;
    if (!(Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e))) {
      throw new Error(`${what}[${i}]: got ${a}, expected ${e} (atol ${tol.atol}, rtol ${tol.rtol})`);
    }
  }
}

export async function expectTensorClose(
    actual: Tensor, expected: FixtureTensor|Tensor|number[]|number, tol?: Tolerance, what = 'value') {
  let expShape: number[]|undefined;
  let expValues: ArrayLike<number>;
  if (expected instanceof Tensor) {
    expShape = expected.shape;
    expValues = await expected.data();
  } else if (typeof expected === 'number') {
    expShape = [];
    expValues = [expected];
  } else if (Array.isArray(expected)) {
    expValues = expected;
  } else {
    expShape = expected.shape;
    expValues = fixtureValues(expected);
  }
  if (expShape != null && !tf.util.arraysEqual(actual.shape, expShape)) {
    throw new Error(`${what}: shape [${actual.shape}], expected [${expShape}]`);
  }
  expectClose(await actual.data(), expValues, tol, what);
}

/** Expects fn to throw an Error whose message matches every pattern. */
export function expectThrows(fn: () => unknown, ...patterns: RegExp[]) {
  let error: unknown = null;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  if (!(error instanceof Error)) throw new Error('expected an Error to be thrown');
  for (const p of patterns) {
    if (!p.test(error.message)) {
      throw new Error(`error message "${error.message}" does not match ${p}`);
    }
  }
}

/**
 * Runs fn, awaits check on its result, disposes everything fn returned and
 * expects the tensor count to be back where it was: ops must not leak.
 */
export async function expectNoLeak<T extends tf.TensorContainer>(
    fn: () => T | Promise<T>, check: (result: T) => Promise<void> | void = () => {}) {
  const before = tf.memory().numTensors;
  const result = await fn();
  try {
    await check(result);
  } finally {
    tf.dispose(result);
  }
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`leaked ${after - before} tensors`);
}

/** Gradients of sum(f(xs) * dy) for each x. */
export function gradsOf(f: (...xs: Tensor[]) => Tensor, xs: Tensor[], dy: Tensor): Tensor[] {
  return tf.grads((...args: Tensor[]) => f(...args))(xs, dy);
}

/**
 * Central finite differences of sum(f(x) * w) against the analytic gradient,
 * for every element of each float input (small inputs only).
 */
export async function expectGradMatchesFiniteDifferences(
    f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], tol: Tolerance, h = 1e-2) {
  const out = tf.tidy(() => f(...inputs));
  const w = tf.randomUniform(out.shape, 0.5, 1.5, 'float32', 7);
  out.dispose();
  const analytic = gradsOf(f, inputs, w);
  for (let k = 0; k < inputs.length; k++) {
    const base = await inputs[k].data();
    const numeric = new Float32Array(base.length);
    for (let i = 0; i < base.length; i++) {
      // data(), not dataSync(): synchronous readback breaks webgpu on SwiftShader.
      const at = async (delta: number) => {
        const moved = Float32Array.from(base);
        moved[i] += delta;
        const total = tf.tidy(() => {
          const xs = inputs.map((x, j) => j === k ? tf.tensor(moved, x.shape) : x);
          return tf.sum(tf.mul(f(...xs), w));
        });
        const value = (await total.data())[0];
        total.dispose();
        return value;
      };
      numeric[i] = (await at(h) - await at(-h)) / (2 * h);
    }
    expectClose(await analytic[k].data(), numeric, tol, `d/d input ${k}`);
  }
  tf.dispose([w, ...analytic]);
}

/** A seeded uniform random Float32Array (mulberry32) for cross-backend checks. */
export function seededUniform(n: number, lo: number, hi: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6D2B79F5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    out[i] = lo + (hi - lo) * u;
  }
  return out;
}

/**
 * Trains `variable` with 5 SGD steps on `loss`: tf.variableGrads must give a
 * gradient for it alone, the loss must fall, and nothing may leak.
 */
export async function expectOptimizerLowersLoss(
    variable: tf.Variable, loss: () => tf.Scalar, learningRate: number) {
  const before = tf.memory().numTensors;
  const {value, grads} = tf.variableGrads(loss);
  expect(Object.keys(grads)).toEqual([variable.name]);
  const optimizer = tf.train.sgd(learningRate);
  const first = (await value.data())[0];
  for (let i = 0; i < 5; i++) optimizer.minimize(loss);
  const lastLoss = tf.tidy(loss);
  const last = (await lastLoss.data())[0];
  lastLoss.dispose();
  expect(last).toBeLessThan(first);
  tf.dispose([value, grads[variable.name]]);
  optimizer.dispose();
  expect(tf.memory().numTensors).toBe(before);
}

/** Awaits a promise that must reject with an Error matching every pattern (under jest and jasmine alike). */
export async function expectRejects(promise: Promise<unknown>, ...patterns: RegExp[]) {
  let error: unknown = null;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  if (!(error instanceof Error)) throw new Error(`expected the promise to reject with an Error, got ${String(error)}`);
  for (const p of patterns) {
    if (!p.test(error.message)) throw new Error(`error message "${error.message}" does not match ${p}`);
  }
}

/**
 * Runs fn with at most `budget` kernel launches: one more throws, so a loop
 * that allocates without bound fails the spec (synchronous code cannot be
 * timed out).
 */
export async function bounded<T>(fn: () => T|Promise<T>, budget = 5000): Promise<T> {
  const engine = tf.engine() as unknown as {runKernel: (...args: unknown[]) => unknown};
  const own = Object.prototype.hasOwnProperty.call(engine, 'runKernel');
  const previous = engine.runKernel;
  let launches = 0;
  engine.runKernel = function(this: unknown, ...args: unknown[]) {
    if (++launches > budget) throw new Error(`over the budget of ${budget} kernel launches: an unbounded loop?`);
    return previous.apply(this, args);
  };
  try {
    return await fn();
  } finally {
    if (own) engine.runKernel = previous;
    else delete (engine as {runKernel?: unknown}).runKernel;
  }
}
