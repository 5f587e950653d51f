/**
 * Seeded generators of the property/fuzz spec (test/fuzz.spec.ts): a
 * mulberry32 PRNG, plain (backend-free) tensor descriptions with hostile
 * values, hostile attribute values, and short printable summaries of a case
 * so that a failure names everything needed to replay it.
 */

/** mulberry32: small, fast, and the same sequence on every platform. */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0; }
  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x6D2B79F5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number { return lo + Math.floor(this.next() * (hi - lo + 1)); }
  uniform(lo: number, hi: number): number { return lo + (hi - lo) * this.next(); }
  chance(p: number): boolean { return this.next() < p; }
  pick<T>(values: readonly T[]): T { return values[Math.floor(this.next() * values.length)]; }
}

/** Float32 values that break naive kernels: NaN, infinities, extremes, subnormals, signed zero. */
export const HOSTILE_VALUES: readonly number[] = [NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e-45, -1e-45, 1.2e-40,
  -0, 0, 1e6, -1e6, 2 ** 31, -(2 ** 31), 2 ** 53];

/** Numbers for attributes (sizes, scales, thresholds, probabilities) that are invalid or extreme. */
export const HOSTILE_NUMBERS: readonly unknown[] = [0, -0, -1, -7, NaN, Infinity, -Infinity, 1e6, 2 ** 31, 2 ** 53, 1e300,
  0.5, 1.5, -2.5, 1e-45, 2 ** 31 - 1];

/** Values of the wrong type for any argument. */
export const WRONG_TYPES: readonly unknown[] = ['1', '', null, undefined, {}, [], true, [1, 2, 3], [NaN, 1], () => 1,
  {length: 2}];

/** A backend-free tensor: the harness makes it a tf.Tensor on the backend under test. */
export class PlainTensor {
  constructor(readonly values: Float32Array|Int32Array|Uint8Array, readonly shape: number[],
      readonly dtype: 'float32'|'int32'|'bool') {}
  get size() { return this.values.length; }
}

export const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * float32 values in [lo, hi], a fraction `hostileRate` of them replaced by
 * HOSTILE_VALUES (and the whole tensor hostile-free when rate is 0).
 */
export function floats(rng: Rng, shape: number[], lo = -4, hi = 4, hostileRate = 0.1): PlainTensor {
  const n = sizeOf(shape);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.chance(hostileRate) ? rng.pick(HOSTILE_VALUES) : rng.uniform(lo, hi);
  return new PlainTensor(v, shape, 'float32');
}

export function ints(rng: Rng, shape: number[], lo: number, hi: number): PlainTensor {
  const n = sizeOf(shape);
  const v = new Int32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.int(lo, hi);
  return new PlainTensor(v, shape, 'int32');
}

export function bools(rng: Rng, shape: number[], p = 0.5): PlainTensor {
  const n = sizeOf(shape);
  const v = new Uint8Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.chance(p) ? 1 : 0;
  return new PlainTensor(v, shape, 'bool');
}

/** A size: 0 now and then, else in [1, max]. */
export function dim(rng: Rng, max: number, zeroRate = 0.12): number {
  return rng.chance(zeroRate) ? 0 : rng.int(1, max);
}

/**
 * xyxy boxes [...lead, n, 4] in [0, extent]: mostly proper (x1 <= x2), some
 * reversed (x2 < x1), degenerate, or with hostile coordinates.
 */
export function boxes(rng: Rng, lead: number[], n: number, extent = 16, hostileRate = 0.08, last = 4): PlainTensor {
  const shape = [...lead, n, last];
  const count = sizeOf(lead) * n;
  const v = new Float32Array(count * last);
  for (let b = 0; b < count; b++) {
    const x1 = rng.uniform(-2, extent), y1 = rng.uniform(-2, extent);
    const w = rng.uniform(0, extent / 2), h = rng.uniform(0, extent / 2);
    const kind = rng.int(0, 9);
    const row = kind === 0 ? [x1 + w, y1 + h, x1, y1]  // reversed
      : kind === 1 ? [x1, y1, x1, y1]  // degenerate
        : [x1, y1, x1 + w, y1 + h];
    for (let j = 0; j < last; j++) {
      v[b * last + j] = rng.chance(hostileRate) ? rng.pick(HOSTILE_VALUES) : j < 4 ? row[j] : rng.uniform(-180, 180);
    }
  }
  return new PlainTensor(v, shape, 'float32');
}

/** A valid value most of the time, else a hostile number or (rarely) a wrong type. */
export function attr<T>(rng: Rng, valid: () => T, hostileRate = 0.25): T|unknown {
  if (!rng.chance(hostileRate)) return valid();
  return rng.chance(0.8) ? rng.pick(HOSTILE_NUMBERS) : rng.pick(WRONG_TYPES);
}

function num(v: number): string {
  if (Object.is(v, -0)) return '-0';
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Inf' : '-Inf';
  return Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : String(Math.round(v * 1e4) / 1e4);
}

/** A short printable form of any argument; small tensors in full (enough to replay a case). */
export function summarize(value: unknown, depth = 0): string {
  if (value instanceof PlainTensor) {
    const vals = Array.from(value.values as ArrayLike<number>);
    const hostile = vals.filter(v => !Number.isFinite(v) || Math.abs(v) >= 1e6 || (v !== 0 && Math.abs(v) < 1.2e-38) ||
      Object.is(v, -0)).length;
    const body = vals.length <= 24 ? `[${vals.map(num).join(',')}]` : `(${vals.length} values, ${hostile} hostile)`;
    return `${value.dtype}[${value.shape}]${body}`;
  }
  if (typeof value === 'number') return num(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'function';
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value)) return depth > 3 ? '[...]' : `[${value.map(v => summarize(v, depth + 1)).join(', ')}]`;
  if (typeof value === 'object') {
    if (depth > 3) return '{...}';
    return `{${Object.entries(value as object).map(([k, v]) => `${k}: ${summarize(v, depth + 1)}`).join(', ')}}`;
  }
  return String(value);
}
