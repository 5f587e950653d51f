// Type-checked (strict, skipLibCheck false) under each moduleResolution: the main entry and
// every subpath that has types, used with real signatures. The @ts-expect-error lines fail
// the check if an entry's types were missing (any) instead of real.
import * as tf from '@tensorflow/tfjs-core';
import {nms, nmsAsync, roiAlign, boxIou, BACKEND_IMPORTS} from 'tfjs-vision-ops';
import type {RoiAlignArgs, BoxFormat} from 'tfjs-vision-ops';
import {RoIAlign, LAYER_CLASSES} from 'tfjs-vision-ops/layers';
import type {RoIAlignArgs} from 'tfjs-vision-ops/layers';
import {webglKernels} from 'tfjs-vision-ops/webgl';
import {webgpuKernels} from 'tfjs-vision-ops/webgpu';
import {wasmReady, wasmKernels} from 'tfjs-vision-ops/wasm';
import {tensorflowKernels} from 'tfjs-vision-ops/node';

const boxes: tf.Tensor2D = tf.tensor2d([[0, 0, 10, 10], [1, 1, 11, 11]]);
const scores: tf.Tensor1D = tf.tensor1d([0.9, 0.8]);
const keep: tf.Tensor1D = nms(boxes, scores, 0.5);
const keepLater: Promise<tf.Tensor1D> = nmsAsync(boxes, scores, 0.5);
const fmt: BoxFormat = 'xyxy';
const iou: tf.Tensor = boxIou(boxes, boxes, {fmt});
const args: RoiAlignArgs = {outputSize: [2, 2], samplingRatio: 2, aligned: false};
const x: tf.Tensor4D = tf.zeros([1, 4, 4, 1]);
const pooled: tf.Tensor4D = roiAlign(x, tf.tensor2d([[0, 0, 0, 3, 3]]), args);
const layerArgs: RoIAlignArgs = {outputSize: 2, spatialScale: 1 / 16};
const layer: RoIAlign = new RoIAlign(layerArgs);
const configs: tf.KernelConfig[] = [...webglKernels, ...webgpuKernels, ...wasmKernels, ...tensorflowKernels];
const ready: Promise<void> = wasmReady();
const names: string = layer.getClassName() + LAYER_CLASSES.length + Object.keys(BACKEND_IMPORTS).length;

// @ts-expect-error iouThreshold is a number
nms(boxes, scores, '0.5');
// @ts-expect-error outputSize is required
roiAlign(x, boxes, {});
// @ts-expect-error RoIAlign needs outputSize
new RoIAlign({});
// @ts-expect-error wasmReady resolves to void
const notANumber: Promise<number> = wasmReady();

export {keep, keepLater, iou, pooled, configs, ready, names, notANumber};
