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
import {assertOneOf, assertTensor, fail} from '../ops/validate.ts';
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

/** round() of torch: half to even. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
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
 * 'channelsLast'.
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
    if (!(this.canonicalScale > 0)) fail(op, 'canonicalScale', `must be > 0, got ${this.canonicalScale}`);
    if (!Number.isInteger(this.canonicalLevel)) fail(op, 'canonicalLevel', `must be an integer, got ${this.canonicalLevel}`);
    this.imageShape = args.imageShape;
    this.dataFormat = args.dataFormat ?? 'channelsLast';
    assertOneOf(op, 'dataFormat', this.dataFormat, DATA_FORMATS);
  }

  /** The scale of each feature map (a power of 2) for images of these (H, W). */
  inferScales(features: Tensor4D[], imageShapes: Array<[number, number]>): number[] {
    const maxHeight = Math.max(...imageShapes.map(s => s[0]));
    const hAxis = this.dataFormat === 'channelsFirst' ? 2 : 1;
    return features.map(f => 2 ** roundHalfEven(Math.fround(Math.log2(Math.fround(f.shape[hAxis] / maxHeight)))));
  }

  /** Level index (level - k_min) of each box [K, 4], int32 [K], for pyramid scales `scales`. */
  mapLevels(boxes: Tensor2D, scales: number[]): Tensor1D {
    const kMin = Math.trunc(-Math.log2(scales[0]));
    const kMax = Math.trunc(-Math.log2(scales[scales.length - 1]));
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

  /** RoI Align of [K, 5] RoIs over the pyramid `features` (in level order). */
  private pool(features: Tensor4D[], rois: Tensor2D, imageShapes: Array<[number, number]>): Tensor4D {
    const scales = this.inferScales(features, imageShapes);
    const args = {outputSize: this.outputSize, samplingRatio: this.samplingRatio, aligned: false,
      dataFormat: this.dataFormat};
    if (features.length === 1) return roiAlign(features[0], rois, {...args, spatialScale: scales[0]});
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
   * ([K, C, oh, ow] when channelsFirst).
   */
  forward(features: Record<string, Tensor4D>, boxes: Tensor2D[], imageShapes: Array<[number, number]>): Tensor4D {
    const op = MultiScaleRoIAlign.className;
    const used = Object.keys(features).filter(k => this.featmapNames.includes(k)).map(k => features[k]);
    if (used.length === 0) fail(op, 'features', `has none of ${JSON.stringify(this.featmapNames)}`);
    used.forEach((f, i) => assertTensor(op, `features[${i}]`, f));
    if (!Array.isArray(boxes) || !Array.isArray(imageShapes) || boxes.length !== imageShapes.length) {
      fail(op, 'imageShapes', 'must give one (H, W) per image of boxes');
    }
    return tf.tidy(() => this.pool(used, toRois(boxes), imageShapes));
  }

  /**
   * In a model: inputs [...feature maps in featmapNames order, boxes [N, K, 4]];
   * image shapes from kwargs.imageShapes or the imageShape argument. Returns
   * [N, K, oh, ow, C] ([N, K, C, oh, ow] when channelsFirst).
   */
  call(inputs: Tensor|Tensor[], kwargs: {imageShapes?: Array<[number, number]>} = {}): Tensor {
    const op = MultiScaleRoIAlign.className;
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length !== this.featmapNames.length + 1) {
      fail(op, 'inputs', `must be ${this.featmapNames.length} feature maps and boxes, got ${list.length} tensors`);
    }
    const boxes = list[list.length - 1];
    if (boxes.rank !== 3 || boxes.shape[2] !== 4) fail(op, 'boxes', `must be [N, K, 4], got [${boxes.shape}]`);
    const [n, k] = boxes.shape as number[];
    const imageShapes = kwargs.imageShapes ??
        (this.imageShape != null ? new Array(n).fill(this.imageShape) : undefined);
    if (imageShapes == null) fail(op, 'imageShape', 'is needed (layer argument or call kwargs.imageShapes)');
    return tf.tidy(() => {
      const out = this.pool(list.slice(0, -1) as Tensor4D[], perImageRois(boxes), imageShapes);
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
