/**
 * torchvision.models.detection's training pieces (_utils.Matcher,
 * BalancedPositiveNegativeSampler, the RPN's and fastrcnn_loss's losses) for
 * FasterRCNN.prepareTraining / trainingLosses. Matching and sampling run on
 * the host over float32 IoUs computed as torchvision computes them (every
 * step rounded to float32), so the thresholds cut where torch's do.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Scalar, Tensor, Tensor1D, Tensor2D, Tensor4D} from '@tensorflow/tfjs-core';

/** A training target of one image: boxes [G, 4] (xyxy, the image's pixels) and labels [G] (int32, 1..numClasses - 1). */
export interface DetectionTarget { boxes: Tensor2D; labels: Tensor1D; }

/** FasterRCNN's training losses, as torchvision's model(images, targets) returns them in train mode. */
export interface FasterRCNNLosses {
  lossClassifier: Scalar;
  lossBoxReg: Scalar;
  lossObjectness: Scalar;
  lossRpnBoxReg: Scalar;
}

/** The training keyword arguments of FasterRCNN (camelCased; torchvision's defaults). */
export interface FasterRCNNTrainingOptions {
  /** Default 2000. */
  rpnPreNmsTopNTrain?: number;
  /** Default 2000. */
  rpnPostNmsTopNTrain?: number;
  /** Anchors with IoU >= this are foreground; default 0.7. */
  rpnFgIouThresh?: number;
  /** Anchors with IoU < this are background; default 0.3. */
  rpnBgIouThresh?: number;
  /** Anchors sampled per image for the RPN losses; default 256. */
  rpnBatchSizePerImage?: number;
  /** Default 0.5. */
  rpnPositiveFraction?: number;
  /** Default 0.5. */
  boxFgIouThresh?: number;
  /** Default 0.5. */
  boxBgIouThresh?: number;
  /** Proposals sampled per image for the box losses; default 512. */
  boxBatchSizePerImage?: number;
  /** Default 0.25. */
  boxPositiveFraction?: number;
}

const f = Math.fround;

/**
 * IoU [G][P] (row-major) of boxes a [G * 4] and b [P * 4], rounded as
 * torchvision's box_iou rounds in float32.
 */
export function boxIouHost(a: ArrayLike<number>, b: ArrayLike<number>): Float32Array {
  const g = a.length / 4, p = b.length / 4;
  const out = new Float32Array(g * p);
  const area = (x: ArrayLike<number>, i: number) => f(f(x[4 * i + 2] - x[4 * i]) * f(x[4 * i + 3] - x[4 * i + 1]));
  const areaB = Float32Array.from({length: p}, (_, j) => area(b, j));
  for (let i = 0; i < g; i++) {
    const areaA = area(a, i);
    for (let j = 0; j < p; j++) {
      const w = Math.max(f(Math.min(a[4 * i + 2], b[4 * j + 2]) - Math.max(a[4 * i], b[4 * j])), 0);
      const h = Math.max(f(Math.min(a[4 * i + 3], b[4 * j + 3]) - Math.max(a[4 * i + 1], b[4 * j + 1])), 0);
      const inter = f(w * h);
      out[i * p + j] = f(inter / f(f(areaA + areaB[j]) - inter));
    }
  }
  return out;
}

export const BELOW_LOW_THRESHOLD = -1;
export const BETWEEN_THRESHOLDS = -2;

/**
 * torchvision's Matcher(high, low, allowLowQualityMatches) on an IoU matrix
 * [G][P]: for each of the P boxes the best ground truth (first on ties), or
 * -1 (best IoU < low) or -2 (low <= best < high). With allowLowQualityMatches
 * every box that is the best match of some ground truth (ties included)
 * keeps its own best ground truth, whatever its IoU.
 */
export function matchBoxes(iou: Float32Array, g: number, p: number, high: number, low: number,
    allowLowQualityMatches: boolean): Int32Array {
  const matches = new Int32Array(p);
  const best = new Float32Array(p);
  for (let j = 0; j < p; j++) {
    let m = 0;
    for (let i = 1; i < g; i++) if (iou[i * p + j] > iou[m * p + j]) m = i;
    matches[j] = m;
    best[j] = iou[m * p + j];
  }
  const all = matches.slice();
  const [hi, lo] = [f(high), f(low)];
  for (let j = 0; j < p; j++) {
    if (best[j] < lo) matches[j] = BELOW_LOW_THRESHOLD;
    else if (best[j] < hi) matches[j] = BETWEEN_THRESHOLDS;
  }
  if (allowLowQualityMatches) {
    for (let i = 0; i < g; i++) {
      let top = -Infinity;
      for (let j = 0; j < p; j++) top = Math.max(top, iou[i * p + j]);
      for (let j = 0; j < p; j++) if (iou[i * p + j] === top) matches[j] = all[j];
    }
  }
  return matches;
}

