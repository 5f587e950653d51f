/**
 * Shared base of the RoI layers (RoIAlign, RoIPool, PSRoIAlign, PSRoIPool).
 * call([x, boxes]) takes boxes in either form:
 *  - [N, K, 4] (x1, y1, x2, y2), K boxes per image: the form of a functional
 *    model trained with fit (every input has the batch dimension). Output
 *    [N, K, oh, ow, C] (channelsFirst: [N, K, C, oh, ow]);
 *  - [K, 5] (batch index, x1, y1, x2, y2), torchvision's form, for eager use.
 *    Output [K, oh, ow, C] (channelsFirst: [K, C, oh, ow]).
 */
import * as tf from '@tensorflow/tfjs-core';
import {serialization, Tensor, Tensor2D, Tensor4D} from '@tensorflow/tfjs-core';
import {layers, Shape} from '@tensorflow/tfjs-layers';
import {checkOutputSize, checkSpatialScale, DATA_FORMATS, DataFormat} from '../ops/roi_common.ts';
import {assertOneOf, describe, fail, isPlainObject} from '../ops/validate.ts';

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

  call(inputs: Tensor|Tensor[]): Tensor {
    return tf.tidy(() => {
      const [x, boxes] = this.inputPair(inputs);
      if (boxes.rank === 2) return this.pool(x, boxes as Tensor2D);
      if (boxes.rank !== 3 || boxes.shape[2] !== 4) {
        fail(this.getClassName(), 'boxes', `must be [N, K, 4] or [K, 5], got [${boxes.shape}]`);
      }
      const out = this.pool(x, perImageRois(boxes));
      const [n, k] = boxes.shape as number[];
      return tf.reshape(out, [n, k, ...out.shape.slice(1)]);
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
