import {serialization, Tensor2D, Tensor4D} from '@tensorflow/tfjs-core';
import {psRoiPool} from '../ops/ps_roi';
import {RoiLayer} from './roi_layer';

/**
 * torchvision.ops.PSRoIPool as a tf.layers layer: x has Cout * oh * ow
 * channels, the output Cout; boxes [N, K, 4] per image or [K, 5] (roi_layer.ts).
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
