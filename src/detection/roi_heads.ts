/**
 * torchvision.models.detection's box branch, eval mode: TwoMLPHead,
 * FastRCNNPredictor and RoIHeads (MultiScaleRoIAlign -> head -> predictor
 * -> postprocess_detections). Like the RPN, the data-dependent filtering
 * reads back scores, keep masks and indices asynchronously.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor, Tensor1D, Tensor2D, Tensor4D} from '@tensorflow/tfjs-core';
import {MultiScaleRoIAlign} from '../layers/multi_scale_roi_align.ts';
import {clipBoxesToImage, removeSmallBoxesAsync} from '../ops/box_ops.ts';
import {batchedNmsAsync} from '../ops/nms.ts';
import {DataFormat} from '../ops/roi_common.ts';
import {gatherRows, sliceOrEmpty} from './gather_rows.ts';
import {BoxCoder} from './box_coder.ts';
import {indicesWhere} from './rpn.ts';
import {linear, StateDict, takeWeight, withDot} from './state_dict.ts';
import {asVariable, toTorchLayout} from './trainable.ts';

interface Linear { kernel: Tensor; bias: Tensor; }

function loadLinear(op: string, stateDict: StateDict, key: string, inFeatures: number, outFeatures: number): Linear {
  const kernel = takeWeight(op, stateDict, `${key}.weight`, [outFeatures, inFeatures], 'linear');
  let bias: Tensor;
  try {
    bias = takeWeight(op, stateDict, `${key}.bias`, [outFeatures], 'same');
  } catch (e) {
    kernel.dispose();
    throw e;
  }
  return {kernel: asVariable(kernel), bias: asVariable(bias)};
}

/** The variables of loaded linears under prefix by state_dict key (kernels [in, out]). */
function linearsVariables(op: string, prefix: string, named: Record<string, Linear|null>): Record<string, tf.Variable> {
  const p = withDot(prefix);
  return Object.fromEntries(Object.entries(named).flatMap(([k, l]) => {
    if (l == null) throw new Error(`${op}: call loadStateDict first`);
    return [[`${p}${k}.weight`, l.kernel as tf.Variable], [`${p}${k}.bias`, l.bias as tf.Variable]];
  }));
}

function linearsStateDict(op: string, prefix: string, named: Record<string, Linear|null>): Record<string, Tensor> {
  const p = withDot(prefix);
  return Object.fromEntries(Object.entries(named).flatMap(([k, l]) => {
    if (l == null) throw new Error(`${op}: call loadStateDict first`);
    return [[`${p}${k}.weight`, toTorchLayout(l.kernel, 'linear')], [`${p}${k}.bias`, tf.clone(l.bias)]];
  }));
}

/**
 * Flattens [K, ...] to [K, F] in torch's order: a channelsLast map [K, H, W,
 * C] is flattened as (C, H, W), so torchvision's fc6 weights apply as they are.
 */
function flattenTorchOrder(x: Tensor, dataFormat: DataFormat): Tensor2D {
  // not -1, which 0 RoIs (no proposal passed the RPN) cannot infer; and nothing to reorder then
  // (tfjs-backend-wasm's transpose of 0 elements divides by zero)
  const features = x.shape.slice(1).reduce((a, b) => a * b, 1);
  if (x.size === 0) return tf.reshape(x, [x.shape[0], features]);
  const nchw = x.rank === 4 && dataFormat === 'channelsLast' ? tf.transpose(x, [0, 3, 1, 2]) : x;
  return tf.reshape(nchw, [x.shape[0], features]);
}

/** Faster R-CNN's TwoMLPHead: flatten, fc6 + ReLU, fc7 + ReLU. */
export class TwoMLPHead {
  private fc6: Linear|null = null;
  private fc7: Linear|null = null;

  /** dataFormat: layout of rank-4 inputs (pooled RoI features); default 'channelsLast'. */
  constructor(readonly inChannels: number, readonly representationSize: number,
      readonly dataFormat: DataFormat = 'channelsLast') {}

  /** Takes fc6.* and fc7.* under prefix (default 'roi_heads.box_head.'); returns the keys used. */
  loadStateDict(stateDict: StateDict, prefix = 'roi_heads.box_head.'): string[] {
    const p = withDot(prefix);
    const fc6 = loadLinear('TwoMLPHead', stateDict, `${p}fc6`, this.inChannels, this.representationSize);
    let fc7: Linear;
    try {
      fc7 = loadLinear('TwoMLPHead', stateDict, `${p}fc7`, this.representationSize, this.representationSize);
    } catch (e) {
      tf.dispose([fc6.kernel, fc6.bias]);
      throw e;
    }
    this.dispose();
    [this.fc6, this.fc7] = [fc6, fc7];
    return ['fc6', 'fc7'].flatMap(k => [`${p}${k}.weight`, `${p}${k}.bias`]);
  }

  /** The trainable variables under prefix (default 'roi_heads.box_head.') by state_dict key. */
  namedVariables(prefix = 'roi_heads.box_head.'): Record<string, tf.Variable> {
    return linearsVariables('TwoMLPHead', prefix, {fc6: this.fc6, fc7: this.fc7});
  }

