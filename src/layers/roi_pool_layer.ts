import {serialization, Tensor2D, Tensor4D} from '@tensorflow/tfjs-core';
import {roiPool} from '../ops/roi_pool';
import {RoiLayer} from './roi_layer';

/**
 * torchvision.ops.RoIPool as a tf.layers layer: call([x, boxes]) with boxes
 * [N, K, 4] per image (functional models, fit) or [K, 5]; see roi_layer.ts.
 */
export class RoIPool extends RoiLayer {
  static className = 'RoIPool';

  protected pool(x: Tensor4D, rois: Tensor2D): Tensor4D {
    return roiPool(x, rois, {outputSize: this.outputSize, spatialScale: this.spatialScale, dataFormat: this.dataFormat});
  }
}
serialization.registerClass(RoIPool);
