/**
 * torchvision.ops.MultiScaleRoIAlign: RoI Align over a feature pyramid, each
 * box on the level the FPN paper's eqn. 1 assigns it to.
 *  - scale of a level = 2^round(log2(feature height / max image height))
 *    (float32 log2, round half to even, as torch);
 *  - k_min = -log2(first scale), k_max = -log2(last scale);
 *  - level = clamp(floor(canonicalLevel + log2(sqrt(area) / canonicalScale)
 *    + 1e-6), k_min, k_max), computed as sqrt(area) >= canonicalScale *
 *    2^(k - canonicalLevel - 1e-6) thresholds (no log on the device; a
 *    negative area, NaN in torchvision, maps to k_min);
 *  - roi_align with aligned = false.
 * Each level runs roiAlign over all boxes with the other levels' boxes given
 * batch index -1: the kernels skip those (zeros, no gradient) without any
 * data-dependent gather, so nothing is read back to the CPU.
 */
import * as tf from '@tensorflow/tfjs-core';
import {serialization, Tensor, Tensor1D, Tensor2D, Tensor4D} from '@tensorflow/tfjs-core';
import {layers, Shape} from '@tensorflow/tfjs-layers';
import {roiAlign} from '../ops/roi_align.ts';
import {checkOutputSize, checkSamplingRatio, DATA_FORMATS, DataFormat, toRois} from '../ops/roi_common.ts';
import {assertOneOf, assertRank, assertTensor, describe, fail} from '../ops/validate.ts';
import {LayerArgs, perImageRois} from './roi_layer.ts';
import {layerArgs} from './torch_layer.ts';

/** Arguments of the {@link MultiScaleRoIAlign} layer. */
export interface MultiScaleRoIAlignArgs extends LayerArgs {
  /** Names of the feature maps to use (others are ignored); the maps come highest resolution first. */
  featmapNames: string[];
  /** Output size (pooled height and width): one number or [height, width]. */
  outputSize: number|[number, number];
  /** Samples per bin and axis of roi_align; <= 0: adaptive. Required, as in torchvision. */
  samplingRatio: number;
  /** Default 224. */
  canonicalScale?: number;
  /** Default 4. */
  canonicalLevel?: number;
  /** (H, W) of the input images, for call() inside a model; forward() takes them per call. */
  imageShape?: [number, number];
  /** Default 'channelsLast': maps [N, H, W, C]; 'channelsFirst': [N, C, H, W]. */
  dataFormat?: DataFormat;
}

const EPS = 1e-6;
const NAME = 'MultiScaleRoIAlign';

/**
 * The most pyramid levels k_min..k_max the level mapper spans (one threshold
 * op each). Real pyramids span 4 to 6; scales are powers of 2 of float32
 * ratios, so any valid input is far below this.
 */
export const MAX_PYRAMID_LEVELS = 64;

/**
 * One (H, W) image size: two finite numbers > 0 (torchvision's infer_scale
 * divides the map size by it, so a 0 size is invalid). Returns it as a pair.
 */
function checkImageSize(arg: string, value: unknown): [number, number] {
  if (!Array.isArray(value) || value.length !== 2 ||
      !value.every(v => typeof v === 'number' && Number.isFinite(v) && v > 0)) {
    fail(NAME, arg, `must be an image size (H, W) of two finite numbers > 0 (the level scales divide the map ` +
        `size by it), got ${describe(value)}`);
  }
  return [value[0], value[1]];
}

/** imageShapes: a non-empty array of (H, W), `count` of them when given. */
function checkImageShapes(value: unknown, count?: number): Array<[number, number]> {
  if (!Array.isArray(value)) fail(NAME, 'imageShapes', `must be an array of (H, W), got ${describe(value)}`);
  if (value.length === 0) fail(NAME, 'imageShapes', 'must not be empty (one (H, W) per image; torchvision: ' +
      '"images list should not be empty")');
  if (count != null && value.length !== count) {
    fail(NAME, 'imageShapes', `gives ${value.length} image size(s), but there are ${count} image(s) of boxes`);
  }
  return value.map((s, i) => checkImageSize(`imageShapes[${i}]`, s));
}