  /** The weights as a torchvision state_dict under prefix (default 'roi_heads.box_head.'; tensors the caller owns). */
  stateDict(prefix = 'roi_heads.box_head.'): Record<string, Tensor> {
    return linearsStateDict('TwoMLPHead', prefix, {fc6: this.fc6, fc7: this.fc7});
  }

  /** [K, representationSize] from pooled features [K, ...]. torchvision: `forward(x)`. */
  forward(x: Tensor): Tensor2D {
    const {fc6, fc7} = this;
    if (fc6 == null || fc7 == null) throw new Error('TwoMLPHead: call loadStateDict first');
    return tf.tidy(() => {
      const h = tf.relu(linear(flattenTorchOrder(x, this.dataFormat), fc6.kernel, fc6.bias));
      return tf.relu(linear(h, fc7.kernel, fc7.bias)) as Tensor2D;
    });
  }

  /** Disposes the weight tensors. */
  dispose() {
    tf.dispose([this.fc6, this.fc7].flatMap(l => (l == null ? [] : [l.kernel, l.bias])));
    this.fc6 = this.fc7 = null;
  }
}

/** Faster R-CNN's FastRCNNPredictor: class logits [K, numClasses] and box deltas [K, 4 * numClasses]. */
export class FastRCNNPredictor {
  private clsScore: Linear|null = null;
  private bboxPred: Linear|null = null;

  constructor(readonly inChannels: number, readonly numClasses: number) {}

  /** Takes cls_score.* and bbox_pred.* under prefix (default 'roi_heads.box_predictor.'); returns the keys used. */
  loadStateDict(stateDict: StateDict, prefix = 'roi_heads.box_predictor.'): string[] {
    const p = withDot(prefix);
    const cls = loadLinear('FastRCNNPredictor', stateDict, `${p}cls_score`, this.inChannels, this.numClasses);
    let bbox: Linear;
    try {
      bbox = loadLinear('FastRCNNPredictor', stateDict, `${p}bbox_pred`, this.inChannels, 4 * this.numClasses);
    } catch (e) {
      tf.dispose([cls.kernel, cls.bias]);
      throw e;
    }
    this.dispose();
    [this.clsScore, this.bboxPred] = [cls, bbox];
    return ['cls_score', 'bbox_pred'].flatMap(k => [`${p}${k}.weight`, `${p}${k}.bias`]);
  }

  /** The trainable variables under prefix (default 'roi_heads.box_predictor.') by state_dict key. */
  namedVariables(prefix = 'roi_heads.box_predictor.'): Record<string, tf.Variable> {
    return linearsVariables('FastRCNNPredictor', prefix, {cls_score: this.clsScore, bbox_pred: this.bboxPred});
  }

  /** The weights as a torchvision state_dict under prefix (default 'roi_heads.box_predictor.'; tensors the caller owns). */
  stateDict(prefix = 'roi_heads.box_predictor.'): Record<string, Tensor> {
    return linearsStateDict('FastRCNNPredictor', prefix, {cls_score: this.clsScore, bbox_pred: this.bboxPred});
  }

  /** torchvision: `forward(x)` -> (scores, bbox_deltas). */
  forward(x: Tensor): {scores: Tensor2D, bboxDeltas: Tensor2D} {
    const {clsScore, bboxPred} = this;
    if (clsScore == null || bboxPred == null) throw new Error('FastRCNNPredictor: call loadStateDict first');
    return tf.tidy(() => {
      const flat = tf.reshape(x, [x.shape[0], x.shape.slice(1).reduce((a, b) => a * b, 1)]);
      return {scores: linear(flat, clsScore.kernel, clsScore.bias) as Tensor2D,
        bboxDeltas: linear(flat, bboxPred.kernel, bboxPred.bias) as Tensor2D};
    });
  }

  /** Disposes the weight tensors. */
  dispose() {
    tf.dispose([this.clsScore, this.bboxPred].flatMap(l => (l == null ? [] : [l.kernel, l.bias])));
    this.clsScore = this.bboxPred = null;
  }
}

/** Detections of one image: boxes [D, 4], scores [D], labels [D] (int32, 1..numClasses - 1). */
export interface Detections { boxes: Tensor2D; scores: Tensor1D; labels: Tensor1D; }

export interface RoIHeadsArgs {
  boxRoiPool: MultiScaleRoIAlign|null;
  boxHead: TwoMLPHead|null;
  boxPredictor: FastRCNNPredictor|null;
  /** Default [10, 10, 5, 5]. */
  bboxRegWeights?: [number, number, number, number];
  /** Detections need a softmax score > scoreThresh; default 0.05. */
  scoreThresh?: number;
  /** Default 0.5. */
  nmsThresh?: number;
  /** Default 100. */
  detectionsPerImg?: number;
}

/** torchvision's RoIHeads (boxes only), eval mode. */
export class RoIHeads {
  readonly boxRoiPool: MultiScaleRoIAlign|null;
  readonly boxHead: TwoMLPHead|null;
  readonly boxPredictor: FastRCNNPredictor|null;
  readonly boxCoder: BoxCoder;
  readonly scoreThresh: number;
  readonly nmsThresh: number;
  readonly detectionsPerImg: number;

