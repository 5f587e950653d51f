import {serialization, Tensor2D, Tensor4D} from '@tensorflow/tfjs-core';
import {roiPool} from '../ops/roi_pool.ts';
import {RoiLayer} from './roi_layer.ts';

/**
 * RoI max pooling ({@link roiPool}) as a serializable tf.layers layer:
 * apply([x, boxes]), x [N, H, W, C] (channelsFirst: [N, C, H, W]), boxes
 * [N, K, 4] per image -> [N, K, oh, ow, C] (channelsFirst: [N, K, C, oh, ow])
 * or [K, 5] -> [K, oh, ow, C] ([K, C, oh, ow]). Arguments {@link RoiLayerArgs}:
 * outputSize (required), spatialScale 1, dataFormat 'channelsLast'.
 * torchvision: `torchvision.ops.RoIPool(output_size, spatial_scale)`.
 *
 * ```js
 * new RoIPool({outputSize: 7, spatialScale: 1 / 16}).apply([features, boxes])  // boxes [N, K, 4] -> [N, K, 7, 7, C]
 * ```
 */
export class RoIPool extends RoiLayer {
  static className = 'RoIPool';

  protected pool(x: Tensor4D, rois: Tensor2D): Tensor4D {
    return roiPool(x, rois, {outputSize: this.outputSize, spatialScale: this.spatialScale, dataFormat: this.dataFormat});
  }
}
serialization.registerClass(RoIPool);
