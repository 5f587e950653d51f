import {KernelFunc, util} from '@tensorflow/tfjs-core';
import {RoiPoolGrad, RoiPoolGradAttrs, RoiPoolGradInputs, roiPoolKernel} from '../../src/kernel_names.ts';
import {allocOutput, assertFloat32, heapOffset, int32Fields, visionOpsWasm, WasmBackendLike} from './module.ts';
import {attrArgs} from './args.ts';

/** Zero copy: zeroes dx, recomputes each bin's argmax per lane and adds dy there. */
export const roiPoolGradWasm: KernelFunc = ({inputs, backend, attrs}) => {
  const b = backend as unknown as WasmBackendLike;
  const {dy, x, boxes} = inputs as RoiPoolGradInputs;
  const p = attrs as unknown as RoiPoolGradAttrs;
  for (const [name, t] of [['dy', dy], ['x', x], ['boxes', boxes]] as const) assertFloat32(RoiPoolGrad, name, t);
  if (util.sizeFromShape(x.shape) === 0) return b.makeOutput(x.shape, 'float32');
  const mod = visionOpsWasm(b);
  const [batch, height, width, channels] = x.shape;
  const ints = int32Fields('roi_pool_grad', {batch, height, width, channels, numBoxes: boxes.shape[0]});
  const dx = allocOutput(b, x.shape, 'float32', 'roi_pool_grad dx');
  // With no boxes dy has no data on the heap; nothing reads it then.
  const dyOffset = util.sizeFromShape(dy.shape) === 0 ? 0 : heapOffset(b, dy);
  const boxesOffset = boxes.shape[0] === 0 ? 0 : heapOffset(b, boxes);
  mod.roi_pool_grad(dyOffset, heapOffset(b, x), boxesOffset, dx.offset, ...ints,
      ...attrArgs(RoiPoolGrad, roiPoolKernel.grad, p));
  return dx.info;
};
