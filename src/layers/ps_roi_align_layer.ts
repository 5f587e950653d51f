import {serialization, Tensor2D, Tensor4D} from '@tensorflow/tfjs-core';
import {psRoiAlign} from '../ops/ps_roi.ts';
import {checkSamplingRatio} from '../ops/roi_common.ts';
import {RoiLayer, RoiLayerArgs} from './roi_layer.ts';
import {layerArgs} from './torch_layer.ts';

/** Arguments of the {@link PSRoIAlign} layer. */
export interface PSRoIAlignArgs extends RoiLayerArgs {
  /** Samples per bin and axis; <= 0 (default -1): adaptive, ceil(roi size / output size). */
  samplingRatio?: number;
}

/** Options of the {@link PSRoIAlign} layer after torchvision's positional arguments: dataFormat and the tf.layers ones. */
export type PSRoIAlignOptions = Omit<PSRoIAlignArgs, 'outputSize'|'spatialScale'|'samplingRatio'>;

/**
 * Position-sensitive RoI Align ({@link psRoiAlign}) as a serializable tf.layers
 * layer: apply([x, boxes]), x [N, H, W, Cout * oh * ow] (channelsFirst:
 * [N, Cout * oh * ow, H, W]), boxes [N, K, 4] per image -> [N, K, oh, ow, Cout]
 * (channelsFirst: [N, K, Cout, oh, ow]) or [K, 5] -> [K, oh, ow, Cout]
 * ([K, Cout, oh, ow]). Defaults: spatialScale 1, samplingRatio -1 (adaptive),
 * dataFormat 'channelsLast'. Constructed from one arguments object, or as
 * torchvision's `PSRoIAlign(outputSize, spatialScale, samplingRatio, options?)`.
 * torchvision: `torchvision.ops.PSRoIAlign(output_size, spatial_scale, sampling_ratio)`.
 *
 * ```js
 * new PSRoIAlign({outputSize: 3, samplingRatio: 2}).apply([x, boxes])  // x [N, H, W, 9 Cout] -> [N, K, 3, 3, Cout]
 * new PSRoIAlign(3, 1, 2)                                              // the same, torchvision's PSRoIAlign(3, 1.0, 2)
 * ```
 */
export class PSRoIAlign extends RoiLayer {
  static className = 'PSRoIAlign';
  readonly samplingRatio: number;

  /** The layer from one arguments object (also what deserialization passes). */
  constructor(args: PSRoIAlignArgs);
  /** torchvision's positional arguments, then optionally an object of the other options (dataFormat, name...). */
  constructor(outputSize: number|[number, number], options?: PSRoIAlignOptions);
  /** torchvision's positional arguments, then optionally an object of the other options (dataFormat, name...). */
  constructor(outputSize: number|[number, number], spatialScale: number, options?: PSRoIAlignOptions);
  /** torchvision's positional arguments, then optionally an object of the other options (dataFormat, name...). */
  constructor(
      outputSize: number|[number, number], spatialScale: number|undefined, samplingRatio: number|undefined,
      options?: PSRoIAlignOptions);
  constructor(...values: unknown[]) {
    const args = layerArgs<PSRoIAlignArgs>(PSRoIAlign.className, values, ['outputSize', 'spatialScale', 'samplingRatio']);
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

  /** The layer's arguments, for serialization (model.save / tf.loadLayersModel). */
  getConfig(): serialization.ConfigDict {
    return {...super.getConfig(), samplingRatio: this.samplingRatio};
  }
}
serialization.registerClass(PSRoIAlign);
