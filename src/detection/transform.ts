/**
 * torchvision.models.detection.transform.GeneralizedRCNNTransform, eval mode:
 * normalize, resize (bilinear, align_corners=False, torch's output size and
 * source indices), batch with zero padding to a multiple of sizeDivisible,
 * and boxes back to the original sizes. Images are HWC float32 in [0, 1].
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor, Tensor2D, Tensor3D, Tensor4D} from '@tensorflow/tfjs-core';
import {DataFormat} from '../ops/roi_common.ts';
import {ImageList} from './image_list.ts';

const f32 = Math.fround;

/**
 * The most values (N * H * W * C) a batch of transformed images may have:
 * 2^28 (1 GiB of float32). Past it forward is an Error before anything is
 * allocated: the backbone's first maps are several times larger than its
 * input, so no backend could run such a batch (only a huge maxSize, minSize
 * or fixedSize gets there: the resize caps the longer side at maxSize).
 */
const MAX_BATCH_VALUES = 2 ** 28;

const isPositiveInt = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

export interface GeneralizedRCNNTransformArgs {
  /** Eval uses the last entry, as torchvision. */
  minSize: number|number[];
  maxSize: number;
  imageMean: [number, number, number]|number[];
  imageStd: [number, number, number]|number[];
  /** Default 32. */
  sizeDivisible?: number;
  /** [width, height] every image is resized to (torchvision's fixed_size); default none. */
  fixedSize?: [number, number];
  /** Layout of the batched images; default 'channelsLast' (NHWC), the layers' default. */
  dataFormat?: DataFormat;
}

/** A target or a detection: boxes [K, 4] xyxy in pixels. */
export interface BoxesOf { boxes: Tensor2D; }

/**
 * (H, W) after torchvision's resize: scale = min(minSize / min(h, w),
 * maxSize / max(h, w)) in float32, size = floor(side * scale) in double
 * (interpolate with recompute_scale_factor=True).
 */
export function resizedImageSize(h: number, w: number, minSize: number, maxSize: number): [number, number] {
  const scale = Math.min(f32(f32(minSize) / Math.min(h, w)), f32(f32(maxSize) / Math.max(h, w)));
  return [Math.floor(h * scale), Math.floor(w * scale)];
}

/** Source indices and weights of one axis (torch's upsample_bilinear2d, align_corners=False). */
function axisWeights(inSize: number, outSize: number) {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const l0 = new Float32Array(outSize);
  const l1 = new Float32Array(outSize);
  const scale = f32(inSize / outSize);
  for (let o = 0; o < outSize; o++) {
    if (inSize === outSize) {
      i0[o] = i1[o] = o;
      l0[o] = 1;
      continue;
    }
    const src = Math.max(0, f32(f32(scale * f32(o + 0.5)) - 0.5));
    i0[o] = Math.floor(src);
    i1[o] = i0[o] + (i0[o] < inSize - 1 ? 1 : 0);
    l1[o] = f32(src - i0[o]);
    l0[o] = f32(1 - l1[o]);
  }
  return {i0, i1, l0, l1};
}

/** Interpolates along `axis` with torch's linear weights (one gather per neighbour). */
function interpolateAxis(x: Tensor, axis: number, outSize: number): Tensor {
  const {i0, i1, l0, l1} = axisWeights(x.shape[axis], outSize);
  const shape = x.shape.map((_, a) => (a === axis ? outSize : 1));
  return tf.add(tf.mul(tf.gather(x, i0, axis), tf.tensor(l0, shape)),
      tf.mul(tf.gather(x, i1, axis), tf.tensor(l1, shape)));
}

/**
 * Bilinear resize of an HWC image to [outH, outW] exactly as torch's
 * interpolate(mode='bilinear', align_corners=False) without a scale factor:
 * width first, then height (torch's weighting order).
 */
export function resizeBilinear(image: Tensor3D, size: [number, number]): Tensor3D {
  return tf.tidy(() => interpolateAxis(interpolateAxis(image, 1, size[1]), 0, size[0]) as Tensor3D);
}