/** round() of torch: half to even. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * [k_min, k_max] of pyramid scales (k = -log2(scale) truncated, as
 * torchvision's int(lvl)): every scale finite and > 0, and at most
 * {@link MAX_PYRAMID_LEVELS} levels between the first and the last.
 */
function levelRange(scales: unknown): [number, number] {
  if (!Array.isArray(scales) || scales.length === 0 ||
      !scales.every(v => typeof v === 'number' && Number.isFinite(v) && v > 0)) {
    fail(NAME, 'scales', `must be a non-empty array of finite numbers > 0, got ${describe(scales)}`);
  }
  const kMin = Math.trunc(-Math.log2(scales[0]));
  const kMax = Math.trunc(-Math.log2(scales[scales.length - 1]));
  if (Math.abs(kMax - kMin) > MAX_PYRAMID_LEVELS) {
    fail(NAME, 'scales', `span levels ${kMin}..${kMax}, more than ${MAX_PYRAMID_LEVELS} (scales ${describe(scales)})`);
  }
  return [kMin, kMax];
}

/**
 * RoI Align over a feature pyramid: each box is pooled from the level FPN's
 * eqn. 1 assigns it to (canonicalScale 224 at canonicalLevel 4 by default),
 * with the level scales inferred from the map and image sizes and aligned =
 * false. `forward(features, boxes, imageShapes)` is torchvision's: maps by
 * name, boxes [L, 4] per image -> [K, oh, ow, C] (channelsFirst: [K, C, oh,
 * ow]). In a model, apply([...maps in featmapNames order, boxes [N, K, 4]])
 * with `imageShape` (or call kwargs.imageShapes) -> [N, K, oh, ow, C] ([N, K,
 * C, oh, ow]). Maps are
 * [N, H, W, C] (channelsFirst: [N, C, H, W]); dataFormat defaults to
 * 'channelsLast'. No boxes at all gives [0, oh, ow, C] ([0, C, oh, ow]).
 * Errors name the layer and the argument: image sizes <= 0 or an empty
 * imageShapes (torchvision's infer_scale divides by them), maps of an empty
 * spatial size, of different batch sizes or channel counts, and boxes for
 * another number of images than the maps hold.
 * torchvision: `torchvision.ops.MultiScaleRoIAlign(featmap_names, output_size,
 * sampling_ratio, *, canonical_scale=224, canonical_level=4)`.
 *
 * ```js
 * const pooler = new MultiScaleRoIAlign({featmapNames: ['p2', 'p3'], outputSize: 7, samplingRatio: 2});
 * pooler.forward({p2, p3}, [boxes0, boxes1], [[512, 512], [512, 512]])  // [L0 + L1, 7, 7, C]
 * new MultiScaleRoIAlign(['p2', 'p3'], 7, 2)  // the same pooler, torchvision's MultiScaleRoIAlign(['p2', 'p3'], 7, 2)
 * ```
 */
export class MultiScaleRoIAlign extends layers.Layer {
  static className = 'MultiScaleRoIAlign';
  readonly featmapNames: string[];
  readonly outputSize: [number, number];
  readonly samplingRatio: number;
  readonly canonicalScale: number;
  readonly canonicalLevel: number;
  readonly imageShape?: [number, number];
  readonly dataFormat: DataFormat;

