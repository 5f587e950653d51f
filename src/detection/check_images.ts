/**
 * The argument checks of FasterRCNN.detect's images, run before anything is
 * allocated: every failure is an Error naming the op and the argument
 * (`images`, `images[i]`).
 */
import {Tensor, Tensor3D} from '@tensorflow/tfjs-core';
import {GeneralizedRCNNTransform} from './transform.ts';

/** A short description of an unexpected value for an error message. */
function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Tensor) return `a tf.Tensor of shape [${v.shape}]`;
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v).slice(0, 40)}`;
}

/**
 * Throws an Error naming `op` unless `images` is a non-empty array of live
 * float32 [H, W, C] tf.Tensors with H, W >= 1 and C the transform's channel
 * count (the length of its imageMean: 3 for RGB), whose resized sizes and
 * batch the transform accepts ({@link GeneralizedRCNNTransform.checkSizes}:
 * each resized side at least 1, at most 2^28 values in the batch).
 * Allocates nothing.
 */
export function checkImages(op: string, images: unknown, transform: GeneralizedRCNNTransform):
    asserts images is Tensor3D[] {
  const what = `${op}: images must be a non-empty array of [H, W, ${transform.imageMean.length}] float32 tensors`;
  if (!Array.isArray(images)) {
    const hint = images instanceof Tensor ? ' (pass one [H, W, C] tensor per image in an array)' : '';
    throw new Error(`${what}, got ${describeValue(images)}${hint}`);
  }
  if (images.length === 0) throw new Error(`${what}, got an empty array`);
  const channels = transform.imageMean.length;
  images.forEach((image: unknown, i) => {
    const at = `${op}: images[${i}]`;
    if (!(image instanceof Tensor)) throw new Error(`${at} is ${describeValue(image)}, not a tf.Tensor`);
    if (image.isDisposed) throw new Error(`${at} is a disposed tf.Tensor`);
    if (image.rank !== 3) {
      throw new Error(`${at} has shape [${image.shape}] (rank ${image.rank}); each image is [H, W, ${channels}]` +
          (image.rank === 4 ? ' (a batch: pass its images as an array)' : ''));
    }
    if (image.shape[2] !== channels) {
      throw new Error(`${at} has shape [${image.shape}]: ${image.shape[2]} channels, the model takes ${channels} ` +
          '(HWC, RGB)');
    }
    if (image.dtype !== 'float32') {
      throw new Error(`${at} has dtype ${image.dtype}; images are float32 in [0, 1] (tf.div(tf.cast(x, ` +
          `'float32'), 255) for bytes)`);
    }
  });
  transform.checkSizes((images as Tensor3D[]).map(i => [i.shape[0], i.shape[1]]), channels, op);
}
