import {KernelFunc, TensorInfo, util} from '@tensorflow/tfjs-core';
import {PsRoiPoolGrad, PsRoiPoolGradAttrs, PsRoiPoolGradInputs, psRoiPoolKernel} from '../../src/kernel_names.ts';
import {allocOutput, assertFloat32, heapOffset, int32Fields, visionOpsWasm, WasmBackendLike} from './module.ts';
import {attrArgs} from './args.ts';

export const psRoiPoolGradWasm: KernelFunc = ({inputs, backend, attrs}) => {
  const b = backend as unknown as WasmBackendLike;
  const {dy, boxes} = inputs as PsRoiPoolGradInputs;
  const p = attrs as unknown as PsRoiPoolGradAttrs;
  assertFloat32(PsRoiPoolGrad, 'dy', dy);
  assertFloat32(PsRoiPoolGrad, 'boxes', boxes);
  if (util.sizeFromShape(p.xShape) === 0) return b.makeOutput(p.xShape, 'float32');
  const mod = visionOpsWasm(b);
  const [batch, height, width, channels] = p.xShape;
  const ints = int32Fields('ps_roi_pool_grad', {batch, height, width, channels, numBoxes: boxes.shape[0]});
  const dx = allocOutput(b, p.xShape, 'float32', 'ps_roi_pool_grad dx');
  // With no boxes, dy and boxes have no heap data; nothing reads them then.
  const offset = (t: TensorInfo) => util.sizeFromShape(t.shape) === 0 ? 0 : heapOffset(b, t);
  mod.ps_roi_pool_grad(offset(dy), offset(boxes), dx.offset, ...ints,
      ...attrArgs(PsRoiPoolGrad, psRoiPoolKernel.grad, p));
  return dx.info;
};