  /** One arguments object (also what deserialization passes). */
  constructor(args: MultiScaleRoIAlignArgs);
  /** torchvision's positional arguments (featmapNames, outputSize, samplingRatio), then optionally an object of the other options. */
  constructor(featmapNames: MultiScaleRoIAlignArgs['featmapNames'], outputSize: MultiScaleRoIAlignArgs['outputSize'], samplingRatio: MultiScaleRoIAlignArgs['samplingRatio'], options?: Omit<MultiScaleRoIAlignArgs, 'featmapNames'|'outputSize'|'samplingRatio'>);
  constructor(...values: unknown[]) {
    const args = layerArgs<MultiScaleRoIAlignArgs>(MultiScaleRoIAlign.className, values, ['featmapNames', 'outputSize', 'samplingRatio']);
    super(args);
    const op = MultiScaleRoIAlign.className;
    if (!Array.isArray(args.featmapNames) || args.featmapNames.length === 0 ||
        !args.featmapNames.every(n => typeof n === 'string')) {
      fail(op, 'featmapNames', `must be a non-empty array of strings, got ${JSON.stringify(args.featmapNames)}`);
    }
    this.featmapNames = [...args.featmapNames];
    this.outputSize = checkOutputSize(op, args.outputSize);
    this.samplingRatio = checkSamplingRatio(op, args.samplingRatio);
    this.canonicalScale = args.canonicalScale ?? 224;
    this.canonicalLevel = args.canonicalLevel ?? 4;
    if (!(this.canonicalScale > 0 && Number.isFinite(this.canonicalScale))) {
      fail(op, 'canonicalScale', `must be a finite number > 0, got ${this.canonicalScale}`);
    }
    if (!Number.isInteger(this.canonicalLevel)) fail(op, 'canonicalLevel', `must be an integer, got ${this.canonicalLevel}`);
    this.imageShape = args.imageShape == null ? undefined : checkImageSize('imageShape', args.imageShape);
    this.dataFormat = args.dataFormat ?? 'channelsLast';
    assertOneOf(op, 'dataFormat', this.dataFormat, DATA_FORMATS);
  }

  /**
   * Checks the pyramid maps: each a rank-4 tensor with H, W >= 1, all of one
   * batch size and one channel count. Returns [N, C].
   */
  private checkFeatures(features: unknown[], arg: string): [number, number] {
    const [hAxis, wAxis, cAxis] = this.dataFormat === 'channelsFirst' ? [2, 3, 1] : [1, 2, 3];
    features.forEach((f, i) => {
      assertTensor(NAME, `${arg}[${i}]`, f);
      assertRank(NAME, `${arg}[${i}]`, f, [4]);
      if (f.shape[hAxis] < 1 || f.shape[wAxis] < 1) {
        fail(NAME, `${arg}[${i}]`, `has an empty spatial size ${f.shape[hAxis]}x${f.shape[wAxis]} (shape ` +
            `[${f.shape}], ${this.dataFormat}): its scale would be 0 (torchvision's infer_scale fails too)`);
      }
    });
    const maps = features as Tensor[];
    const [n, c] = [maps[0].shape[0], maps[0].shape[cAxis]];
    maps.forEach((f, i) => {
      if (f.shape[0] !== n) {
        fail(NAME, `${arg}[${i}]`, `holds ${f.shape[0]} image(s), but ${arg}[0] holds ${n}: every level ` +
            'must have the same batch size');
      }
      if (f.shape[cAxis] !== c) {
        fail(NAME, `${arg}[${i}]`, `has ${f.shape[cAxis]} channels, but ${arg}[0] has ${c}: every level ` +
            `must have the same channel count (shapes [${f.shape}] and [${maps[0].shape}], ${this.dataFormat})`);
      }
    });
    return [n, c];
  }

  /**
   * The scale of each feature map (a power of 2) for images of these (H, W):
   * 2^round(log2(map height / max image height)). The maps must have H >= 1
   * and imageShapes must be a non-empty array of sizes > 0 (an Error otherwise).
   */
  inferScales(features: Tensor4D[], imageShapes: Array<[number, number]>): number[] {
    if (!Array.isArray(features) || features.length === 0) {
      fail(NAME, 'features', `must be a non-empty array of feature maps, got ${describe(features)}`);
    }
    this.checkFeatures(features, 'features');
    const maxHeight = Math.max(...checkImageShapes(imageShapes).map(s => s[0]));
    const hAxis = this.dataFormat === 'channelsFirst' ? 2 : 1;
    const scales = features.map(f => 2 ** roundHalfEven(Math.fround(Math.log2(Math.fround(f.shape[hAxis] / maxHeight)))));
    if (!scales.every(v => Number.isFinite(v) && v > 0)) {
      fail(NAME, 'imageShapes', `give a max image height ${maxHeight} that makes a level scale 0 or infinite in ` +
          `float32 (map heights ${features.map(f => f.shape[hAxis]).join(', ')})`);
    }
    levelRange(scales);
    return scales;
  }