/** Fisher-Yates shuffle of 0..n-1 with `random` (torch.randperm's role). */
function permutation(n: number, random: () => number): Int32Array {
  const out = Int32Array.from({length: n}, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(random() * (i + 1)));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * torchvision's BalancedPositiveNegativeSampler on one image's labels
 * (>= 1 positive, 0 negative, -1 ignored): at most batchSize * fraction
 * positives, the rest negatives, each drawn at random; indices ascending.
 */
export function samplePositiveNegative(labels: ArrayLike<number>, batchSize: number, positiveFraction: number,
    random: () => number): {positive: number[], negative: number[]} {
  const pos: number[] = [], neg: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] >= 1) pos.push(i);
    else if (labels[i] === 0) neg.push(i);
  }
  const numPos = Math.min(pos.length, Math.trunc(batchSize * positiveFraction));
  const numNeg = Math.min(neg.length, batchSize - numPos);
  const pick = (from: number[], k: number) =>
    Array.from(permutation(from.length, random).subarray(0, k), i => from[i]).sort((x, y) => x - y);
  return {positive: pick(pos, numPos), negative: pick(neg, numNeg)};
}

/**
 * torch's smooth_l1_loss(x, y, beta, reduction='sum'): per element 0.5 n^2 /
 * beta below beta, n - 0.5 beta above (n = |x - y|), written as 0.5 m^2 /
 * beta + (n - m) with m = min(n, beta), whose gradient needs no mask.
 */
export function smoothL1Sum(x: Tensor, y: Tensor, beta: number): Scalar {
  // tfjs-backend-wasm 4.22 sums no elements into whatever its output held
  if (x.size === 0) return tf.scalar(0);
  return tf.tidy(() => {
    const n = tf.abs(tf.sub(x, y));
    const m = tf.minimum(n, beta);
    return tf.sum(tf.add(tf.div(tf.mul(0.5, tf.square(m)), beta), tf.sub(n, m))) as Scalar;
  });
}

/** torch's binary_cross_entropy_with_logits(logits, targets) (mean). */
export function bceWithLogitsMean(logits: Tensor, targets: Tensor): Scalar {
  return tf.tidy(() => tf.mean(tf.add(tf.sub(tf.relu(logits), tf.mul(logits, targets)),
      tf.log1p(tf.exp(tf.neg(tf.abs(logits)))))) as Scalar);
}

/**
 * torch's cross_entropy(logits [K, C], labels [K] int32) (mean). Log-softmax
 * as x - logSumExp(x): tf.logSoftmax's custom op leaks a data id on
 * tfjs-backend-wasm 4.22.
 */
export function crossEntropyMean(logits: Tensor2D, labels: Tensor1D): Scalar {
  return tf.tidy(() => {
    const logProbabilities = tf.sub(logits, tf.logSumExp(logits, 1, true));
    return tf.neg(tf.mean(tf.sum(tf.mul(logProbabilities, tf.oneHot(labels, logits.shape[1])), 1))) as Scalar;
  });
}

/**
 * What FasterRCNN.prepareTraining computed for one batch (everything that
 * does not take gradients: the batched images, the sampled anchors and
 * proposals and their targets). Dispose it after the step.
 */
export interface TrainingBatch {
  /** The transformed, batched images [N, H, W, 3]. */
  images: Tensor4D;
  imageSizes: Array<[number, number]>;
  /** Sampled anchors (flat indices into the N * anchors predictions) and their 0/1 labels. */
  rpnSampled: Tensor1D;
  rpnLabels: Tensor1D;
  /** Positive anchors (flat indices) and their regression targets [P, 4]. */
  rpnPositive: Tensor1D;
  rpnTargets: Tensor2D;
  /** The sampled proposals of each image [K_i, 4] and their labels [sum K_i] (int32, 0 background). */
  proposals: Tensor2D[];
  labels: Tensor1D;
  /** Rows k * numClasses + label of the positive samples, and their regression targets [P, 4]. */
  boxPositiveRows: Tensor1D;
  boxTargets: Tensor2D;
  /** Counts for inspection: positives and negatives sampled per image. */
  counts: {rpnPositive: number[], rpnNegative: number[], boxPositive: number[], boxNegative: number[]};
}

/** Frees a TrainingBatch's tensors. */
export function disposeTrainingBatch(b: TrainingBatch) {
  tf.dispose([b.images, b.rpnSampled, b.rpnLabels, b.rpnPositive, b.rpnTargets, ...b.proposals, b.labels,
    b.boxPositiveRows, b.boxTargets]);
}
