/**
 * Property/fuzz spec (issue 11): seeded random small shapes (0-sized dims
 * included), hostile attributes (0, negative, NaN, Infinity, 1e6, 2^31, 2^53,
 * fractions where integers are expected, wrong types) and hostile tensor
 * values (NaN, +-Inf, +-3.4e38, subnormals, -0, reversed boxes, batch
 * indices out of range, mismatched shapes) for every public op and the main
 * layers, on the backend under test. Contract of every case:
 *
 * - either it throws an Error whose message starts with the op's (or layer's)
 *   name, or it returns results equal to the cpu backend's for the same
 *   inputs within the backend's tolerance (NaN where cpu has NaN, the same
 *   infinities); on cpu itself: the same outcome twice (determinism);
 * - gradients (a subset of the cases of the differentiable ops): the same
 *   contract for tf.grads of sum(output);
 * - canary tensors made before and after the inputs (neighbours of the
 *   kernel's buffers on the wasm heap) are unchanged afterwards;
 * - no tensor and no backend data id remains once inputs and outputs are
 *   disposed (a growth that does not repeat on a second run is warm-up);
 * - no case over its time budget; every test has an explicit timeout, so a
 *   hang fails that test and not the run;
 * - on wasm the heap does not grow without bound across the run (last test).
 *
 * A failure names the op, the case's seed and index and a summary of its
 * inputs (small tensors in full). In Node, FUZZ_ONLY=<op>[:<index>] runs one
 * op (or one case) only.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor} from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as vision from '../src/index';
import {attr, boxes, bools, dim, floats, HOSTILE_NUMBERS, HOSTILE_VALUES, ints, PlainTensor, Rng, sizeOf, summarize,
  WRONG_TYPES} from './support/fuzz';
import {expectClose, seededUniform} from './support/helpers';
import {FLUSHES_SUBNORMALS, GPU_UNCOMPARED_NONFINITE_BOXES, Tolerance, TOLERANCES} from './support/tolerances';

const SEED = 0x5eed11;
const GPU = ['webgl', 'webgpu'];
const onGpu = () => GPU.includes(tf.getBackend());
/** webgpu has no synchronous readback by design: the sync ops run as their async variants there. */
const syncReads = () => tf.getBackend() !== 'webgpu';
/** Cases per op (spec.cases, default 30) on the host backends; a third on the software GPUs (every new shape compiles). */
/** Per-case time budget (ms), checked when the call returns. */
const caseBudgetMs = () => (onGpu() ? 20000 : 2000);
/** Explicit timeout of each test: a hang fails that op's test. */
const TEST_TIMEOUT_MS = 600000;

const env = (k: string): string|undefined => typeof process !== 'undefined' ? process.env?.[k] : undefined;
const ONLY = env('FUZZ_ONLY');
/** FUZZ_TRACE=1: each case is printed before it runs (finds the case that hangs or exhausts memory). */
const TRACE = env('FUZZ_TRACE') != null;

// ---------------------------------------------------------------------------------------------- harness

/** Per-case cleanup of what the call made besides its outputs (layer weights). */
interface Ctx { defer(fn: () => void): void; seed: number; }

interface Case {
  /** PlainTensors (made tensors on the active backend), arrays/objects of them, or raw (hostile) values. */
  inputs: unknown[];
  call: (ctx: Ctx, ...xs: any[]) => unknown;  // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Inputs to differentiate sum(output) by (float32 tensors among them). */
  grad?: number[];
}

interface OpSpec {
  name: string;
  /** Names an Error message may start with; default [name]. */
  errorNames?: string[];
  gen: (rng: Rng) => Case;
  cases?: number;
}

interface TensorOut { shape: number[]; dtype: string; values: ArrayLike<number>; }
type Outcome = {kind: 'error', message: string, named: boolean} | {kind: 'ok', outs: TensorOut[]};

const caseSeed = (op: string, i: number) => {
  let h = SEED;
  for (let k = 0; k < op.length; k++) h = Math.imul(h ^ op.charCodeAt(k), 0x01000193) >>> 0;
  return (h + Math.imul(i + 1, 0x9E3779B1)) >>> 0;
};

/** The backend under test flushes subnormals to zero: both it and the cpu reference get flushed inputs. */
const FLUSH_SUBNORMALS = typeof process !== 'undefined' &&
    FLUSHES_SUBNORMALS.includes(process.env?.TFJS_BACKEND ?? '');

function flushed(values: PlainTensor['values']): PlainTensor['values'] {
  if (!FLUSH_SUBNORMALS || !(values instanceof Float32Array)) return values;
  return values.map(v => v !== 0 && Math.abs(v) < 1.1754943508222875e-38 ? 0 * Math.sign(v) : v);
}

function materialize(value: unknown, made: Tensor[]): unknown {
  if (value instanceof PlainTensor) {
    const t = tf.tensor(flushed(value.values), value.shape, value.dtype);
    made.push(t);
    return t;
  }
  if (Array.isArray(value)) return value.map(v => materialize(v, made));
  if (value != null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, materialize(v, made)]));
  }
  return value;
}

function tensorsOf(result: unknown): Tensor[] {
  if (result instanceof Tensor) return [result];
  if (Array.isArray(result)) return result.flatMap(tensorsOf);
  if (result != null && typeof result === 'object') return Object.values(result).flatMap(tensorsOf);
  return [];
}

/** An Error of any realm (jest runs specs in a vm context: Node's own RangeError is not its Error). */
const isError = (e: unknown): e is Error => e instanceof Error || Object.prototype.toString.call(e) === '[object Error]';

function errorOutcome(e: unknown, names: string[]): Outcome {
  const message = isError(e) ? `${e.message}` : `a non-Error thrown: ${String(e)}`;
  return {kind: 'error', message, named: isError(e) && names.some(n => message.startsWith(n))};
}

async function readAll(ts: Tensor[]): Promise<TensorOut[]> {
  const outs: TensorOut[] = [];
  for (const t of ts) outs.push({shape: t.shape.slice(), dtype: t.dtype, values: Array.from(await t.data() as ArrayLike<number>)});
  return outs;
}

const numDataIds = () => (tf.engine().backend as unknown as {numDataIds(): number}).numDataIds();

/** Reading a tensor flushes a GPU backend's queue (buffers whose disposal waited on it are freed). */
async function settle() {
  const t = tf.tidy(() => tf.add(tf.fill([64], 1), 1));
  await t.data();
  t.dispose();
}

const CANARY = 7;
const canary = () => tf.fill([4096], CANARY);

