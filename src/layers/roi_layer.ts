/**
 * Shared base of the RoI layers (RoIAlign, RoIPool, PSRoIAlign, PSRoIPool).
 * call([x, boxes]) takes boxes in either form:
 *  - [N, K, 4] (x1, y1, x2, y2), K boxes per image: the form of a functional
 *    model trained with fit (every input has the batch dimension). Output
 *    [N, K, oh, ow, C] (channelsFirst: [N, K, C, oh, ow]);
 *  - [K, 5] (batch index, x1, y1, x2, y2), torchvision's form, for eager use.
 *    Output [K, oh, ow, C] (channelsFirst: [K, C, oh, ow]).
 * Boxes must match x: [N, K, 4] boxes for exactly x's N images, and [K, 5]
 * batch indices integers in [0, N) (read back to check them: torchvision
 * leaves an out-of-range index undefined); otherwise an Error names the
 * layer, the argument and both counts.
 */
import * as tf from '@tensorflow/tfjs-core';
import {serialization, Tensor, Tensor2D, Tensor4D} from '@tensorflow/tfjs-core';
import {layers, Shape} from '@tensorflow/tfjs-layers';
import {checkOutputSize, checkSpatialScale, DATA_FORMATS, DataFormat} from '../ops/roi_common.ts';
import {assertOneOf, assertRank, assertTensor, describe, fail, isPlainObject} from '../ops/validate.ts';

export type LayerArgs = NonNullable<ConstructorParameters<typeof layers.Layer>[0]>;

/** Arguments shared by the RoI layers (RoIAlign, RoIPool, PSRoIAlign, PSRoIPool). */
export interface RoiLayerArgs extends LayerArgs {
  /** Output size (pooled height and width): one number or [height, width]. Required. */
  outputSize: number|[number, number];
  /** Map coordinates = box coordinates * spatialScale (e.g. 1/16 at stride 16). Default 1. */
  spatialScale?: number;
  /** Default 'channelsLast': x [N, H, W, C]; 'channelsFirst': x [N, C, H, W]. */
  dataFormat?: DataFormat;
}

/** [N, K, 4] boxes per image -> [N K, 5] RoIs with their image index. */
export function perImageRois(boxes: Tensor): Tensor2D {
  const [n, k] = boxes.shape;
  const index = tf.reshape(tf.tile(tf.reshape(tf.range(0, n, 1, 'float32'), [n, 1]), [1, k]), [n * k, 1]);
  return tf.concat([index, tf.reshape(tf.cast(boxes, 'float32'), [n * k, 4])], 1) as Tensor2D;
}

/**
 * Checks that [K, 5] RoIs only name images of a batch of `batch`: each batch
 * index (column 0) an integer in [0, batch). Reads the RoIs back
 * synchronously (a tensor made on the CPU is read without a device round
 * trip). torchvision's kernels leave another index undefined; here it is an
 * Error naming `layer`, the argument, the index and the batch size.
 */
export function checkBatchIndices(layer: string, arg: string, rois: Tensor, batch: number) {
  if (rois.rank !== 2 || rois.shape[1] !== 5 || rois.shape[0] === 0) return;
  const values = rois.dataSync();
  for (let k = 0; k < rois.shape[0]; k++) {
    const index = values[5 * k];
    if (!(Number.isInteger(index) && index >= 0 && index < batch)) {
      fail(layer, arg, `row ${k} has batch index ${index}, but x holds ${batch} image(s): each index must be ` +
          `an integer in [0, ${batch})`);
    }
  }
}

/**
 * Base of the RoI layers ({@link RoIAlign}, {@link RoIPool}, {@link PSRoIAlign},
 * {@link PSRoIPool}): call([x, boxes]) with boxes [N, K, 4] (per image) or
 * [K, 5] (batch index first), checked against x's batch, then the layer's op.
 * No torchvision counterpart of its own: each subclass is a torchvision module.
 */
export abstract class RoiLayer extends layers.Layer {
  readonly outputSize: [number, number];
  readonly spatialScale: number;
  readonly dataFormat: DataFormat;

  constructor(args: RoiLayerArgs) {
    if (!isPlainObject(args)) {
      fail((new.target as unknown as {className: string}).className, 'arguments',
          `must be an options object {outputSize, spatialScale, ...}, got ${describe(args)}`);
    }
    super(args);
    const name = this.getClassName();
    this.outputSize = checkOutputSize(name, args.outputSize);
    this.spatialScale = checkSpatialScale(name, args.spatialScale ?? 1);
    this.dataFormat = args.dataFormat ?? 'channelsLast';
    assertOneOf(name, 'dataFormat', this.dataFormat, DATA_FORMATS);
  }

  /** The op on [K, 5] RoIs. */
  protected abstract pool(x: Tensor4D, rois: Tensor2D): Tensor4D;

  /** Output channels for an input of c channels. */
  protected outputChannels(c: number|null): number|null {
    return c;
  }

  private inputPair(inputs: Tensor|Tensor[]): [Tensor4D, Tensor] {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length !== 2) fail(this.getClassName(), 'inputs', `must be [x, boxes], got ${list.length} tensor(s)`);
    return list as [Tensor4D, Tensor];
  }

  computeOutputShape(inputShape: Shape|Shape[]): Shape {
    const [xShape, boxesShape] = inputShape as Shape[];
    const c = this.outputChannels(xShape[this.dataFormat === 'channelsFirst' ? 1 : 3]);
    const [oh, ow] = this.outputSize;
    const pooled = this.dataFormat === 'channelsFirst' ? [c, oh, ow] : [oh, ow, c];
    return boxesShape.length === 3 ? [boxesShape[0], boxesShape[1], ...pooled] : [boxesShape[0], ...pooled];
  }

  /**
   * apply([x, boxes]): boxes [N, K, 4] -> [N, K, ...pooled], [K, 5] -> [K,
   * ...pooled]. Boxes for another number of images than x's N (or a [K, 5]
   * batch index outside [0, N)) is an Error naming the layer and both counts.
   */
  call(inputs: Tensor|Tensor[]): Tensor {
    return tf.tidy(() => {
      const name = this.getClassName();
      const [x, boxes] = this.inputPair(inputs);
      assertTensor(name, 'x', x);
      assertTensor(name, 'boxes', boxes);
      assertRank(name, 'x', x, [4]);
      const n = x.shape[0];
      if (boxes.rank === 2) {
        checkBatchIndices(name, 'boxes', boxes, n);
        return this.pool(x, boxes as Tensor2D);
      }
      if (boxes.rank !== 3 || boxes.shape[2] !== 4) {
        fail(name, 'boxes', `must be [N, K, 4] or [K, 5], got [${boxes.shape}]`);
      }
      if (boxes.shape[0] !== n) {
        fail(name, 'boxes', `[N, K, 4] holds boxes for ${boxes.shape[0]} image(s), but x holds ${n} ` +
            `(x [${x.shape}], boxes [${boxes.shape}])`);
      }
      const out = this.pool(x, perImageRois(boxes));
      return tf.reshape(out, [n, boxes.shape[1] as number, ...out.shape.slice(1)]);
    });
  }

  /** The layer's arguments, for serialization (model.save / tf.loadLayersModel). */
  getConfig(): serialization.ConfigDict {
    return {
      ...super.getConfig(),
      outputSize: this.outputSize,
      spatialScale: this.spatialScale,
      dataFormat: this.dataFormat,
    };
  }
}
