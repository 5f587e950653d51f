import {KernelFunc, util} from '@tensorflow/tfjs-core';
import {
  SigmoidFocalLossGrad, SigmoidFocalLossGradAttrs, SigmoidFocalLossGradInputs, sigmoidFocalLossKernel,
} from '../../src/kernel_names.ts';
import {allocOutput, assertFloat32, heapOffset, visionOpsWasm, WasmBackendLike} from './module.ts';
import {attrArgs} from './args.ts';

/** Zero copy: both gradients in one pass over the wasm heap. Outputs [dInputs, dTargets]. */
export const sigmoidFocalLossGradWasm: KernelFunc = ({inputs, backend, attrs}) => {
  const b = backend as unknown as WasmBackendLike;
  const {dy, inputs: x, targets} = inputs as SigmoidFocalLossGradInputs;
  const p = attrs as unknown as SigmoidFocalLossGradAttrs;
  assertFloat32(SigmoidFocalLossGrad, 'dy', dy);
  assertFloat32(SigmoidFocalLossGrad, 'inputs', x);
  assertFloat32(SigmoidFocalLossGrad, 'targets', targets);
  const size = util.sizeFromShape(x.shape);
  util.assert(
      util.sizeFromShape(targets.shape) === size && util.sizeFromShape(dy.shape) === size,
      () => `${SigmoidFocalLossGrad} (wasm): dy, inputs and targets differ in size`);
  if (size === 0) return [b.makeOutput(x.shape, 'float32'), b.makeOutput(x.shape, 'float32')];
  const mod = visionOpsWasm(b);
  // Offsets only (numbers): the second malloc may grow the heap.
  const dx = allocOutput(b, x.shape, 'float32');
  const dt = allocOutput(b, x.shape, 'float32');
  mod.sigmoid_focal_loss_grad(
      heapOffset(b, dy), heapOffset(b, x), heapOffset(b, targets), dx.offset, dt.offset, size,
      ...attrArgs(SigmoidFocalLossGrad, sigmoidFocalLossKernel.grad, p));
  return [dx.info, dt.info];
};