  /**
   * Level index (level - k_min) of each box [K, 4], int32 [K], for pyramid
   * scales `scales` (finite, > 0; k_max - k_min at most {@link MAX_PYRAMID_LEVELS}).
   */
  mapLevels(boxes: Tensor2D, scales: number[]): Tensor1D {
    const [kMin, kMax] = levelRange(scales);
    return tf.tidy(() => {
      const [x1, y1, x2, y2] = tf.split(tf.cast(boxes, 'float32'), 4, 1);
      const s = tf.reshape(tf.sqrt(tf.mul(tf.sub(x2, x1), tf.sub(y2, y1))), [-1]);
      let index: Tensor = tf.zeros(s.shape, 'int32');
      for (let k = kMin + 1; k <= kMax; k++) {
        const threshold = this.canonicalScale * 2 ** (k - this.canonicalLevel - EPS);
        index = tf.add(index, tf.cast(tf.greaterEqual(s, threshold), 'int32'));
      }
      return index as Tensor1D;
    });
  }

  /** RoI Align of [K, 5] RoIs over the pyramid `features` (in level order, checked). */
  private pool(features: Tensor4D[], rois: Tensor2D, imageShapes: Array<[number, number]>): Tensor4D {
    const scales = this.inferScales(features, imageShapes);
    const args = {outputSize: this.outputSize, samplingRatio: this.samplingRatio, aligned: false,
      dataFormat: this.dataFormat};
    if (features.length === 1) return roiAlign(features[0], rois, {...args, spatialScale: scales[0]});
    if (rois.shape[0] === 0) {
      // No boxes: [0, ...pooled] from every level (each stays connected for
      // gradients; tfjs-backend-cpu 4.22 cannot slice this empty concat).
      const none = tf.zeros([0, 5]) as Tensor2D;
      return tf.addN(features.map((f, level) => roiAlign(f, none, {...args, spatialScale: scales[level]})));
    }
    const levels = this.mapLevels(tf.slice(rois, [0, 1], [-1, 4]), scales);
    const [index, coords] = tf.split(rois, [1, 4], 1);
    const perLevel = features.map((f, level) => {
      const own = tf.reshape(tf.equal(levels, level), [-1, 1]);
      const levelRois = tf.concat([tf.where(own, index, tf.fill(index.shape, -1)), coords], 1) as Tensor2D;
      return roiAlign(f, levelRois, {...args, spatialScale: scales[level]});
    });
    return tf.addN(perLevel);
  }

