/**
 * torchvision.models.detection.rpn: RPNHead and RegionProposalNetwork
 * inference (eval mode). Decoding, sigmoid and clipping stay on the device;
 * the data-dependent steps (remove_small_boxes, the score threshold,
 * batched NMS per level) read back only keep masks, scores and indices,
 * asynchronously, so every backend (webgpu included) runs it.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D} from '@tensorflow/tfjs-core';
import {clipBoxesToImage, removeSmallBoxesAsync} from '../ops/box_ops.ts';
import {batchedNmsAsync} from '../ops/nms.ts';
import {DataFormat} from '../ops/roi_common.ts';
import {gatherRows, sliceOrEmpty} from './gather_rows.ts';
import {AnchorGenerator} from './anchor_utils.ts';
import {BoxCoder} from './box_coder.ts';
import {ImageList} from './image_list.ts';
import {StateDict, takeWeight, withDot} from './state_dict.ts';
import {asVariable, toTorchLayout} from './trainable.ts';

/** Boxes [K, 4] and their scores [K] of one image, in decreasing score order. */
export interface ScoredBoxes { boxes: Tensor2D; scores: Tensor1D; }

interface Conv { kernel: Tensor; bias: Tensor; }

/**
 * RPNHead: convDepth x (conv 3x3 + ReLU), then 1x1 convs to objectness
 * logits [N, H, W, A] and deltas [N, H, W, 4A] (channelsFirst: [N, A, H, W],
 * [N, 4A, H, W]). Weights from loadStateDict under torchvision's keys.
 */
export class RPNHead {
  readonly inChannels: number;
  readonly numAnchors: number;
  readonly convDepth: number;
  readonly dataFormat: DataFormat;
  private convs: Conv[] = [];
  private clsLogits: Conv|null = null;
  private bboxPred: Conv|null = null;

  constructor(inChannels: number, numAnchors: number, convDepth = 1, dataFormat: DataFormat = 'channelsLast') {
    for (const [k, v] of Object.entries({inChannels, numAnchors, convDepth})) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`RPNHead: ${k} must be a positive integer, got ${v}`);
    }
    this.inChannels = inChannels;
    this.numAnchors = numAnchors;
    this.convDepth = convDepth;
    this.dataFormat = dataFormat;
  }

  /**
   * Takes `conv.{i}.0.weight/bias`, `cls_logits.*`, `bbox_pred.*` under
   * prefix (default 'rpn.head.'); returns the keys used.
   */
  loadStateDict(stateDict: StateDict, prefix = 'rpn.head.'): string[] {
    const p = withDot(prefix);
    const c = this.inChannels;
    const conv = (key: string, out: number, k: number): Conv => {
      const kernel = takeWeight('RPNHead', stateDict, `${p}${key}.weight`, [out, c, k, k], 'conv');
      const bias = takeWeight('RPNHead', stateDict, `${p}${key}.bias`, [out], 'same');
      return {kernel, bias};
    };
    const loaded: Conv[] = [];
    try {
      for (let i = 0; i < this.convDepth; i++) loaded.push(conv(`conv.${i}.0`, c, 3));
      loaded.push(conv('cls_logits', this.numAnchors, 1), conv('bbox_pred', 4 * this.numAnchors, 1));
    } catch (e) {
      loaded.forEach(w => tf.dispose([w.kernel, w.bias]));
      throw e;
    }
    this.dispose();
    const trainable = loaded.map(w => ({kernel: asVariable(w.kernel), bias: asVariable(w.bias)}));
    this.convs = trainable.slice(0, this.convDepth);
    [this.clsLogits, this.bboxPred] = trainable.slice(this.convDepth);
    return this.keys().flatMap(k => [`${p}${k}.weight`, `${p}${k}.bias`]);
  }

  private keys(): string[] {
    return [...Array.from({length: this.convDepth}, (_, i) => `conv.${i}.0`), 'cls_logits', 'bbox_pred'];
  }

  private all(): Conv[] {
    if (this.clsLogits == null || this.bboxPred == null) throw new Error('RPNHead: call loadStateDict first');
    return [...this.convs, this.clsLogits, this.bboxPred];
  }

  /** The trainable variables under prefix (default 'rpn.head.') by state_dict key (kernels HWIO). */
  namedVariables(prefix = 'rpn.head.'): Record<string, tf.Variable> {
    const p = withDot(prefix);
    const keys = this.keys();
    return Object.fromEntries(this.all().flatMap((w, i) => [[`${p}${keys[i]}.weight`, w.kernel as tf.Variable],
      [`${p}${keys[i]}.bias`, w.bias as tf.Variable]]));
  }

  /** The weights as a torchvision state_dict under prefix (default 'rpn.head.'; tensors the caller owns). */
  stateDict(prefix = 'rpn.head.'): Record<string, Tensor> {
    const p = withDot(prefix);
    const keys = this.keys();
    return Object.fromEntries(this.all().flatMap((w, i) => [[`${p}${keys[i]}.weight`, toTorchLayout(w.kernel, 'conv')],
      [`${p}${keys[i]}.bias`, tf.clone(w.bias)]]));
  }

  /** Objectness logits and box deltas of each feature map. torchvision: `forward(x)`. */
  forward(features: Tensor4D[]): {logits: Tensor4D[], bboxReg: Tensor4D[]} {
    if (this.clsLogits == null || this.bboxPred == null) throw new Error('RPNHead: call loadStateDict first');
    const first = this.dataFormat === 'channelsFirst';
    const apply = (x: Tensor4D, w: Conv, pad: number) =>
      tf.add(tf.conv2d(pad === 0 ? x : tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]), w.kernel as tf.Tensor4D, 1,
          'valid'), w.bias) as Tensor4D;
    const toFormat = (x: Tensor4D) => (first ? tf.transpose(x, [0, 3, 1, 2]) : x);
    const logits: Tensor4D[] = [];
    const bboxReg: Tensor4D[] = [];
    for (const feature of features) {
      const [l, b] = tf.tidy(() => {
        let t = first ? tf.transpose(feature, [0, 2, 3, 1]) as Tensor4D : feature;
        for (const conv of this.convs) t = tf.relu(apply(t, conv, 1));
        return [toFormat(apply(t, this.clsLogits!, 0)), toFormat(apply(t, this.bboxPred!, 0))];
      });
      logits.push(l);
      bboxReg.push(b);
    }
    return {logits, bboxReg};
  }

  /** Disposes the weight tensors. */
  dispose() {
    tf.dispose([...this.convs, this.clsLogits, this.bboxPred].flatMap(w => (w == null ? [] : [w.kernel, w.bias])));
    this.convs = [];
    this.clsLogits = this.bboxPred = null;
  }
}