/** Boxes [K, 4] scaled from an image of originalSize (H, W) to newSize, float32 ratios as torchvision. */
export function resizeBoxes(boxes: Tensor2D, originalSize: [number, number], newSize: [number, number]): Tensor2D {
  const ratioH = f32(f32(newSize[0]) / f32(originalSize[0]));
  const ratioW = f32(f32(newSize[1]) / f32(originalSize[1]));
  return tf.tidy(() => tf.mul(boxes, tf.tensor1d([ratioW, ratioH, ratioW, ratioH])) as Tensor2D);
}

/**
 * torchvision's GeneralizedRCNNTransform (eval): normalises and resizes the
 * images, batches them padded to sizeDivisible, and maps detections back to
 * the original sizes (postprocess).
 */
export class GeneralizedRCNNTransform {
  readonly minSize: number[];
  readonly maxSize: number;
  readonly imageMean: number[];
  readonly imageStd: number[];
  readonly sizeDivisible: number;
  readonly fixedSize: [number, number]|null;
  readonly dataFormat: DataFormat;

  constructor(args: GeneralizedRCNNTransformArgs) {
    const name = 'GeneralizedRCNNTransform';
    if (args == null || typeof args !== 'object') throw new Error(`${name}: args must be an object`);
    this.minSize = Array.isArray(args.minSize) ? [...args.minSize] : [args.minSize];
    this.maxSize = args.maxSize;
    const positive = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;
    if (this.minSize.length === 0 || !this.minSize.every(positive) || !positive(this.maxSize)) {
      throw new Error(`${name}: minSize and maxSize must be positive numbers, got ${JSON.stringify(args.minSize)} ` +
          `and ${JSON.stringify(args.maxSize)}`);
    }
    for (const key of ['imageMean', 'imageStd'] as const) {
      const v = args[key];
      if (!Array.isArray(v) || v.length === 0 || !v.every(Number.isFinite)) {
        throw new Error(`${name}: ${key} must be an array of one number per channel, got ${JSON.stringify(v)}`);
      }
    }
    this.imageMean = [...args.imageMean];
    this.imageStd = [...args.imageStd];
    if (this.imageMean.length !== this.imageStd.length) {
      throw new Error(`${name}: imageMean has ${this.imageMean.length} numbers and imageStd ${this.imageStd.length}`);
    }
    this.sizeDivisible = args.sizeDivisible ?? 32;
    if (!isPositiveInt(this.sizeDivisible)) {
      throw new Error(`${name}: sizeDivisible must be a positive integer, got ${JSON.stringify(args.sizeDivisible)}`);
    }
    this.fixedSize = args.fixedSize ?? null;
    if (this.fixedSize != null && !(Array.isArray(this.fixedSize) && this.fixedSize.length === 2 &&
        this.fixedSize.every(isPositiveInt))) {
      throw new Error(`${name}: fixedSize must be [width, height] of positive integers, got ` +
          `${JSON.stringify(args.fixedSize)}`);
    }
    this.fixedSize = this.fixedSize == null ? null : [this.fixedSize[0], this.fixedSize[1]];
    this.dataFormat = args.dataFormat ?? 'channelsLast';
    if (this.dataFormat !== 'channelsLast' && this.dataFormat !== 'channelsFirst') {
      throw new Error(`${name}: dataFormat must be 'channelsLast' or 'channelsFirst', got ${JSON.stringify(args.dataFormat)}`);
    }
  }

