/**
 * `tfjs-vision-ops/layers`: every layer, each registered for tfjs-layers
 * serialization. Import this entry before `tf.loadLayersModel` of a model that
 * uses these layers; the main entry re-exports the same classes but lets
 * bundlers drop the ones an app does not use.
 *
 * @module tfjs-vision-ops/layers
 */
import {serialization} from '@tensorflow/tfjs-core';
import {Conv2dNormActivation, Conv3dNormActivation, DeformConv2d, DropBlock2d, DropBlock3d, FeaturePyramidNetwork, FrozenBatchNorm2d, MLP, MultiScaleDeformableAttention, MultiScaleRoIAlign, Permute, PSRoIAlign, PSRoIPool, RoIAlign, RoIPool, SqueezeExcitation, StochasticDepth} from './exports.ts';

export * from './exports.ts';

/** Every serializable layer of this package (each also registers itself when its module loads). */
export const LAYER_CLASSES = [
  RoIAlign, RoIPool, PSRoIAlign, PSRoIPool, MultiScaleRoIAlign, FrozenBatchNorm2d,
  Conv2dNormActivation, Conv3dNormActivation, MLP, Permute, SqueezeExcitation, StochasticDepth,
  DropBlock2d, DropBlock3d, FeaturePyramidNetwork, DeformConv2d, MultiScaleDeformableAttention,
];
for (const cls of LAYER_CLASSES) serialization.registerClass(cls);