/**
 * Flattens per-level predictions [N, H, W, A * C] (channelsFirst [N, A * C,
 * H, W]) in torchvision's order (image, level, y, x, anchor): box_cls
 * [N * total, C] and box_regression [N * total, 4].
 * torchvision: `concat_box_prediction_layers(box_cls, box_regression)`.
 */
export function concatBoxPredictionLayers(boxCls: Tensor4D[], boxRegression: Tensor4D[],
    dataFormat: DataFormat = 'channelsLast'): {boxCls: Tensor2D, boxRegression: Tensor2D} {
  return tf.tidy(() => {
    const flatten = (t: Tensor4D, c: number) => {
      const last = dataFormat === 'channelsFirst' ? tf.transpose(t, [0, 2, 3, 1]) : t;
      return tf.reshape(last, [t.shape[0], -1, c]);
    };
    const cls: Tensor[] = [];
    const reg: Tensor[] = [];
    boxCls.forEach((c, i) => {
      const channelAxis = dataFormat === 'channelsFirst' ? 1 : 3;
      const a = boxRegression[i].shape[channelAxis] / 4;
      cls.push(flatten(c, c.shape[channelAxis] / a));
      reg.push(flatten(boxRegression[i], 4));
    });
    const clsAll = tf.concat(cls, 1);
    return {
      boxCls: tf.reshape(clsAll, [-1, clsAll.shape[2] as number]) as Tensor2D,
      boxRegression: tf.reshape(tf.concat(reg, 1), [-1, 4]) as Tensor2D,
    };
  });
}

/** Proposals kept per level before NMS (pre) and per image after it (post). */
export interface ProposalTopN { pre: number; post: number; }

export interface RegionProposalNetworkArgs {
  anchorGenerator: AnchorGenerator;
  head: RPNHead;
  /** Proposals kept per level before NMS (torchvision's pre_nms_top_n['testing']); default 1000. */
  preNmsTopN?: number;
  /** Proposals kept per image after NMS; default 1000. */
  postNmsTopN?: number;
  /** Default 0.7. */
  nmsThresh?: number;
  /** Proposals need sigmoid(objectness) >= scoreThresh; default 0. */
  scoreThresh?: number;
}

/** torchvision's RegionProposalNetwork, eval mode. */
export class RegionProposalNetwork {
  readonly anchorGenerator: AnchorGenerator;
  readonly head: RPNHead;
  readonly boxCoder = new BoxCoder([1, 1, 1, 1]);
  readonly preNmsTopN: number;
  readonly postNmsTopN: number;
  readonly nmsThresh: number;
  readonly scoreThresh: number;
  readonly minSize = 1e-3;

  constructor(args: RegionProposalNetworkArgs) {
    if (!(args?.anchorGenerator instanceof AnchorGenerator) || !(args.head instanceof RPNHead)) {
      throw new Error('RegionProposalNetwork: args.anchorGenerator must be an AnchorGenerator and args.head an RPNHead');
    }
    this.anchorGenerator = args.anchorGenerator;
    this.head = args.head;
    this.preNmsTopN = args.preNmsTopN ?? 1000;
    this.postNmsTopN = args.postNmsTopN ?? 1000;
    this.nmsThresh = args.nmsThresh ?? 0.7;
    this.scoreThresh = args.scoreThresh ?? 0;
  }