interface Run { fwd: Outcome; grad?: Outcome; ms: number; canaryBroken: boolean; }

/** Runs one case on the active backend: forward, then (withGrad) tf.grads of sum(output). */
async function execute(c: Case, names: string[], seed: number, withGrad: boolean): Promise<Run> {
  const before = canary();
  const made: Tensor[] = [];
  const deferred: Array<() => void> = [];
  const ctx: Ctx = {defer: fn => deferred.push(fn), seed};
  let fwd: Outcome, grad: Outcome|undefined;
  let ms = 0;
  let after: Tensor|null = null;
  try {
    const xs = c.inputs.map(v => materialize(v, made));
    after = canary();
    const t0 = Date.now();
    try {
      const result = await c.call(ctx, ...xs);
      ms = Date.now() - t0;
      const outs = tensorsOf(result);
      try {
        fwd = {kind: 'ok', outs: await readAll(outs)};
      } finally {
        tf.dispose(outs);
      }
    } catch (e) {
      ms = Date.now() - t0;
      fwd = errorOutcome(e, names);
    }
    const at = (c.grad ?? []).filter(i => xs[i] instanceof Tensor && (xs[i] as Tensor).dtype === 'float32');
    if (withGrad && fwd.kind === 'ok' && at.length > 0 && fwd.outs.length === 1 && fwd.outs[0].dtype === 'float32') {
      const t1 = Date.now();
      try {
        // d(sum(output * dy))/dx with dy = 1: no reduction in the graph (webgl cannot reduce a size-0 tensor).
        const f = (...gx: Tensor[]) => {
          const args = xs.slice();
          at.forEach((i, j) => { args[i] = gx[j]; });
          return c.call(ctx, ...args) as Tensor;
        };
        const dy = tf.ones(fwd.outs[0].shape);
        let gs: Tensor[];
        try {
          gs = tf.grads(f)(at.map(i => xs[i] as Tensor), dy);
        } finally {
          dy.dispose();
        }
        try {
          grad = {kind: 'ok', outs: await readAll(gs)};
        } finally {
          tf.dispose(gs);
        }
      } catch (e) {
        grad = errorOutcome(e, names);
      }
      ms += Date.now() - t1;
    }
  } finally {
    tf.dispose(made);
    for (const fn of deferred) fn();
  }
  let canaryBroken = false;
  for (const t of [before, after]) {
    if (t == null) continue;
    const v = await t.data();
    if (v.some(e => e !== CANARY)) canaryBroken = true;
    t.dispose();
  }
  return {fwd: fwd!, grad, ms, canaryBroken};
}

function describeOutcome(o: Outcome): string {
  if (o.kind === 'error') return `${o.named ? 'Error' : 'unclear Error'} "${o.message.slice(0, 200)}"`;
  return `result ${o.outs.map(t => `${t.dtype}[${t.shape}]`).join(', ')}`;
}

/** A float input with a non-finite value or one whose square overflows float32. */
function hasNonFinite(value: unknown): boolean {
  if (value instanceof PlainTensor) {
    return value.values instanceof Float32Array && value.values.some(v => !Number.isFinite(v) || Math.abs(v) > 1.8e19);
  }
  if (Array.isArray(value)) return value.some(hasNonFinite);
  return false;
}

/** Same outcome: both named Errors, or results of the same shapes and dtypes within tol (null: shapes only). */
function compare(got: Outcome, ref: Outcome, tol: Tolerance|null, what: string): string|null {
  if (got.kind === 'error') return got.named ? null : `${what}: ${describeOutcome(got)} (does not start with the op's name)`;
  if (ref.kind === 'error') return `${what}: returned ${describeOutcome(got)} where cpu throws ${describeOutcome(ref)}`;
  if (got.outs.length !== ref.outs.length) return `${what}: ${got.outs.length} outputs, cpu ${ref.outs.length}`;
  for (let k = 0; k < got.outs.length; k++) {
    const [a, e] = [got.outs[k], ref.outs[k]];
    if (a.dtype !== e.dtype || !tf.util.arraysEqual(a.shape, e.shape)) {
      return `${what} output ${k}: ${a.dtype}[${a.shape}], cpu ${e.dtype}[${e.shape}]`;
    }
    if (tol == null) continue;
    try {
      expectClose(a.values, e.values, tol, `${what} output ${k}`);
    } catch (err) {
      return (err as Error).message;
    }
  }
  return null;
}

/** Bitwise-equal outcomes (cpu determinism). */
function sameOutcome(a: Outcome, b: Outcome, what: string): string|null {
  if (a.kind !== b.kind) return `${what}: not deterministic: ${describeOutcome(a)}, then ${describeOutcome(b)}`;
  if (a.kind === 'error' || b.kind === 'error') return null;
  return compare(a, b, {atol: 0, rtol: 0}, `${what} (second run)`);
}

const NOTES: string[] = [];
const HEAP: Array<[string, number]> = [];

function heapBytes(): number|null {
  if (tf.getBackend() !== 'wasm') return null;
  const wasm = (tf.backend() as unknown as {wasm: {HEAPU8?: Uint8Array, wasmMemory?: WebAssembly.Memory}}).wasm;
  return wasm.wasmMemory?.buffer.byteLength ?? wasm.HEAPU8?.length ?? null;
}

async function withCpu<T>(fn: () => Promise<T>): Promise<T> {
  const original = tf.getBackend();
  await tf.setBackend('cpu');
  try {
    return await fn();
  } finally {
    await tf.setBackend(original);
  }
}

