import {Tensor4D} from '@tensorflow/tfjs-core';
import {DataFormat} from '../ops/roi_common.ts';

/**
 * torchvision's ImageList: the batched, zero-padded images and the (H, W)
 * of each image before padding.
 */
export interface ImageList {
  /** [N, H, W, C] (channelsLast) or [N, C, H, W] (channelsFirst). */
  tensors: Tensor4D;
  imageSizes: Array<[number, number]>;
  dataFormat: DataFormat;
}