  /**
   * Proposals of each image from the head's outputs: anchors, decoding,
   * filterProposals. `features` are the maps the head ran on (for their sizes).
   */
  async fromHeadOutputs(images: ImageList, features: Tensor4D[], logits: Tensor4D[], bboxReg: Tensor4D[],
      topN?: ProposalTopN): Promise<ScoredBoxes[]> {
    const n = images.imageSizes.length;
    const perLevel = logits.map(o => o.size / o.shape[0]);
    const anchors = this.anchorGenerator.forward(images, features);
    const {proposals, objectness} = tf.tidy(() => {
      const {boxCls, boxRegression} = concatBoxPredictionLayers(logits, bboxReg, this.head.dataFormat);
      const decoded = this.boxCoder.decode(boxRegression, anchors);
      return {proposals: tf.reshape(decoded, [n, -1, 4]) as Tensor3D, objectness: tf.reshape(boxCls, [n, -1]) as Tensor2D};
    });
    tf.dispose(anchors);
    try {
      return await this.filterProposals(proposals, objectness, images.imageSizes, perLevel, topN);
    } finally {
      tf.dispose([proposals, objectness]);
    }
  }

  /**
   * Proposals (boxes and sigmoid scores) of each image.
   * torchvision: `forward(images, features)` (which returns the boxes only).
   */
  async forward(images: ImageList, features: Tensor4D[]|Record<string, Tensor4D>): Promise<ScoredBoxes[]> {
    const maps = Array.isArray(features) ? features : Object.values(features);
    const {logits, bboxReg} = this.head.forward(maps);
    try {
      return await this.fromHeadOutputs(images, maps, logits, bboxReg);
    } finally {
      tf.dispose([...logits, ...bboxReg]);
    }
  }

  /**
   * proposals [N, total, 4], objectness logits [N, total] (levels in order,
   * numAnchorsPerLevel each): per level the preNmsTopN best, sigmoid, clip,
   * remove_small_boxes(1e-3), score >= scoreThresh, batched NMS per level,
   * the postNmsTopN best (topN: other counts, e.g. training's).
   * torchvision: `filter_proposals(...)`.
   */
  async filterProposals(proposals: Tensor3D, objectness: Tensor2D, imageShapes: Array<[number, number]>,
      numAnchorsPerLevel: number[], topN: ProposalTopN = {pre: this.preNmsTopN, post: this.postNmsTopN}):
      Promise<ScoredBoxes[]> {
    const out: ScoredBoxes[] = [];
    try {
      for (let i = 0; i < imageShapes.length; i++) {
        out.push(await this.filterImage(proposals, objectness, i, imageShapes[i], numAnchorsPerLevel, topN));
      }
      return out;
    } catch (e) {
      out.forEach(r => tf.dispose([r.boxes, r.scores]));
      throw e;
    }
  }

  private async filterImage(proposals: Tensor3D, objectness: Tensor2D, i: number, imageShape: [number, number],
      numAnchorsPerLevel: number[], topN: ProposalTopN): Promise<ScoredBoxes> {
    let {boxes, scores, levels} = tf.tidy(() => {
      const ob = tf.squeeze(tf.slice(objectness, [i, 0], [1, -1]), [0]) as Tensor1D;
      const indices: Tensor[] = [];
      const levelIds: number[] = [];
      let offset = 0;
      numAnchorsPerLevel.forEach((count, level) => {
        const k = Math.min(topN.pre, count);
        indices.push(tf.add(tf.topk(tf.slice(ob, offset, count), k).indices, tf.scalar(offset, 'int32')));
        for (let j = 0; j < k; j++) levelIds.push(level);
        offset += count;
      });
      const top = tf.concat(indices);
      const props = tf.squeeze(tf.slice(proposals, [i, 0, 0], [1, -1, -1]), [0]);
      return {
        boxes: clipBoxesToImage(tf.gather(props, top), imageShape) as Tensor2D,
        scores: tf.sigmoid(tf.gather(ob, top)) as Tensor1D,
        levels: tf.tensor1d(levelIds, 'int32'),
      };
    });
    const select = (keep: Tensor1D) => {
      const next = tf.tidy(() => [gatherRows(boxes, keep), gatherRows(scores, keep), gatherRows(levels, keep)]);
      tf.dispose([boxes, scores, levels, keep]);
      [boxes, scores, levels] = next as [Tensor2D, Tensor1D, Tensor1D];
    };
    try {
      select(await removeSmallBoxesAsync(boxes, this.minSize));
      select(await indicesWhere(scores, s => s >= Math.fround(this.scoreThresh)));
      const keep = await batchedNmsAsync(boxes, scores, levels, this.nmsThresh);
      select(tf.tidy(() => sliceOrEmpty(keep, [0], [Math.min(topN.post, keep.shape[0])])));
      keep.dispose();
      levels.dispose();
      return {boxes, scores};
    } catch (e) {
      tf.dispose([boxes, scores, levels]);
      throw e;
    }
  }
}

/** int32 indices of the values (read back) that pass `test`. */
export async function indicesWhere(values: Tensor1D, test: (v: number) => boolean): Promise<Tensor1D> {
  const data = await values.data();
  const idx: number[] = [];
  for (let i = 0; i < data.length; i++) if (test(data[i])) idx.push(i);
  return tf.tensor1d(idx, 'int32');
}
