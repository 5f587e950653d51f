import {KernelFunc, TensorInfo, util} from '@tensorflow/tfjs-core';
import {PsRoiPool, psRoiPoolKernel, RoiPool, RoiPoolAttrs, RoiPoolInputs, roiPoolKernel} from '../../src/kernel_names.ts';
import {allocOutput, assertFloat32, heapOffset, int32Fields, visionOpsWasm, WasmBackendLike} from './module.ts';
import {attrArgs} from './args.ts';

/** Runs roi_pool or ps_roi_pool of our module on the heap, zero copy, into a new output of outShape. */
export function runRoiPoolWasm(
    b: WasmBackendLike, kernelName: typeof RoiPool|typeof PsRoiPool, x: TensorInfo, boxes: TensorInfo,
    outShape: number[], p: RoiPoolAttrs): TensorInfo {
  assertFloat32(kernelName, 'x', x);
  assertFloat32(kernelName, 'boxes', boxes);
  if (util.sizeFromShape(outShape) === 0) return b.makeOutput(outShape, 'float32');
  const mod = visionOpsWasm(b);
  const kernel = kernelName === RoiPool ? 'roi_pool' : 'ps_roi_pool';
  const [batch, height, width, channels] = x.shape;
  const ints = int32Fields(kernel, {batch, height, width, channels, numBoxes: boxes.shape[0]});
  const out = allocOutput(b, outShape, 'float32', `${kernel} output`);
  mod[kernel](heapOffset(b, x), heapOffset(b, boxes), out.offset, ...ints,
      ...attrArgs(kernelName, kernelName === RoiPool ? roiPoolKernel : psRoiPoolKernel, p));
  return out.info;
}

/** Zero copy: four channels per f32x4, max and first argmax per lane. */
export const roiPoolWasm: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as RoiPoolInputs;
  const p = attrs as unknown as RoiPoolAttrs;
  const outShape = [boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3]];
  return runRoiPoolWasm(backend as unknown as WasmBackendLike, RoiPool, x, boxes, outShape, p);
};