async function fuzzOp(spec: OpSpec) {
  const backend = tf.getBackend();
  const tol = TOLERANCES[backend];
  const names = spec.errorNames ?? [spec.name];
  const n = onGpu() ? Math.ceil((spec.cases ?? 30) / 3) : spec.cases ?? 30;
  const only = ONLY?.split(',').map(o => o.split(':')).find(o => o[0] === spec.name);
  const failures: string[] = [];
  let errors = 0, results = 0, backendOnlyErrors = 0, grads = 0;
  for (let i = 0; i < n; i++) {
    if (only != null && only[1] != null && Number(only[1]) !== i) continue;
    const seed = caseSeed(spec.name, i);
    const c = spec.gen(new Rng(seed));
    const withGrad = c.grad != null && i % 3 === 0;
    const label = `${spec.name} [${backend}] seed ${seed} case ${i}`;
    const inputs = `inputs (${c.inputs.map(v => summarize(v)).join('; ')})`;
    const problems: string[] = [];
    if (TRACE) process.stderr.write(`${label}: ${inputs}\n`);
    const measure = async () => {
      if (onGpu()) await settle();
      return {tensors: tf.memory().numTensors, ids: numDataIds()};
    };
    const m0 = await measure();
    let run: Run;
    try {
      run = await execute(c, names, seed, withGrad);
    } catch (e) {
      failures.push(`${label}: the harness failed: ${(e as Error).message}; ${inputs}`);
      continue;
    }
    const m1 = await measure();
    if (m1.tensors !== m0.tensors || m1.ids !== m0.ids) {
      // Growth once may be a cache filling: it must not repeat.
      const again = await execute(c, names, seed, withGrad);
      const m2 = await measure();
      if (m2.tensors !== m1.tensors || m2.ids !== m1.ids) {
        problems.push(`leaks ${m2.tensors - m1.tensors} tensor(s), ${m2.ids - m1.ids} data id(s) per run ` +
            `(${describeOutcome(again.fwd)})`);
      }
    }
    if (run.canaryBroken) problems.push('a canary tensor changed: a kernel wrote outside its buffers');
    if (run.ms > caseBudgetMs()) problems.push(`took ${run.ms} ms, over the budget of ${caseBudgetMs()} ms`);
    if (run.fwd.kind === 'error') errors++; else results++;
    if (run.grad != null) grads++;
    if (run.fwd.kind === 'error' && !run.fwd.named) problems.push(`forward: ${describeOutcome(run.fwd)}`);
    if (run.grad?.kind === 'error' && !run.grad.named) problems.push(`gradient: ${describeOutcome(run.grad)}`);
    if (backend === 'cpu') {
      const second = await execute(c, names, seed, withGrad);
      const d = sameOutcome(run.fwd, second.fwd, 'forward') ??
          (run.grad && second.grad ? sameOutcome(run.grad, second.grad, 'gradient') : null);
      if (d != null) problems.push(d);
    } else {
      const ref = await withCpu(() => execute(c, names, seed, withGrad));
      if (run.fwd.kind === 'error' && run.fwd.named && ref.fwd.kind === 'ok') backendOnlyErrors++;
      const valueTol = onGpu() && GPU_UNCOMPARED_NONFINITE_BOXES.includes(spec.name) &&
          c.inputs.some(hasNonFinite) ? null : tol;
      const d = compare(run.fwd, ref.fwd, valueTol, 'forward');
      if (d != null) problems.push(d);
      if (run.grad != null && ref.grad != null) {
        const g = compare(run.grad, ref.grad, valueTol, 'gradient');
        if (g != null) problems.push(g);
      } else if (run.grad != null && run.grad.kind === 'ok' && ref.grad == null) {
        problems.push('gradient: computed here, but cpu\'s forward gave no gradient to compare');
      }
    }
    if (problems.length > 0) failures.push(`${label}: ${problems.join('; ')}; ${inputs}`);
  }
  const heap = heapBytes();
  if (heap != null) HEAP.push([spec.name, heap]);
  NOTES.push(`${spec.name}: ${n} cases, ${results} results, ${errors} clear Errors (${backendOnlyErrors} where cpu ` +
      `returns), ${grads} gradients, ${failures.length} failing`);
  if (failures.length > 0) {
    throw new Error(`${failures.length} of ${n} fuzz cases of ${spec.name} break the contract:\n` +
        failures.slice(0, 25).join('\n') + (failures.length > 25 ? `\n... and ${failures.length - 25} more` : ''));
  }
}

// ---------------------------------------------------------------------------------------------- generators

const BOX_FMTS = ['xyxy', 'xywh', 'cxcywh'] as const;
const ALL_FMTS = ['xyxy', 'xywh', 'cxcywh', 'xywhr', 'cxcywhr', 'xyxyxyxy'] as const;
const FMT_DIMS: Record<string, number> = {xyxy: 4, xywh: 4, cxcywh: 4, xywhr: 5, cxcywhr: 5, xyxyxyxy: 8};
const REDUCTIONS = ['none', 'mean', 'sum'] as const;
const FORMATS = ['channelsLast', 'channelsFirst'] as const;

const lead = (rng: Rng): number[] => rng.pick([[], [], [], [dim(rng, 2)], [dim(rng, 2), dim(rng, 2)]]);

/** A valid choice, else an invalid string / number / wrong type. */
function choice<T>(rng: Rng, values: readonly T[], hostileRate = 0.1): T|unknown {
  return rng.chance(hostileRate) ? rng.pick(['XYXY', 'bogus', '', 0, null, undefined, NaN, {}] as unknown[]) : rng.pick(values);
}

/** An integer or [h, w] pair in [lo, hi], else hostile (one side or both, or the wrong length). */
function pair(rng: Rng, lo: number, hi: number, hostileRate = 0.2, allowScalar = true,
    pool: readonly unknown[] = HOSTILE_NUMBERS): unknown {
  if (!rng.chance(hostileRate)) {
    return allowScalar && rng.chance(0.4) ? rng.int(lo, hi) : [rng.int(lo, hi), rng.int(lo, hi)];
  }
  const h = rng.pick(pool);
  return rng.pick([h, [h, rng.int(lo, hi)], [rng.int(lo, hi), h], [h, h], [1, 2, 3], [], 'x', [lo + 0.5, lo]]);
}

/** The options object, now and then not an object or with an unknown key. */
function opts(rng: Rng, o: Record<string, unknown>): unknown {
  const r = rng.next();
  if (r < 0.04) return rng.pick([5, 'x', [], true] as unknown[]);
  if (r < 0.07) return {...o, bogusOption: 1};
  return o;
}

/** A tensor argument replaced (rarely) by a wrong type. */
const tensorOr = (rng: Rng, t: PlainTensor, rate = 0.04): unknown => rng.chance(rate) ? rng.pick(WRONG_TYPES) : t;

function withFloats(rng: Rng, shape: number[], lo = -4, hi = 4, hostileRate = 0.08) {
  // now and then the wrong dtype
  if (rng.chance(0.04)) return ints(rng, shape, -3, 3);
  return floats(rng, shape, lo, hi, hostileRate);
}

function pairedBoxes(rng: Rng) {
  const l = lead(rng);
  const n = dim(rng, 5), m = rng.chance(0.08) ? dim(rng, 5) : n;
  const l2 = rng.chance(0.08) ? lead(rng) : l;
  return [tensorOr(rng, boxes(rng, l, n, 16, 0.1, rng.chance(0.05) ? 3 : 4)), tensorOr(rng, boxes(rng, l2, m, 16, 0.1))];
}