  /** (image - mean) / std per channel of an HWC float32 image. */
  normalize(image: Tensor3D): Tensor3D {
    if (!(image instanceof Tensor) || image.isDisposed) {
      throw new Error(`GeneralizedRCNNTransform.normalize: the image must be a live tf.Tensor, got ${
        image instanceof Tensor ? 'a disposed one' : typeof image}`);
    }
    if (image.rank !== 3 || image.dtype !== 'float32') {
      throw new Error(`GeneralizedRCNNTransform.normalize: images must be float32 [H, W, C] in [0, 1], got ` +
          `${image.dtype} [${image.shape}]`);
    }
    if (image.shape[2] !== this.imageMean.length || image.shape[2] !== this.imageStd.length) {
      throw new Error(`GeneralizedRCNNTransform.normalize: the image has ${image.shape[2]} channels, imageMean ` +
          `${this.imageMean.length} and imageStd ${this.imageStd.length}`);
    }
    return tf.tidy(() => tf.div(tf.sub(image, tf.tensor1d(this.imageMean)), tf.tensor1d(this.imageStd)) as Tensor3D);
  }

  /** The (H, W) an image of (h, w) is resized to (minSize: eval's, the last of the list, unless given). */
  outputSize(h: number, w: number, minSize = this.minSize[this.minSize.length - 1]): [number, number] {
    if (this.fixedSize != null) return [this.fixedSize[1], this.fixedSize[0]];
    return resizedImageSize(h, w, minSize, this.maxSize);
  }

  /** The resized image and, when given, its target's boxes scaled to it. */
  resize(image: Tensor3D, target?: BoxesOf, minSize?: number): {image: Tensor3D, target?: BoxesOf} {
    const [h, w] = image.shape;
    const size = this.outputSize(h, w, minSize);
    const resized = resizeBilinear(image, size);
    if (target == null) return {image: resized};
    return {image: resized, target: {...target, boxes: resizeBoxes(target.boxes, [h, w], size)}};
  }

  /** (H, W) of the batch of images of these (resized) sizes: the largest, rounded up to a multiple of sizeDivisible. */
  batchSize(sizes: Array<[number, number]>): [number, number] {
    const stride = this.sizeDivisible;
    return [Math.ceil(Math.max(...sizes.map(s => s[0])) / stride) * stride,
      Math.ceil(Math.max(...sizes.map(s => s[1])) / stride) * stride];
  }

  /**
   * Checks, allocating nothing, that images of these original (H, W) sizes
   * and `channels` channels can be transformed: each resizes to at least
   * 1 x 1 (torchvision's interpolate: "Input and output sizes should be
   * greater than 0"), and the batch has at most 2^28 values (1 GiB of
   * float32). Otherwise an Error naming `op` and images[i]. Returns the
   * resized sizes.
   */
  checkSizes(sizes: Array<[number, number]>, channels: number,
      op = 'GeneralizedRCNNTransform.forward', minSize = this.minSize[this.minSize.length - 1]):
      Array<[number, number]> {
    const limits = this.fixedSize != null ? `fixedSize [${this.fixedSize}]` : `minSize ${minSize}, maxSize ${this.maxSize}`;
    const resized = sizes.map(([h, w], i) => {
      if (!(isPositiveInt(h) && isPositiveInt(w))) {
        throw new Error(`${op}: images[${i}] is ${h} x ${w}: height and width must be at least 1`);
      }
      const out = this.outputSize(h, w, minSize);
      if (!(out[0] >= 1 && out[1] >= 1)) {
        throw new Error(`${op}: images[${i}] (${h} x ${w}) resizes to ${out[0]} x ${out[1]} (${limits}): ` +
            'an empty image (torchvision: "Input and output sizes should be greater than 0")');
      }
      return out;
    });
    const [bh, bw] = this.batchSize(resized);
    const values = sizes.length * bh * bw * channels;
    if (!(values <= MAX_BATCH_VALUES)) {
      const i = resized.findIndex(([h, w]) => h * w === Math.max(...resized.map(r => r[0] * r[1])));
      throw new Error(`${op}: images[${i}] (${sizes[i][0]} x ${sizes[i][1]}) resizes to ${resized[i][0]} x ` +
          `${resized[i][1]} (${limits}): the batch of ${sizes.length} would be [${sizes.length}, ${bh}, ${bw}, ` +
          `${channels}], ${values} values, over the limit of 2^28 (${MAX_BATCH_VALUES})`);
    }
    return resized;
  }