  /**
   * torchvision's forward(x, boxes, image_shapes): `features` by name (those
   * in featmapNames, in the object's key order, as torchvision filters its
   * dict), boxes [L, 4] per image, (H, W) per image. Returns [K, oh, ow, C]
   * ([K, C, oh, ow] when channelsFirst); [0, oh, ow, C] when no image has a
   * box. Errors (naming the layer and the argument): boxes for another number
   * of images than the maps hold, imageShapes empty, of another length or
   * with a size <= 0, maps of different batch sizes or channel counts, or of
   * an empty spatial size.
   */
  forward(features: Record<string, Tensor4D>, boxes: Tensor2D[], imageShapes: Array<[number, number]>): Tensor4D {
    if (features == null || typeof features !== 'object') {
      fail(NAME, 'features', `must be an object of feature maps by name, got ${describe(features)}`);
    }
    const used = Object.keys(features).filter(k => this.featmapNames.includes(k)).map(k => features[k]);
    if (used.length === 0) fail(NAME, 'features', `has none of ${JSON.stringify(this.featmapNames)}`);
    const [n] = this.checkFeatures(used, 'features');
    if (!Array.isArray(boxes)) fail(NAME, 'boxes', `must be an array of [L, 4] tensors, one per image, got ${describe(boxes)}`);
    if (boxes.length !== n) {
      fail(NAME, 'boxes', `holds boxes for ${boxes.length} image(s), but the feature maps hold ${n}: give one ` +
          '[L, 4] tensor per image');
    }
    boxes.forEach((b, i) => {
      assertTensor(NAME, `boxes[${i}]`, b);
      if (b.rank !== 2 || b.shape[1] !== 4) fail(NAME, `boxes[${i}]`, `must be [L, 4], got [${b.shape}]`);
    });
    checkImageShapes(imageShapes, boxes.length);
    return tf.tidy(() => this.pool(used, toRois(boxes), imageShapes));
  }

  /**
   * In a model: inputs [...feature maps in featmapNames order, boxes [N, K, 4]];
   * image shapes from kwargs.imageShapes or the imageShape argument. Returns
   * [N, K, oh, ow, C] ([N, K, C, oh, ow] when channelsFirst). The errors of
   * {@link MultiScaleRoIAlign.forward}: boxes' N must be the maps' batch size.
   */
  call(inputs: Tensor|Tensor[], kwargs: {imageShapes?: Array<[number, number]>} = {}): Tensor {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length !== this.featmapNames.length + 1) {
      fail(NAME, 'inputs', `must be ${this.featmapNames.length} feature maps and boxes, got ${list.length} tensors`);
    }
    const boxes = list[list.length - 1];
    assertTensor(NAME, 'boxes', boxes);
    if (boxes.rank !== 3 || boxes.shape[2] !== 4) fail(NAME, 'boxes', `must be [N, K, 4], got [${boxes.shape}]`);
    const maps = list.slice(0, -1) as Tensor4D[];
    const [batch] = this.checkFeatures(maps, 'inputs');
    const [n, k] = boxes.shape as number[];
    if (n !== batch) {
      fail(NAME, 'boxes', `[N, K, 4] holds boxes for ${n} image(s), but the feature maps hold ${batch} ` +
          `(boxes [${boxes.shape}], maps [${maps[0].shape}])`);
    }
    const imageShapes = kwargs.imageShapes ??
        (this.imageShape != null ? new Array(n).fill(this.imageShape) : undefined);
    if (imageShapes == null) fail(NAME, 'imageShape', 'is needed (layer argument or call kwargs.imageShapes)');
    checkImageShapes(imageShapes, n);
    return tf.tidy(() => {
      const out = this.pool(maps, perImageRois(boxes), imageShapes);
      return tf.reshape(out, [n, k, ...out.shape.slice(1)]);
    });
  }

  computeOutputShape(inputShape: Shape|Shape[]): Shape {
    const shapes = inputShape as Shape[];
    const boxes = shapes[shapes.length - 1];
    const c = shapes[0][this.dataFormat === 'channelsFirst' ? 1 : 3];
    const [oh, ow] = this.outputSize;
    return [boxes[0], boxes[1], ...(this.dataFormat === 'channelsFirst' ? [c, oh, ow] : [oh, ow, c])];
  }

  /** The layer's arguments, for serialization (model.save / tf.loadLayersModel). */
  getConfig(): serialization.ConfigDict {
    return {
      ...super.getConfig(),
      featmapNames: this.featmapNames,
      outputSize: this.outputSize,
      samplingRatio: this.samplingRatio,
      canonicalScale: this.canonicalScale,
      canonicalLevel: this.canonicalLevel,
      ...(this.imageShape != null ? {imageShape: this.imageShape} : {}),
      dataFormat: this.dataFormat,
    };
  }
}
serialization.registerClass(MultiScaleRoIAlign);