function pairwiseBoxes(rng: Rng) {
  const l = lead(rng);
  const l2 = rng.chance(0.08) ? lead(rng) : l;
  return [tensorOr(rng, boxes(rng, l, dim(rng, 5), 16, 0.1, rng.chance(0.05) ? 5 : 4)),
    tensorOr(rng, boxes(rng, l2, dim(rng, 5), 16, 0.1))];
}

/**
 * Hostile channel counts of the layers without the huge ones: a layer builds
 * its weights from them, and 2^31 channels allocate gigabytes before any
 * check could run (reported separately; it would take the whole run down).
 */
const SMALL_HOSTILE: readonly unknown[] = [0, -0, -1, NaN, Infinity, -Infinity, 0.5, 1.5, 1e-45, 'x', null, [2]];
const channels = (rng: Rng, valid: () => number, rate = 0.1): unknown => rng.chance(rate) ? rng.pick(SMALL_HOSTILE) : valid();

const eps = (rng: Rng) => attr(rng, () => rng.pick([1e-7, 1e-7, 0, 1e-3]), 0.2);

/** [K, 5] RoIs: batch index (sometimes out of range, fractional, NaN), then xyxy boxes. */
function rois(rng: Rng, batch: number, k: number, extent: number): PlainTensor {
  const b = boxes(rng, [], k, extent, 0.06);
  const v = new Float32Array(k * 5);
  for (let r = 0; r < k; r++) {
    const index = rng.chance(0.1) ? rng.pick([batch, -1, 0.5, NaN, 2 ** 31, 1e6]) : rng.int(0, Math.max(batch - 1, 0));
    v[r * 5] = index;
    for (let j = 0; j < 4; j++) v[r * 5 + 1 + j] = b.values[r * 4 + j];
  }
  return new PlainTensor(v, [k, 5], 'float32');
}

interface RoiGen { x: unknown; boxes: unknown; args: Record<string, unknown>; listBoxes: boolean; }

function roiInputs(rng: Rng, ps: boolean, hasSampling: boolean, hasAligned: boolean): RoiGen {
  const dataFormat = choice(rng, FORMATS, 0.06);
  const oh = rng.int(1, 3), ow = rng.chance(0.5) ? oh : rng.int(1, 3);
  const outputSize = rng.chance(0.2) ? pair(rng, 1, 3, 1) : oh === ow && rng.chance(0.5) ? oh : [oh, ow];
  const [n, h, w] = [dim(rng, 2), dim(rng, 6, 0.08), dim(rng, 6, 0.08)];
  const c = ps ? (rng.chance(0.1) ? rng.int(1, 5) : oh * ow * rng.int(1, 2)) : dim(rng, 3, 0.08);
  let shape = dataFormat === 'channelsFirst' ? [n, c, h, w] : [n, h, w, c];
  if (rng.chance(0.05)) shape = shape.slice(1);
  const x = tensorOr(rng, withFloats(rng, shape, -4, 4, 0.05));
  const k = dim(rng, 4);
  const extent = Math.max(h, w, 1) * 1.5;
  const listBoxes = rng.chance(0.2);
  let bx: unknown;
  if (listBoxes) {
    const images = rng.chance(0.1) ? n + rng.pick([1, -1]) : n;
    bx = Array.from({length: Math.max(images, 0)}, () => boxes(rng, [], dim(rng, 3), extent, 0.06));
  } else {
    bx = tensorOr(rng, rng.chance(0.05) ? boxes(rng, [], k, extent) : rois(rng, n, k, extent));
  }
  const args: Record<string, unknown> = {outputSize, spatialScale: attr(rng, () => rng.pick([1, 0.5, 0.25, rng.uniform(0.1, 2)]), 0.15)};
  if (hasSampling) args.samplingRatio = attr(rng, () => rng.int(-1, 3), 0.15);
  if (hasAligned) args.aligned = rng.chance(0.08) ? rng.pick([1, 'true', null] as unknown[]) : rng.chance(0.5);
  if (dataFormat !== undefined) args.dataFormat = dataFormat;
  return {x, boxes: bx, args, listBoxes};
}

type RoiFn = (x: any, boxes: any, ...rest: any[]) => Tensor;  // eslint-disable-line @typescript-eslint/no-explicit-any

function roiOp(name: string, fn: RoiFn, ps: boolean, hasSampling: boolean, hasAligned: boolean): OpSpec {
  return {
    name,
    gen: rng => {
      const g = roiInputs(rng, ps, hasSampling, hasAligned);
      const positional = rng.chance(0.2);
      return {
        inputs: [g.x, g.boxes, positional ? g.args.outputSize : opts(rng, g.args)],
        call: (_, x, b, a) => {
          if (!positional) return fn(x, b, a);
          const {outputSize, ...rest} = g.args;
          void outputSize;
          return fn(x, b, a, rest);
        },
        grad: g.listBoxes ? [0] : [0, 1],
      };
    },
  };
}

function deformInputs(rng: Rng) {
  const dataFormat = choice(rng, FORMATS, 0.05) as string;
  const weightFormat = choice(rng, ['OIHW', 'HWIO'], 0.05) as string;
  const groups = rng.int(1, 2), offsetGroups = rng.int(1, 2);
  const cin = Math.max(groups, offsetGroups) * rng.int(1, 2);
  const cout = groups * rng.int(1, 2);
  const [kh, kw] = [rng.int(1, 3), rng.int(1, 3)];
  const stride = pair(rng, 1, 2, 0.12), padding = pair(rng, 0, 1, 0.12), dilation = pair(rng, 1, 2, 0.12);
  const num = (v: unknown, i: number) => typeof v === 'number' ? v : Array.isArray(v) && typeof v[i] === 'number' ? v[i] : 1;
  const [b, h, w] = [dim(rng, 2), dim(rng, 5, 0.08) + 1, dim(rng, 5, 0.08) + 1];
  const out = (size: number, k: number, i: number) => {
    const o = Math.floor((size + 2 * num(padding, i) - (num(dilation, i) * (k - 1) + 1)) / num(stride, i)) + 1;
    return Number.isFinite(o) && o >= 0 && o <= 8 ? o : 1;
  };
  const [oh, ow] = [out(h, kh, 0), out(w, kw, 1)];
  const first = dataFormat === 'channelsFirst';
  const nchw = (c: number, hh: number, ww: number) => first ? [b, c, hh, ww] : [b, hh, ww, c];
  const offC = rng.chance(0.06) ? rng.int(1, 9) : 2 * offsetGroups * kh * kw;
  const x = tensorOr(rng, withFloats(rng, nchw(cin, h, w), -2, 2, 0.05));
  const offset = tensorOr(rng, floats(rng, nchw(offC, rng.chance(0.05) ? oh + 1 : oh, ow), -2, 2, 0.05));
  const wShape = weightFormat === 'HWIO' ? [kh, kw, cin / groups, cout] : [cout, cin / groups, kh, kw];
  const weight = tensorOr(rng, floats(rng, wShape, -1, 1, 0.03));
  const mask = rng.chance(0.4) ? floats(rng, nchw(offsetGroups * kh * kw, oh, ow), 0, 1, 0.05) : null;
  const bias = rng.chance(0.4) ? floats(rng, [rng.chance(0.05) ? cout + 1 : cout], -1, 1, 0.03) : null;
  return {x, offset, weight, mask, bias, stride, padding, dilation, dataFormat, weightFormat, cin, cout, kh, kw, groups,
    offsetGroups, b, h, w, oh, ow};
}

