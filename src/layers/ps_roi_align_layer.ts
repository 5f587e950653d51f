import {serialization, Tensor2D, Tensor4D} from '@tensorflow/tfjs-core';
import {psRoiAlign} from '../ops/ps_roi';
import {checkSamplingRatio} from '../ops/roi_common';
import {RoiLayer, RoiLayerArgs} from './roi_layer';

export interface PSRoIAlignArgs extends RoiLayerArgs {
  samplingRatio?: number;
}

/**
 * torchvision.ops.PSRoIAlign as a tf.layers layer: x has Cout * oh * ow
 * channels, the output Cout; boxes [N, K, 4] per image or [K, 5] (roi_layer.ts).
 */
export class PSRoIAlign extends RoiLayer {
  static className = 'PSRoIAlign';
  readonly samplingRatio: number;

  constructor(args: PSRoIAlignArgs) {
    super(args);
    this.samplingRatio = checkSamplingRatio(PSRoIAlign.className, args.samplingRatio ?? -1);
  }

  protected outputChannels(c: number|null) {
    return c == null ? null : c / (this.outputSize[0] * this.outputSize[1]);
  }

  protected pool(x: Tensor4D, rois: Tensor2D): Tensor4D {
    return psRoiAlign(x, rois, {outputSize: this.outputSize, spatialScale: this.spatialScale,
      samplingRatio: this.samplingRatio, dataFormat: this.dataFormat});
  }

  getConfig(): serialization.ConfigDict {
    return {...super.getConfig(), samplingRatio: this.samplingRatio};
  }
}
serialization.registerClass(PSRoIAlign);
