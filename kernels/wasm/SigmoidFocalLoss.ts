import {KernelFunc, util} from '@tensorflow/tfjs-core';
import {SigmoidFocalLoss, SigmoidFocalLossAttrs, sigmoidFocalLossKernel, SigmoidFocalLossInputs} from '../../src/kernel_names.ts';
import {allocOutput, assertFloat32, heapOffset, visionOpsWasm, WasmBackendLike} from './module.ts';
import {attrArgs} from './args.ts';

/** Zero copy: reads the inputs and writes the loss in place on the wasm heap. */
export const sigmoidFocalLossWasm: KernelFunc = ({inputs, backend, attrs}) => {
  const b = backend as unknown as WasmBackendLike;
  const {inputs: x, targets} = inputs as SigmoidFocalLossInputs;
  const p = attrs as unknown as SigmoidFocalLossAttrs;
  assertFloat32(SigmoidFocalLoss, 'inputs', x);
  assertFloat32(SigmoidFocalLoss, 'targets', targets);
  const size = util.sizeFromShape(x.shape);
  util.assert(util.sizeFromShape(targets.shape) === size,
      () => `${SigmoidFocalLoss} (wasm): inputs and targets differ in size`);
  if (size === 0) return b.makeOutput(x.shape, 'float32');
  // Instantiate before allocating, so that a not-ready error leaks nothing.
  const mod = visionOpsWasm(b);
  const out = allocOutput(b, x.shape, 'float32');
  mod.sigmoid_focal_loss(heapOffset(b, x), heapOffset(b, targets), out.offset, size,
      ...attrArgs(SigmoidFocalLoss, sigmoidFocalLossKernel, p));
  return out.info;
};