/** A layer's weights, replaced by seeded values (every backend builds the same layer), disposed after the case. */
function seedWeights(ctx: Ctx, layer: tfl.layers.Layer, inputShape: number[]|number[][]) {
  ctx.defer(() => { for (const w of layer.weights) w.dispose(); });
  layer.build(inputShape);
  const values = layer.weights.map((w, j) => tf.tensor(seededUniform(sizeOf(w.shape as number[]), -0.5, 0.5,
      ctx.seed + 97 * j), w.shape as number[]));
  try {
    layer.setWeights(values);
  } finally {
    tf.dispose(values);
  }
}

const shapeOf = (t: unknown): number[] => t instanceof Tensor ? t.shape : [];

// ---------------------------------------------------------------------------------------------- the ops

const OPS: OpSpec[] = [
  {name: 'boxArea', gen: rng => {
    const b = tensorOr(rng, withFloats(rng, [...lead(rng), dim(rng, 5), rng.chance(0.06) ? rng.pick([0, 3, 5]) : 4], -2, 16, 0.1));
    const fmt = choice(rng, BOX_FMTS);
    return {inputs: [b, opts(rng, {fmt})], call: (_, x, o) => vision.boxArea(x, o), grad: [0]};
  }},
  {name: 'boxConvert', gen: rng => {
    const [inFmt, outFmt] = [choice(rng, ALL_FMTS), choice(rng, ALL_FMTS)];
    const last = rng.chance(0.06) ? rng.int(3, 9) : FMT_DIMS[inFmt as string] ?? 4;
    const b = tensorOr(rng, boxes(rng, lead(rng), dim(rng, 5), 16, 0.1, last));
    return {inputs: [b, inFmt, outFmt], call: (_, x, i, o) => vision.boxConvert(x, i, o), grad: [0]};
  }},
  {name: 'boxIou', gen: rng => ({inputs: [...pairwiseBoxes(rng), opts(rng, {fmt: choice(rng, BOX_FMTS)})],
    call: (_, a, b, o) => vision.boxIou(a, b, o), grad: [0, 1]})},
  {name: 'generalizedBoxIou', gen: rng => ({inputs: pairwiseBoxes(rng),
    call: (_, a, b) => vision.generalizedBoxIou(a, b), grad: [0, 1]})},
  {name: 'distanceBoxIou', gen: rng => ({inputs: [...pairwiseBoxes(rng), opts(rng, {eps: eps(rng)})],
    call: (_, a, b, o) => vision.distanceBoxIou(a, b, o), grad: [0, 1]})},
  {name: 'completeBoxIou', gen: rng => ({inputs: [...pairwiseBoxes(rng), opts(rng, {eps: eps(rng)})],
    call: (_, a, b, o) => vision.completeBoxIou(a, b, o), grad: [0, 1]})},
  {name: 'clipBoxesToImage', gen: rng => ({
    inputs: [tensorOr(rng, boxes(rng, lead(rng), dim(rng, 5), 20, 0.12)), pair(rng, 1, 20, 0.25, false)],
    call: (_, b, s) => vision.clipBoxesToImage(b, s), grad: [0]})},
  {name: 'removeSmallBoxes', gen: rng => ({
    inputs: [tensorOr(rng, boxes(rng, rng.chance(0.05) ? [1] : [], dim(rng, 8), 16, 0.12)),
      attr(rng, () => rng.pick([0, 1, 2.5, rng.uniform(0, 6)]), 0.2)],
    call: (_, b, m) => syncReads() ? vision.removeSmallBoxes(b, m) : vision.removeSmallBoxesAsync(b, m)})},
  {name: 'removeSmallBoxesAsync', gen: rng => ({
    inputs: [tensorOr(rng, boxes(rng, [], dim(rng, 8), 16, 0.12)), attr(rng, () => rng.uniform(0, 6), 0.2)],
    call: (_, b, m) => vision.removeSmallBoxesAsync(b, m)})},
  {name: 'masksToBoxes', gen: rng => {
    const shape = [dim(rng, 3), dim(rng, 6), dim(rng, 6)];
    if (rng.chance(0.06)) shape.pop();
    const kind = rng.int(0, 3);
    const m = kind === 0 ? bools(rng, shape, 0.3) : kind === 1 ? ints(rng, shape, 0, 1) :
      floats(rng, shape, 0, 1, 0.1);
    return {inputs: [tensorOr(rng, m)], call: (_, x) => vision.masksToBoxes(x)};
  }},
  ...(['generalizedBoxIouLoss', 'distanceBoxIouLoss', 'completeBoxIouLoss'] as const).map((name): OpSpec => ({name,
    gen: rng => ({inputs: [...pairedBoxes(rng), opts(rng, {reduction: choice(rng, REDUCTIONS), eps: eps(rng)})],
      call: (_, a, b, o) => vision[name](a, b, o), grad: [0, 1]})})),
  {name: 'sigmoidFocalLoss', gen: rng => {
    const shape = [...lead(rng), dim(rng, 4)];
    const tShape = rng.chance(0.08) ? [...lead(rng), dim(rng, 4)] : shape;
    const x = tensorOr(rng, floats(rng, shape, -6, 6, 0.1));
    const t = tensorOr(rng, rng.chance(0.5) ? floats(rng, tShape, 0, 1, 0.05) :
      new PlainTensor(Float32Array.from(bools(rng, tShape).values), tShape, 'float32'));
    const o = {alpha: attr(rng, () => rng.pick([0.25, -1, 0, 1, rng.uniform(0, 1)]), 0.15),
      gamma: attr(rng, () => rng.pick([2, 0, 0.5, 1, rng.uniform(0, 3)]), 0.15), reduction: choice(rng, REDUCTIONS)};
    return {inputs: [x, t, opts(rng, o)], call: (_, a, b, oo) => vision.sigmoidFocalLoss(a, b, oo), grad: [0, 1]};
  }},
  ...(['nms', 'nmsAsync', 'batchedNms', 'batchedNmsAsync'] as const).map((name): OpSpec => ({name,
    gen: rng => {
      const n = dim(rng, 12);
      const b = tensorOr(rng, rng.chance(0.04) ? ints(rng, [n, 4], 0, 9) : boxes(rng, [], n, 16, 0.1));
      const s = tensorOr(rng, floats(rng, [rng.chance(0.06) ? dim(rng, 12) : n], 0, 1, 0.2));
      const thr = attr(rng, () => rng.pick([0.5, 0, 1, rng.uniform(0, 1)]), 0.2);
      const sync = !name.endsWith('Async');
      if (name.startsWith('nms')) {
        return {inputs: [b, s, thr], call: (_, bb, ss, t) =>
          sync && syncReads() ? vision.nms(bb, ss, t) : vision.nmsAsync(bb, ss, t)};
      }
      const idxs = tensorOr(rng, rng.chance(0.08) ? floats(rng, [n], 0, 3, 0.1) :
        rng.chance(0.1) ? new PlainTensor(Int32Array.from({length: n}, () => rng.pick([-1, 2 ** 31 - 1, -(2 ** 31), 5])), [n], 'int32') :
          ints(rng, [rng.chance(0.05) ? n + 1 : n], 0, 3));
      return {inputs: [b, s, idxs, thr], call: (_, bb, ss, ii, t) =>
        sync && syncReads() ? vision.batchedNms(bb, ss, ii, t) : vision.batchedNmsAsync(bb, ss, ii, t)};
    }})),
  roiOp('roiAlign', vision.roiAlign as RoiFn, false, true, true),
  roiOp('roiPool', vision.roiPool as RoiFn, false, false, false),
  roiOp('psRoiAlign', vision.psRoiAlign as RoiFn, true, true, false),
  roiOp('psRoiPool', vision.psRoiPool as RoiFn, true, false, false),
  {name: 'deformConv2d', gen: rng => {
    const d = deformInputs(rng);
    const o = {stride: d.stride, padding: d.padding, dilation: d.dilation, dataFormat: d.dataFormat, weightFormat: d.weightFormat};
    return {inputs: [d.x, d.offset, d.weight, d.mask, d.bias, opts(rng, o)],
      call: (_, x, off, w, mask, bias, oo) => vision.deformConv2d(x, off, w,
          oo != null && typeof oo === 'object' && !Array.isArray(oo) ? {...oo, mask, bias} : oo),
      grad: [0, 1, 2, 3, 4]};
  }},
  {name: 'msDeformAttn', gen: rng => {
    const [b, m, c, q, p] = [dim(rng, 2), dim(rng, 2, 0.06) || 1, dim(rng, 5, 0.06), dim(rng, 4, 0.08), dim(rng, 3, 0.08)];
    const levelShapes = Array.from({length: rng.int(1, 3)}, () => [rng.int(1, 5), rng.int(1, 5)]);
    const sizes = levelShapes.map(([h, w]) => h * w);
    const s = sizes.reduce((a, v) => a + v, 0) + (rng.chance(0.05) ? 1 : 0);
    const starts = sizes.map((_, l) => sizes.slice(0, l).reduce((a, v) => a + v, 0));
    const l = levelShapes.length + (rng.chance(0.04) ? 1 : 0);
    // Level tables as arrays (checked) or int32 tensors (not read back: hostile values reach the kernels).
    const asTensors = rng.chance(0.3);
    const hostileInt = () => rng.pick([-1, 0, 7, 1e6, -2147483648, 2147483647]);
    const shapes = asTensors ? ints(rng, [levelShapes.length, 2], 1, 5) : levelShapes.map(row =>
      row.map(v => rng.chance(0.04) ? rng.pick(SMALL_HOSTILE) : v));
    if (asTensors) {
      for (let i = 0; i < (shapes as PlainTensor).values.length; i++) {
        (shapes as PlainTensor).values[i] = rng.chance(0.2) ? hostileInt() : levelShapes.flat()[i];
      }
    }
    const startTable = asTensors ? ints(rng, [starts.length], 0, 1) : starts;
    if (asTensors) {
      starts.forEach((v, i) => { (startTable as PlainTensor).values[i] = rng.chance(0.2) ? hostileInt() : v; });
    }
    return {inputs: [tensorOr(rng, withFloats(rng, [b, s, m, c], -2, 2, 0.05)), shapes, startTable,
      tensorOr(rng, withFloats(rng, [b, q, m, l, p, 2], -0.5, 1.5, 0.08)), tensorOr(rng, withFloats(rng, [b, q, m, l, p], -1, 2, 0.05))],
    call: (_, v, sh, st, loc, w) => vision.msDeformAttn(v, sh, st, loc, w), grad: [0, 3, 4]};
  }},
  ...(['dropBlock2d', 'dropBlock3d'] as const).map((name): OpSpec => ({name, gen: rng => {
    const spatial = name === 'dropBlock2d' ? 2 : 3;
    const dataFormat = choice(rng, FORMATS, 0.05);
    const sp = Array.from({length: spatial}, () => dim(rng, 6, 0.06));
    const [n, c] = [dim(rng, 2), dim(rng, 3, 0.06)];
    let shape = dataFormat === 'channelsFirst' ? [n, c, ...sp] : [n, ...sp, c];
    if (rng.chance(0.05)) shape = shape.slice(1);
    const x = tensorOr(rng, withFloats(rng, shape, -3, 3, 0.05));
    const p = attr(rng, () => rng.pick([0, 0.1, 0.5, 1, rng.uniform(0, 1)]), 0.15);
    const blockSize = attr(rng, () => rng.pick([1, 3, 5, 2]), 0.15);
    const o: Record<string, unknown> = {training: rng.chance(0.1) ? rng.pick([false, 1, 'yes'] as unknown[]) : true,
      eps: attr(rng, () => 1e-6, 0.1), seed: rng.chance(0.05) ? rng.pick([NaN, -1, 1.5, 2 ** 53, 'x'] as unknown[]) : rng.int(0, 1000)};
    if (dataFormat !== undefined) o.dataFormat = dataFormat;
    return {inputs: [x, p, blockSize, opts(rng, o)], call: (_, xx, pp, bs, oo) => vision[name](xx, pp, bs, oo), grad: [0]};
  }})),
  {name: 'stochasticDepth', gen: rng => {
    const x = tensorOr(rng, withFloats(rng, [dim(rng, 4), ...lead(rng)], -3, 3, 0.05));
    const p = attr(rng, () => rng.pick([0, 0.2, 0.5, 1, rng.uniform(0, 1)]), 0.15);
    const mode = choice(rng, ['row', 'batch']);
    const o = {training: rng.chance(0.1) ? rng.pick([false, 0, 'no'] as unknown[]) : true, seed: rng.int(0, 1000)};
    return {inputs: [x, p, mode, opts(rng, o)], call: (_, xx, pp, mm, oo) => vision.stochasticDepth(xx, pp, mm, oo), grad: [0]};
  }},
];

