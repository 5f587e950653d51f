import {serialization, Tensor2D, Tensor4D} from '@tensorflow/tfjs-core';
import {psRoiPool} from '../ops/ps_roi.ts';
import {RoiLayer, RoiLayerArgs} from './roi_layer.ts';
import type {RoIPoolOptions} from './roi_pool_layer.ts';
import {layerArgs} from './torch_layer.ts';

/**
 * Position-sensitive RoI average pooling ({@link psRoiPool}) as a serializable
 * tf.layers layer: apply([x, boxes]), x [N, H, W, Cout * oh * ow]
 * (channelsFirst: [N, Cout * oh * ow, H, W]), boxes [N, K, 4] per image ->
 * [N, K, oh, ow, Cout] (channelsFirst: [N, K, Cout, oh, ow]) or [K, 5] ->
 * [K, oh, ow, Cout] ([K, Cout, oh, ow]). Arguments {@link RoiLayerArgs}:
 * outputSize (required), spatialScale 1, dataFormat 'channelsLast'; or
 * torchvision's positional `PSRoIPool(outputSize, spatialScale, options?)`.
 * torchvision: `torchvision.ops.PSRoIPool(output_size, spatial_scale)`.
 *
 * ```js
 * new PSRoIPool({outputSize: 3}).apply([x, boxes])  // x [N, H, W, 9 Cout], boxes [K, 5] -> [K, 3, 3, Cout]
 * new PSRoIPool(3, 1)                               // the same, torchvision's PSRoIPool(3, 1.0)
 * ```
 */
export class PSRoIPool extends RoiLayer {
  static className = 'PSRoIPool';

  /** The layer from one arguments object (also what deserialization passes). */
  constructor(args: RoiLayerArgs);
  /** torchvision's positional arguments, then optionally an object of the other options (dataFormat, name...). */
  constructor(outputSize: number|[number, number], options?: RoIPoolOptions);
  /** torchvision's positional arguments, then optionally an object of the other options (dataFormat, name...). */
  constructor(outputSize: number|[number, number], spatialScale: number|undefined, options?: RoIPoolOptions);
  constructor(...values: unknown[]) {
    super(layerArgs<RoiLayerArgs>(PSRoIPool.className, values, ['outputSize', 'spatialScale']));
  }

  protected outputChannels(c: number|null) {
    return c == null ? null : c / (this.outputSize[0] * this.outputSize[1]);
  }

  protected pool(x: Tensor4D, rois: Tensor2D): Tensor4D {
    return psRoiPool(x, rois, {outputSize: this.outputSize, spatialScale: this.spatialScale, dataFormat: this.dataFormat});
  }
}
serialization.registerClass(PSRoIPool);
