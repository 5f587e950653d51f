import {serialization, Tensor2D, Tensor4D} from '@tensorflow/tfjs-core';
import {roiAlign} from '../ops/roi_align.ts';
import {checkSamplingRatio} from '../ops/roi_common.ts';
import {fail} from '../ops/validate.ts';
import {RoiLayer, RoiLayerArgs} from './roi_layer.ts';
import {layerArgs} from './torch_layer.ts';

/** Arguments of the {@link RoIAlign} layer. */
export interface RoIAlignArgs extends RoiLayerArgs {
  /** Samples per bin and axis; <= 0 (default -1): adaptive, ceil(roi size / output size). */
  samplingRatio?: number;
  /** Shift box coordinates by -0.5 pixel (pixel-centre model, Detectron2). Default false. */
  aligned?: boolean;
}

/** Options of the {@link RoIAlign} layer after torchvision's positional arguments: dataFormat and the tf.layers ones. */
export type RoIAlignOptions = Omit<RoIAlignArgs, 'outputSize'|'spatialScale'|'samplingRatio'|'aligned'>;

/**
 * RoI Align ({@link roiAlign}) as a serializable tf.layers layer:
 * apply([x, boxes]), x [N, H, W, C] (channelsFirst: [N, C, H, W]), boxes
 * either [N, K, 4] (x1, y1, x2, y2; K per image, the form of functional models
 * and fit) -> [N, K, oh, ow, C] (channelsFirst: [N, K, C, oh, ow]), or [K, 5]
 * (batch index, x1, y1, x2, y2) -> [K, oh, ow, C] ([K, C, oh, ow]). Defaults:
 * spatialScale 1, samplingRatio -1 (adaptive), aligned false, dataFormat
 * 'channelsLast'. Constructed from one arguments object, or as torchvision's
 * `RoIAlign(outputSize, spatialScale, samplingRatio, aligned?, options?)`.
 * torchvision: `torchvision.ops.RoIAlign(output_size, spatial_scale, sampling_ratio, aligned=False)`.
 *
 * ```js
 * const pool = new RoIAlign({outputSize: 7, spatialScale: 1 / 16, samplingRatio: 2});
 * pool.apply([features, boxes])  // [N, H, W, C], [N, K, 4] -> [N, K, 7, 7, C]
 * new RoIAlign(7, 1 / 16, 2)     // the same layer, torchvision's RoIAlign(7, 1 / 16, 2)
 * ```
 */
export class RoIAlign extends RoiLayer {
  static className = 'RoIAlign';
  readonly samplingRatio: number;
  readonly aligned: boolean;

  /** The layer from one arguments object (also what deserialization passes). */
  constructor(args: RoIAlignArgs);
  /** torchvision's positional arguments, then optionally an object of the other options (dataFormat, name...). */
  constructor(outputSize: number|[number, number], options?: RoIAlignOptions);
  /** torchvision's positional arguments, then optionally an object of the other options (dataFormat, name...). */
  constructor(outputSize: number|[number, number], spatialScale: number, options?: RoIAlignOptions);
  /** torchvision's positional arguments, then optionally an object of the other options (dataFormat, name...). */
  constructor(outputSize: number|[number, number], spatialScale: number, samplingRatio: number, options?: RoIAlignOptions);
  /** torchvision's positional arguments, then optionally an object of the other options (dataFormat, name...). */
  constructor(
      outputSize: number|[number, number], spatialScale: number|undefined, samplingRatio: number|undefined,
      aligned: boolean|undefined, options?: RoIAlignOptions);
  constructor(...values: unknown[]) {
    const args = layerArgs<RoIAlignArgs>(RoIAlign.className, values,
        ['outputSize', 'spatialScale', 'samplingRatio', 'aligned']);
    super(args);
    this.samplingRatio = checkSamplingRatio(RoIAlign.className, args.samplingRatio ?? -1);
    this.aligned = args.aligned ?? false;
    if (typeof this.aligned !== 'boolean') fail(RoIAlign.className, 'aligned', `must be a boolean, got ${this.aligned}`);
  }

  protected pool(x: Tensor4D, rois: Tensor2D): Tensor4D {
    return roiAlign(x, rois, {outputSize: this.outputSize, spatialScale: this.spatialScale,
      samplingRatio: this.samplingRatio, aligned: this.aligned, dataFormat: this.dataFormat});
  }

  /** The layer's arguments, for serialization (model.save / tf.loadLayersModel). */
  getConfig(): serialization.ConfigDict {
    return {...super.getConfig(), samplingRatio: this.samplingRatio, aligned: this.aligned};
  }
}
serialization.registerClass(RoIAlign);
