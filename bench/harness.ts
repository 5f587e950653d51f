/** Timing helpers for `npm run bench`: warm-up, then the median of repeated runs. */
import * as tf from '@tensorflow/tfjs-core';

export interface Timing { median: number; runs: number; }

function tensorsIn(container: tf.TensorContainer): tf.Tensor[] {
  if (container instanceof tf.Tensor) return [container];
  if (container == null || typeof container !== 'object') return [];
  return Object.values(container).flatMap(v => tensorsIn(v as tf.TensorContainer));
}

let cap = {warmup: Infinity, runs: Infinity};

/** Caps every case's repetitions (the browser runs use 1 warm-up and 3 runs). */
export function capRepetitions(warmup: number, runs: number) {
  cap = {warmup, runs};
}

/**
 * Times fn (which returns, or resolves to, tensors to await and dispose) with a
 * full sync each run: `warmup` runs (the first run always is one), then the
 * median of `runs` runs, each count at most what `capRepetitions` set. Slow
 * cases (software GPUs, tfjs's cpu conv2d backward) get fewer runs so the
 * whole bench stays within about 15 minutes: past 500 ms a run, the first run
 * is the only warm-up and 3 runs follow; past 5 s, a second run is the only
 * measurement (the first may be mostly shader compilation: SwiftShader's
 * WGSL pipelines take seconds), unless it is much faster. `readBack: 'one
 * value'` syncs on one value of each result instead of reading it all (on a
 * GPU backend the wait still covers all the work queued before it): for
 * comparing passes whose results differ much in size, as a gradient that
 * stays on the GPU in training.
 */
export async function timeMedian(
    fn: () => tf.TensorContainer | Promise<tf.TensorContainer>,
    {warmup = 2, runs = 7, readBack = 'all' as 'all'|'one value'} = {}): Promise<Timing> {
  [warmup, runs] = [Math.min(warmup, cap.warmup), Math.min(runs, cap.runs)];
  const once = async () => {
    const start = performance.now();
    const out = await fn();
    for (const t of tensorsIn(out)) {
      if (readBack === 'all' || t.size <= 1) {
        await t.data();
      } else {
        // The first element in place: a reshape first would make webgl unpack and repack a packed texture
        // (tens of ms on SwiftShader at these sizes), timed as if it were the op's.
        const one = tf.tidy(() => tf.slice(t, t.shape.map(() => 0), t.shape.map(() => 1)));
        await one.data();
        one.dispose();
      }
    }
    const ms = performance.now() - start;
    tf.dispose(out);
    return ms;
  };
  let first = await once();
  if (first > 5000 && runs > 0) {
    first = await once();
    if (first > 5000) return {median: first, runs: 1};
  }
  if (first > 500) [warmup, runs] = [0, 3];
  for (let i = 1; i < warmup; i++) await once();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await once());
  times.sort((a, b) => a - b);
  return {median: times[Math.floor(times.length / 2)], runs};
}

export interface BenchRow {
  case: string; backend: string; variant: string; median_ms: number;
  baseline?: string; baseline_ms?: number;
}

export function formatTable(rows: BenchRow[]): string {
  const header = '| case | backend | variant | median ms | vs | baseline ms | speed-up |\n|---|---|---|---:|---|---:|---:|';
  const lines = rows.map(r => `| ${r.case} | ${r.backend} | ${r.variant} | ${r.median_ms.toFixed(1)} | ` +
      `${r.baseline ?? ''} | ${r.baseline_ms != null ? r.baseline_ms.toFixed(1) : ''} | ` +
      `${r.baseline_ms != null ? (r.baseline_ms / r.median_ms).toFixed(2) + 'x' : ''} |`);
  return [header, ...lines].join('\n');
}

/** Variants timing a backward pass: 'backward (...)', 'forward+backward (...)', 'forward+backward+update (...)'. */
const BACKWARD_VARIANT = /^(forward\+)?backward(\+update)?( \(|$)/;

/**
 * Per case and backend with a 'forward' row (variant 'forward' or 'forward
 * (...)'): each backward row beside it, and backward / forward, where a
 * forward+backward row's backward is its time less the forward's.
 */
export function backwardRatioTable(rows: BenchRow[]): string {
  const header = '| case | backend | forward ms | measured | ms | backward / forward |\n|---|---|---:|---|---:|---:|';
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const f of rows.filter(r => /^forward( \(|$)/.test(r.variant))) {
    if (seen.has(`${f.case}|${f.backend}`)) continue;
    seen.add(`${f.case}|${f.backend}`);
    const variants = new Map(rows.filter(r => r.case === f.case && r.backend === f.backend &&
        BACKWARD_VARIANT.test(r.variant)).map(r => [r.variant, r.median_ms]));
    for (const [variant, ms] of variants) {
      const backward = variant.startsWith('forward+') ? ms - f.median_ms : ms;
      lines.push(`| ${f.case} | ${f.backend} | ${f.median_ms.toFixed(1)} | ${variant} | ${ms.toFixed(1)} | ` +
          `${(backward / f.median_ms).toFixed(2)} |`);
    }
  }
  return [header, ...lines].join('\n');
}

/**
 * Rows against torchvision's timings of case `name` (none when torchvision was
 * not timed): per [variant, our median ms, key of torchvision's timing].
 */
export function torchvisionRows(
    name: string, backend: string, torchvision: Record<string, Record<string, number>>,
    variants: [string, number, string][]): BenchRow[] {
  const torch = torchvision[name];
  if (torch == null) return [];
  return variants.map(([variant, median_ms, key]) => ({case: name, backend, variant, median_ms,
    baseline: 'torchvision 0.14, 1 thread', baseline_ms: torch[key]}));
}

/**
 * 'full': the problem sizes of bench/results (each case's doc comment);
 * 'tiny': every case at a toy size, seconds in all (`npm run bench -- --tiny`,
 * a smoke test of the bench itself: its timings mean nothing).
 */
export type BenchSize = 'full' | 'tiny';

/** One benchmark: rows for a backend, given torchvision's timings for its torchvisionCases. */
export interface BenchCase {
  name: string;
  /** Names in bench/torchvision_bench.py CASES, timed once per bench run. */
  torchvisionCases: string[];
  /** Node backends this case runs on. */
  backends: string[];
  run(backend: string, torchvision: Record<string, Record<string, number>>, size: BenchSize): Promise<BenchRow[]>;
}
