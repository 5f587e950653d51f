import {serialization, Tensor2D, Tensor4D} from '@tensorflow/tfjs-core';
import {psRoiPool} from '../ops/ps_roi.ts';
import {RoiLayer} from './roi_layer.ts';

/**
 * Position-sensitive RoI average pooling ({@link psRoiPool}) as a serializable
 * tf.layers layer: apply([x, boxes]), x [N, H, W, Cout * oh * ow]
 * (channelsFirst: [N, Cout * oh * ow, H, W]), boxes [N, K, 4] per image ->
 * [N, K, oh, ow, Cout] (channelsFirst: [N, K, Cout, oh, ow]) or [K, 5] ->
 * [K, oh, ow, Cout] ([K, Cout, oh, ow]). Arguments {@link RoiLayerArgs}:
 * outputSize (required), spatialScale 1, dataFormat 'channelsLast'.
 * torchvision: `torchvision.ops.PSRoIPool(output_size, spatial_scale)`.
 *
 * ```js
 * new PSRoIPool({outputSize: 3}).apply([x, boxes])  // x [N, H, W, 9 Cout], boxes [K, 5] -> [K, 3, 3, Cout]
 * ```
 */
export class PSRoIPool extends RoiLayer {
  static className = 'PSRoIPool';

  protected outputChannels(c: number|null) {
    return c == null ? null : c / (this.outputSize[0] * this.outputSize[1]);
  }

  protected pool(x: Tensor4D, rois: Tensor2D): Tensor4D {
    return psRoiPool(x, rois, {outputSize: this.outputSize, spatialScale: this.spatialScale, dataFormat: this.dataFormat});
  }
}
serialization.registerClass(PSRoIPool);
