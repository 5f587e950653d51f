import {serialization, Tensor2D, Tensor4D} from '@tensorflow/tfjs-core';
import {roiAlign} from '../ops/roi_align';
import {checkSamplingRatio} from '../ops/roi_common';
import {fail} from '../ops/validate';
import {RoiLayer, RoiLayerArgs} from './roi_layer';

export interface RoIAlignArgs extends RoiLayerArgs {
  samplingRatio?: number;
  aligned?: boolean;
}

/**
 * torchvision.ops.RoIAlign as a tf.layers layer: call([x, boxes]) with boxes
 * [N, K, 4] per image (functional models, fit) or [K, 5]; see roi_layer.ts.
 */
export class RoIAlign extends RoiLayer {
  static className = 'RoIAlign';
  readonly samplingRatio: number;
  readonly aligned: boolean;

  constructor(args: RoIAlignArgs) {
    super(args);
    this.samplingRatio = checkSamplingRatio(RoIAlign.className, args.samplingRatio ?? -1);
    this.aligned = args.aligned ?? false;
    if (typeof this.aligned !== 'boolean') fail(RoIAlign.className, 'aligned', `must be a boolean, got ${this.aligned}`);
  }

  protected pool(x: Tensor4D, rois: Tensor2D): Tensor4D {
    return roiAlign(x, rois, {outputSize: this.outputSize, spatialScale: this.spatialScale,
      samplingRatio: this.samplingRatio, aligned: this.aligned, dataFormat: this.dataFormat});
  }

  getConfig(): serialization.ConfigDict {
    return {...super.getConfig(), samplingRatio: this.samplingRatio, aligned: this.aligned};
  }
}
serialization.registerClass(RoIAlign);