  /** Images [H_i, W_i, C] zero-padded at the bottom and right to a common multiple of sizeDivisible. */
  batchImages(images: Tensor3D[]): Tensor4D {
    const [maxH, maxW] = this.batchSize(images.map(i => [i.shape[0], i.shape[1]]));
    return tf.tidy(() => {
      const padded = images.map(i => tf.pad(i, [[0, maxH - i.shape[0]], [0, maxW - i.shape[1]], [0, 0]]));
      const batch = tf.stack(padded) as Tensor4D;
      return this.dataFormat === 'channelsFirst' ? tf.transpose(batch, [0, 3, 1, 2]) : batch;
    });
  }

  /**
   * The ImageList of the images (HWC float32 in [0, 1]) and, when given, the
   * targets with boxes in the resized images' pixels. An image that is not
   * a live [H, W, C] tensor, or sizes checkSizes refuses, is an Error before
   * anything is allocated. `random` (training): each image's minSize is
   * drawn from the list (torchvision's torch_choice), else the last is used
   * (eval). torchvision: `forward(images, targets)`.
   */
  forward(images: Tensor3D[], targets?: BoxesOf[], {random}: {random?: () => number} = {}):
      {imageList: ImageList, targets?: BoxesOf[]} {
    if (!Array.isArray(images) || images.length === 0) {
      throw new Error('GeneralizedRCNNTransform.forward: images must be a non-empty array of [H, W, C] tensors');
    }
    if (targets != null && targets.length !== images.length) {
      throw new Error(`GeneralizedRCNNTransform.forward: ${targets.length} targets for ${images.length} images`);
    }
    images.forEach((image, i) => {
      if (!(image instanceof Tensor) || image.isDisposed || image.rank !== 3) {
        throw new Error(`GeneralizedRCNNTransform.forward: images[${i}] must be a live [H, W, C] tf.Tensor, got ${
          !(image instanceof Tensor) ? typeof image : image.isDisposed ? 'a disposed one' : `shape [${image.shape}]`}`);
      }
    });
    const sizes = this.minSize;
    const minSizes = images.map(() => (random == null ? sizes[sizes.length - 1] :
      sizes[Math.min(sizes.length - 1, Math.floor(random() * sizes.length))]));
    // the resized sizes grow with minSize: the smallest drawn must leave every side >= 1, the largest bounds the batch
    for (const m of new Set([Math.min(...minSizes), Math.max(...minSizes)])) {
      this.checkSizes(images.map(i => [i.shape[0], i.shape[1]]), images[0].shape[2], undefined, m);
    }
    const resized: Tensor3D[] = [];
    const outTargets: BoxesOf[] = [];
    try {
      images.forEach((image, i) => {
        const normalized = this.normalize(image);
        const r = this.resize(normalized, targets?.[i], minSizes[i]);
        normalized.dispose();
        resized.push(r.image);
        if (r.target != null) outTargets.push(r.target);
      });
      const imageSizes = resized.map(r => [r.shape[0], r.shape[1]] as [number, number]);
      const imageList = {tensors: this.batchImages(resized), imageSizes, dataFormat: this.dataFormat};
      return targets == null ? {imageList} : {imageList, targets: outTargets};
    } finally {
      tf.dispose(resized);
    }
  }

  /**
   * Detections with boxes scaled from the resized images (imageShapes) back
   * to the original images (originalImageSizes), other fields kept.
   * torchvision: `postprocess(result, image_shapes, original_image_sizes)` (boxes only).
   */
  postprocess<T extends BoxesOf>(result: T[], imageShapes: Array<[number, number]>,
      originalImageSizes: Array<[number, number]>): T[] {
    return result.map((r, i) => ({...r, boxes: resizeBoxes(r.boxes, imageShapes[i], originalImageSizes[i])}));
  }
}
