import {serialization, Tensor2D, Tensor4D} from '@tensorflow/tfjs-core';
import {roiPool} from '../ops/roi_pool.ts';
import {RoiLayer, RoiLayerArgs} from './roi_layer.ts';
import {layerArgs} from './torch_layer.ts';

/** Options of the {@link RoIPool} and {@link PSRoIPool} layers after torchvision's positional arguments: dataFormat and the tf.layers ones. */
export type RoIPoolOptions = Omit<RoiLayerArgs, 'outputSize'|'spatialScale'>;

/**
 * RoI max pooling ({@link roiPool}) as a serializable tf.layers layer:
 * apply([x, boxes]), x [N, H, W, C] (channelsFirst: [N, C, H, W]), boxes
 * [N, K, 4] per image -> [N, K, oh, ow, C] (channelsFirst: [N, K, C, oh, ow])
 * or [K, 5] -> [K, oh, ow, C] ([K, C, oh, ow]). Arguments {@link RoiLayerArgs}:
 * outputSize (required), spatialScale 1, dataFormat 'channelsLast'; or
 * torchvision's positional `RoIPool(outputSize, spatialScale, options?)`.
 * torchvision: `torchvision.ops.RoIPool(output_size, spatial_scale)`.
 *
 * ```js
 * new RoIPool({outputSize: 7, spatialScale: 1 / 16}).apply([features, boxes])  // boxes [N, K, 4] -> [N, K, 7, 7, C]
 * new RoIPool(7, 1 / 16)                                                       // the same, torchvision's RoIPool(7, 1 / 16)
 * ```
 */
export class RoIPool extends RoiLayer {
  static className = 'RoIPool';

  /** The layer from one arguments object (also what deserialization passes). */
  constructor(args: RoiLayerArgs);
  /** torchvision's positional arguments, then optionally an object of the other options (dataFormat, name...). */
  constructor(outputSize: number|[number, number], options?: RoIPoolOptions);
  /** torchvision's positional arguments, then optionally an object of the other options (dataFormat, name...). */
  constructor(outputSize: number|[number, number], spatialScale: number|undefined, options?: RoIPoolOptions);
  constructor(...values: unknown[]) {
    super(layerArgs<RoiLayerArgs>(RoIPool.className, values, ['outputSize', 'spatialScale']));
  }

  protected pool(x: Tensor4D, rois: Tensor2D): Tensor4D {
    return roiPool(x, rois, {outputSize: this.outputSize, spatialScale: this.spatialScale, dataFormat: this.dataFormat});
  }
}
serialization.registerClass(RoIPool);
