/**
 * Deterministic detector weights without a checkpoint: tools/fixtures_detector.py's
 * hash formula (bit for bit) and its per-key rule, shared by test/detector.spec.ts,
 * test/detector_hostile.spec.ts and bench/cases/detector.ts.
 */
import {HostTensor} from '../../src/io/safetensors';

/**
 * (a * b) mod 2^32 of uint32s, as `Math.imul(a, b) >>> 0` (exact: each
 * partial product is below 2^53). Math.imul itself is about 50 times slower
 * inside jest's sandbox (not inlined there), which made a state_dict take seconds.
 */
function mul32(a: number, b: number): number {
  return ((a & 0xffff) * b + (((a >>> 16) * b) & 0xffff) * 65536) >>> 0;
}

/** FNV-1a 32 of an ASCII key. */
function fnv1a32(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = mul32((h ^ key.charCodeAt(i)) >>> 0, 0x01000193);
  return h;
}

/** tools/fixtures_detector.py's formula: float32(offset + u_i * scale), u_i = fmix32(i * 0x9E3779B1 + fnv1a32(key)) / 2^32 - 0.5. */
export function formulaWeights(key: string, n: number, offset: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  const k = fnv1a32(key);
  for (let i = 0; i < n; i++) {
    let h = (mul32(i, 0x9e3779b1) + k) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
    h = mul32(h, 0x85ebca6b);
    h = (h ^ (h >>> 13)) >>> 0;
    h = mul32(h, 0xc2b2ae35);
    h = (h ^ (h >>> 16)) >>> 0;
    out[i] = offset + (h / 4294967296 - 0.5) * scale;
  }
  return out;
}

const NORM_RULES: Record<string, [number, number]> = {
  weight: [1.0, 0.5], bias: [0.0, 0.2], running_mean: [0.0, 0.2], running_var: [1.25, 0.5]};

/**
 * tools/fixtures_detector.py's `rule`: [offset, scale] of a state_dict entry.
 * `isNorm`: the key is a BatchNorm's weight, bias, running_mean or running_var.
 */
export function formulaRule(key: string, shape: number[], isNorm: boolean): [number, number] {
  if (isNorm) return NORM_RULES[key.slice(key.lastIndexOf('.') + 1)];
  if (shape.length === 1) return [0.0, 0.1];
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  let gain = Math.SQRT2;
  if (key.endsWith('conv3.weight')) gain = 0.3;
  else if (['cls_logits.weight', 'rpn.head.bbox_pred.weight', 'downsample.0.weight'].some(s => key.endsWith(s)) ||
      key.includes('.fpn.')) gain = 1.0;
  return [0.0, 2 * Math.sqrt(3) * gain / Math.sqrt(fanIn)];
}

/**
 * [key, shape, offset, scale] of every key of `shapes` (a model's
 * expectedShapes()), by tools/fixtures_detector.py's rule: the format of
 * test/fixtures/detector.json's args.weights. A key is a norm's when its
 * module also has a running_mean.
 */
export function formulaPlan(shapes: Record<string, number[]>): Array<[string, number[], number, number]> {
  return Object.entries(shapes).map(([key, shape]) => {
    const module = key.slice(0, key.lastIndexOf('.'));
    const isNorm = Object.prototype.hasOwnProperty.call(shapes, `${module}.running_mean`);
    return [key, shape, ...formulaRule(key, shape, isNorm)];
  });
}

/**
 * A whole state_dict for `model` (anything with expectedShapes(), e.g. a
 * FasterRCNN): every key by the formula and rule of tools/fixtures_detector.py,
 * the box predictor included (the fixtures take theirs from a .pth instead).
 */
export function formulaStateDict(model: {expectedShapes(): Record<string, number[]>}): Record<string, HostTensor> {
  const state: Record<string, HostTensor> = {};
  for (const [key, shape, offset, scale] of formulaPlan(model.expectedShapes())) {
    const n = shape.reduce((a, b) => a * b, 1);
    state[key] = {shape, dtype: 'float32', values: formulaWeights(key, n, offset, scale), sourceDtype: 'F32'};
  }
  return state;
}

