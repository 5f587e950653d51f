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
    this.sizeDivisible = args.sizeDivisible ?? 32;
    this.fixedSize = args.fixedSize ?? null;
    this.dataFormat = args.dataFormat ?? 'channelsLast';
  }

  /** (image - mean) / std per channel of an HWC float32 image. */
  normalize(image: Tensor3D): Tensor3D {
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

  /** The (H, W) an image of (h, w) is resized to. */
  outputSize(h: number, w: number): [number, number] {
    if (this.fixedSize != null) return [this.fixedSize[1], this.fixedSize[0]];
    return resizedImageSize(h, w, this.minSize[this.minSize.length - 1], this.maxSize);
  }

  /** The resized image and, when given, its target's boxes scaled to it. */
  resize(image: Tensor3D, target?: BoxesOf): {image: Tensor3D, target?: BoxesOf} {
    const [h, w] = image.shape;
    const size = this.outputSize(h, w);
    const resized = resizeBilinear(image, size);
    if (target == null) return {image: resized};
    return {image: resized, target: {...target, boxes: resizeBoxes(target.boxes, [h, w], size)}};
  }

  /** Images [H_i, W_i, C] zero-padded at the bottom and right to a common multiple of sizeDivisible. */
  batchImages(images: Tensor3D[]): Tensor4D {
    const stride = this.sizeDivisible;
    const maxH = Math.ceil(Math.max(...images.map(i => i.shape[0])) / stride) * stride;
    const maxW = Math.ceil(Math.max(...images.map(i => i.shape[1])) / stride) * stride;
    return tf.tidy(() => {
      const padded = images.map(i => tf.pad(i, [[0, maxH - i.shape[0]], [0, maxW - i.shape[1]], [0, 0]]));
      const batch = tf.stack(padded) as Tensor4D;
      return this.dataFormat === 'channelsFirst' ? tf.transpose(batch, [0, 3, 1, 2]) : batch;
    });
  }

  /**
   * The ImageList of the images (HWC float32 in [0, 1]) and, when given, the
   * targets with boxes in the resized images' pixels. torchvision:
   * `forward(images, targets)` (eval).
   */
  forward(images: Tensor3D[], targets?: BoxesOf[]): {imageList: ImageList, targets?: BoxesOf[]} {
    if (!Array.isArray(images) || images.length === 0) {
      throw new Error('GeneralizedRCNNTransform.forward: images must be a non-empty array of [H, W, C] tensors');
    }
    if (targets != null && targets.length !== images.length) {
      throw new Error(`GeneralizedRCNNTransform.forward: ${targets.length} targets for ${images.length} images`);
    }
    const resized: Tensor3D[] = [];
    const outTargets: BoxesOf[] = [];
    try {
      images.forEach((image, i) => {
        const normalized = this.normalize(image);
        const r = this.resize(normalized, targets?.[i]);
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