  constructor(args: RoIHeadsArgs) {
    if (args == null || typeof args !== 'object') throw new Error('RoIHeads: args must be an object');
    this.boxRoiPool = args.boxRoiPool;
    this.boxHead = args.boxHead;
    this.boxPredictor = args.boxPredictor;
    this.boxCoder = new BoxCoder(args.bboxRegWeights ?? [10, 10, 5, 5]);
    this.scoreThresh = args.scoreThresh ?? 0.05;
    this.nmsThresh = args.nmsThresh ?? 0.5;
    this.detectionsPerImg = args.detectionsPerImg ?? 100;
  }

  /**
   * Detections of each image from the feature maps by name, the proposals
   * [K_i, 4] of each image and the images' (H, W). torchvision: `forward(features, proposals, image_shapes)`.
   */
  async forward(features: Record<string, Tensor4D>, proposals: Tensor2D[],
      imageShapes: Array<[number, number]>): Promise<Detections[]> {
    const {boxRoiPool, boxHead, boxPredictor} = this;
    if (boxRoiPool == null || boxHead == null || boxPredictor == null) {
      throw new Error('RoIHeads.forward: needs boxRoiPool, boxHead and boxPredictor');
    }
    const {scores, bboxDeltas} = tf.tidy(() => {
      const pooled = boxRoiPool.forward(features, proposals, imageShapes);
      return boxPredictor.forward(boxHead.forward(pooled));
    });
    try {
      return await this.postprocessDetections(scores, bboxDeltas, proposals, imageShapes);
    } finally {
      tf.dispose([scores, bboxDeltas]);
    }
  }

  /**
   * classLogits [K, C] and boxRegression [K, 4C] of the proposals of every
   * image (K = sum of K_i): softmax, per-class boxes decoded and clipped,
   * background dropped, score > scoreThresh, remove_small_boxes(1e-2),
   * batched NMS per class, the detectionsPerImg best.
   * torchvision: `postprocess_detections(class_logits, box_regression, proposals, image_shapes)`.
   */
  async postprocessDetections(classLogits: Tensor2D, boxRegression: Tensor2D, proposals: Tensor2D[],
      imageShapes: Array<[number, number]>): Promise<Detections[]> {
    const numClasses = classLogits.shape[1];
    const {boxesPerImage, scoresPerImage} = tf.tidy(() => {
      const predBoxes = this.boxCoder.decode(boxRegression, proposals);
      const predScores = tf.softmax(classLogits, -1);
      const sizes = proposals.map(p => p.shape[0]);
      return {boxesPerImage: tf.split(predBoxes, sizes, 0), scoresPerImage: tf.split(predScores, sizes, 0)};
    });
    const out: Detections[] = [];
    try {
      for (let i = 0; i < imageShapes.length; i++) {
        out.push(await this.filterImage(boxesPerImage[i], scoresPerImage[i], numClasses, imageShapes[i]));
      }
      return out;
    } catch (e) {
      out.forEach(d => tf.dispose([d.boxes, d.scores, d.labels]));
      throw e;
    } finally {
      tf.dispose([...boxesPerImage, ...scoresPerImage]);
    }
  }

  private async filterImage(predBoxes: Tensor, predScores: Tensor, numClasses: number,
      imageShape: [number, number]): Promise<Detections> {
    const k = predBoxes.shape[0];
    let {boxes, scores, labels} = tf.tidy(() => {
      const clipped = clipBoxesToImage(predBoxes, imageShape);
      const labelIds = new Int32Array(k * (numClasses - 1));
      for (let j = 0; j < labelIds.length; j++) labelIds[j] = (j % (numClasses - 1)) + 1;
      return {
        boxes: tf.reshape(sliceOrEmpty(clipped, [0, 1, 0], [-1, -1, -1]), [-1, 4]) as Tensor2D,
        scores: tf.reshape(sliceOrEmpty(predScores, [0, 1], [-1, -1]), [-1]) as Tensor1D,
        labels: tf.tensor1d(labelIds, 'int32'),
      };
    });
    const select = (keep: Tensor1D) => {
      const next = tf.tidy(() => [gatherRows(boxes, keep), gatherRows(scores, keep), gatherRows(labels, keep)]);
      tf.dispose([boxes, scores, labels, keep]);
      [boxes, scores, labels] = next as [Tensor2D, Tensor1D, Tensor1D];
    };
    try {
      select(await indicesWhere(scores, s => s > Math.fround(this.scoreThresh)));
      select(await removeSmallBoxesAsync(boxes, 1e-2));
      const keep = await batchedNmsAsync(boxes, scores, labels, this.nmsThresh);
      const top = tf.tidy(() => sliceOrEmpty(keep, [0], [Math.min(this.detectionsPerImg, keep.shape[0])]));
      keep.dispose();
      select(top);
      return {boxes, scores, labels};
    } catch (e) {
      tf.dispose([boxes, scores, labels]);
      throw e;
    }
  }
}