// ---------------------------------------------------------------------------------------------- the layers

function roiLayer(name: 'RoIAlign'|'RoIPool'|'PSRoIAlign'|'PSRoIPool'): OpSpec {
  const ps = name.startsWith('PS');
  const hasSampling = name.endsWith('Align');
  const op = name.replace(/^RoI/, 'roi').replace(/^PSRoI/, 'psRoi');
  return {name, errorNames: [name, op], cases: 20, gen: rng => {
    const g = roiInputs(rng, ps, hasSampling, name === 'RoIAlign');
    let bx = g.boxes;
    if (g.listBoxes) {
      // per image [N, K, 4] (the layer's form), K the same for every image
      const n = shapeOf(g.x)[0] ?? 1;
      bx = boxes(rng, [rng.chance(0.1) ? n + 1 : n], dim(rng, 3), 10, 0.06);
    }
    return {inputs: [g.x, bx, g.args], call: (_, x, b, a) => {
      const Layer = vision[name] as unknown as new (a: unknown) => tfl.layers.Layer;
      return new Layer(a).apply([x, b]) as Tensor;
    }};
  }};
}

const LAYERS: OpSpec[] = [
  roiLayer('RoIAlign'), roiLayer('RoIPool'), roiLayer('PSRoIAlign'), roiLayer('PSRoIPool'),
  {name: 'MultiScaleRoIAlign', cases: 20, gen: rng => {
    const s = rng.pick([16, 32]);
    const n = dim(rng, 2, 0.1), c = rng.int(1, 2);
    const h2 = rng.chance(0.06) ? 0 : s / 4, h3 = rng.chance(0.06) ? 0 : s / 8;
    const p2 = withFloats(rng, [n, h2, h2, c], -2, 2, 0.05);
    const p3 = withFloats(rng, [n, h3, h3, rng.chance(0.05) ? c + 1 : c], -2, 2, 0.05);
    const images = rng.chance(0.08) ? n + 1 : n;
    const bx = Array.from({length: images}, () => boxes(rng, [], dim(rng, 3), s, 0.08));
    const shapes = Array.from({length: rng.chance(0.06) ? images + 1 : images}, () =>
      rng.chance(0.1) ? pair(rng, 1, s, 1, false) : [s, s]);
    const args = {featmapNames: rng.chance(0.05) ? ['p4'] : ['p2', 'p3'], outputSize: pair(rng, 1, 3, 0.1),
      samplingRatio: attr(rng, () => rng.int(-1, 2), 0.12), canonicalScale: attr(rng, () => rng.pick([224, 16, 64]), 0.12),
      canonicalLevel: attr(rng, () => rng.pick([4, 3, 2]), 0.12)};
    return {inputs: [{p2, p3}, bx, shapes, args], call: (_, f, b, sh, a) => new vision.MultiScaleRoIAlign(a).forward(f, b, sh)};
  }},
  {name: 'FeaturePyramidNetwork', cases: 16, gen: rng => {
    const dataFormat = rng.pick(FORMATS);
    const [c1, c2, out] = [rng.int(1, 3), rng.int(1, 3), channels(rng, () => rng.int(1, 3))];
    const n = dim(rng, 2, 0.1), s = rng.chance(0.08) ? 0 : rng.int(1, 3);
    const map = (size: number, c: number) => withFloats(rng, dataFormat === 'channelsFirst' ? [n, c, size, size] : [n, size, size, c],
        -2, 2, 0.04);
    const m1 = map(2 * s, rng.chance(0.05) ? c1 + 1 : c1), m2 = map(s, c2);
    const extraBlocks = rng.pick([null, 'lastLevelMaxPool', {type: 'lastLevelP6P7', inChannels: out, outChannels: out}] as unknown[]);
    const args = {inChannelsList: rng.chance(0.05) ? [c1, 0] : [c1, c2], outChannels: out, extraBlocks,
      normLayer: rng.pick([null, null, 'frozenBatchNorm'] as unknown[]), dataFormat};
    return {inputs: [m1, m2, args], call: (ctx, a, b, cfg) => {
      const layer = new vision.FeaturePyramidNetwork(cfg);
      seedWeights(ctx, layer, [a.shape, b.shape]);
      return layer.apply([a, b]) as Tensor[];
    }};
  }},
  {name: 'DeformConv2d', errorNames: ['DeformConv2d', 'deformConv2d'], cases: 20, gen: rng => {
    const d = deformInputs(rng);
    const args = {filters: channels(rng, () => d.cout, 0.08), kernelSize: rng.chance(0.08) ? rng.pick(SMALL_HOSTILE) : [d.kh, d.kw],
      strides: d.stride, padding: d.padding, dilation: d.dilation, groups: d.groups, offsetGroups: d.offsetGroups,
      useBias: rng.chance(0.5), dataFormat: d.dataFormat};
    return {inputs: [d.x, d.offset, d.mask, args], call: (ctx, x, off, mask, cfg) => {
      const layer = new vision.DeformConv2d(cfg);
      const ins = mask == null ? [x, off] : [x, off, mask];
      seedWeights(ctx, layer, ins.map(shapeOf));
      return layer.apply(ins) as Tensor;
    }};
  }},
  {name: 'FrozenBatchNorm2d', cases: 16, gen: rng => {
    const dataFormat = rng.pick(FORMATS);
    const c = rng.int(1, 3);
    const shape = [dim(rng, 2), dim(rng, 3), dim(rng, 3)];
    const cx = rng.chance(0.08) ? c + 1 : c;
    const x = withFloats(rng, dataFormat === 'channelsFirst' ? [shape[0], cx, shape[1], shape[2]] : [...shape, cx], -3, 3, 0.08);
    const args = {numFeatures: channels(rng, () => c), eps: attr(rng, () => 1e-5, 0.1), dataFormat};
    return {inputs: [x, args], call: (ctx, xx, cfg) => {
      const layer = new vision.FrozenBatchNorm2d(cfg);
      seedWeights(ctx, layer, xx instanceof Tensor ? xx.shape : [1, 1, 1, c]);
      return layer.apply(xx) as Tensor;
    }};
  }},
  {name: 'Conv2dNormActivation', cases: 16, gen: rng => {
    const [cin, cout] = [rng.int(1, 3), rng.int(1, 3)];
    const x = withFloats(rng, [dim(rng, 2), dim(rng, 4) + 1, dim(rng, 4) + 1, rng.chance(0.06) ? cin + 1 : cin], -2, 2, 0.05);
    const args = {inChannels: cin, outChannels: channels(rng, () => cout, 0.08), kernelSize: pair(rng, 1, 3, 0.1, true, SMALL_HOSTILE),
      stride: pair(rng, 1, 2, 0.1), normLayer: rng.pick(['batchNorm', 'frozenBatchNorm', null] as unknown[]),
      activation: choice(rng, ['relu', 'silu', null], 0.08)};
    return {inputs: [x, args], call: (ctx, xx, cfg) => {
      const layer = new vision.Conv2dNormActivation(cfg);
      seedWeights(ctx, layer, xx.shape);
      return layer.apply(xx) as Tensor;
    }};
  }},
  {name: 'SqueezeExcitation', cases: 16, gen: rng => {
    const c = rng.int(1, 4);
    const x = withFloats(rng, [dim(rng, 2), dim(rng, 4), dim(rng, 4), rng.chance(0.06) ? c + 1 : c], -2, 2, 0.05);
    const args = {inputChannels: c, squeezeChannels: channels(rng, () => rng.int(1, 3))};
    return {inputs: [x, args], call: (ctx, xx, cfg) => {
      const layer = new vision.SqueezeExcitation(cfg);
      seedWeights(ctx, layer, xx.shape);
      return layer.apply(xx) as Tensor;
    }};
  }},
  {name: 'MLP', cases: 16, gen: rng => {
    const c = rng.int(1, 4);
    const x = withFloats(rng, [dim(rng, 3), rng.chance(0.06) ? c + 1 : c], -2, 2, 0.05);
    const args = {inChannels: c, hiddenChannels: rng.chance(0.1) ? rng.pick([[], [0], [NaN], [1.5]] as unknown[]) :
      Array.from({length: rng.int(1, 2)}, () => rng.int(1, 3)), normLayer: rng.pick([null, 'layerNorm'] as unknown[])};
    return {inputs: [x, args], call: (ctx, xx, cfg) => {
      const layer = new vision.MLP(cfg);
      seedWeights(ctx, layer, xx.shape);
      return layer.apply(xx) as Tensor;
    }};
  }},
  {name: 'Permute', cases: 12, gen: rng => {
    const rank = rng.int(2, 4);
    const x = withFloats(rng, Array.from({length: rank}, () => dim(rng, 3)), -2, 2, 0.1);
    const dims = Array.from({length: rank}, (_, i) => i).sort(() => rng.next() - 0.5);
    if (rng.chance(0.2)) dims[rng.int(0, rank - 1)] = rng.pick([rank, -1, 0.5, NaN, dims[0]]);
    return {inputs: [x, {dims}], call: (_, xx, cfg) => new vision.Permute(cfg).apply(xx) as Tensor};
  }},
  {name: 'StochasticDepth', errorNames: ['StochasticDepth', 'stochasticDepth'], cases: 12, gen: rng => {
    const x = withFloats(rng, [dim(rng, 3), dim(rng, 3), dim(rng, 3)], -2, 2, 0.08);
    const args = {p: attr(rng, () => rng.uniform(0, 1), 0.15), mode: choice(rng, ['row', 'batch']), seed: rng.int(0, 99)};
    return {inputs: [x, args], call: (_, xx, cfg) => new vision.StochasticDepth(cfg).apply(xx, {training: true}) as Tensor};
  }},
  {name: 'DropBlock2d', errorNames: ['DropBlock2d', 'dropBlock2d'], cases: 12, gen: rng => {
    const x = withFloats(rng, [dim(rng, 2), dim(rng, 6), dim(rng, 6), dim(rng, 2)], -2, 2, 0.08);
    const args = {p: attr(rng, () => rng.uniform(0, 1), 0.15), blockSize: attr(rng, () => rng.pick([1, 3]), 0.15),
      seed: rng.int(0, 99)};
    return {inputs: [x, args], call: (_, xx, cfg) => new vision.DropBlock2d(cfg).apply(xx, {training: true}) as Tensor};
  }},
];

// ---------------------------------------------------------------------------------------------- the specs

const selected = (s: OpSpec) => ONLY == null || ONLY.split(',').some(o => o.split(':')[0] === s.name);

let startTensors = 0;
let startHeap: number|null = null;

describe('fuzz: every op and layer, seeded hostile cases', () => {
  beforeAll(async () => {
    startTensors = tf.memory().numTensors;
    startHeap = heapBytes();
  });

  for (const spec of OPS.filter(selected)) {
    it(`${spec.name}: clear op-named Error or a result equal to cpu's; no stray writes, leaks or slow cases`,
        async () => { await fuzzOp(spec); }, TEST_TIMEOUT_MS);
  }
  for (const spec of LAYERS.filter(selected)) {
    it(`layer ${spec.name}: clear Error naming the layer or a result equal to cpu's; no stray writes, leaks or slow cases`,
        async () => { await fuzzOp(spec); }, TEST_TIMEOUT_MS);
  }

  it('the whole run leaves no tensor behind and (wasm) the heap bounded', async () => {
    if (onGpu()) await settle();
    // eslint-disable-next-line no-console
    console.log(`fuzz on ${tf.getBackend()}:\n${NOTES.join('\n')}` + (startHeap == null ? '' :
      `\nwasm heap: ${startHeap} bytes at the start, ${HEAP.map(([op, b]) => `${op} ${b}`).join(', ')}`));
    expect(tf.memory().numTensors).toBe(startTensors);
    if (startHeap != null && HEAP.length > 0) {
      // Growth once (warm-up, the largest case) is fine; it must stop: nothing past the first quarter of the ops.
      const settled = HEAP[Math.floor(HEAP.length / 4)][1];
      const last = HEAP[HEAP.length - 1][1];
      if (last > Math.max(settled, startHeap) + 16 * 2 ** 20) {
        throw new Error(`wasm heap grew from ${settled} to ${last} bytes after warm-up: ` +
            HEAP.map(([op, b]) => `${op} ${b}`).join(', '));
      }
    }
  }, TEST_TIMEOUT_MS);
});

void HOSTILE_VALUES;
