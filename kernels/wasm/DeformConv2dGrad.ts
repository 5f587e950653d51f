import {KernelFunc} from '@tensorflow/tfjs-core';
import {DeformConv2dGrad, DeformConv2dGradAttrs, DeformConv2dGradInputs} from '../../src/kernel_names.ts';
import {deformGeometry} from '../reference/deform_conv2d.ts';
import {assertDeformInputs, dataOffset, deformScratch} from './DeformConv2d.ts';
import {allocOutput, visionOpsWasm, WasmBackendLike} from './module.ts';

/** Zero copy: per chunk, dcol = dy W^T, one sampling pass (dx, dOffset, dMask, columns), dW += col^T dy. */
export const deformConv2dGradWasm: KernelFunc = ({inputs, backend, attrs}) => {
  const b = backend as unknown as WasmBackendLike;
  const {dy, x, offset, mask, weight} = inputs as DeformConv2dGradInputs;
  assertDeformInputs(DeformConv2dGrad, {dy, x, offset, mask, weight});
  const g = deformGeometry(x.shape, weight.shape, attrs as unknown as DeformConv2dGradAttrs);
  const mod = visionOpsWasm(b);
  const grads: Array<ReturnType<typeof allocOutput>> = [];
  let scratch;
  try {
    for (const [name, t] of [['dx', x], ['dOffset', offset], ['dMask', mask], ['dWeight', weight]] as const) {
      grads.push(allocOutput(b, t.shape, 'float32', `deform_conv2d_grad ${name}`));
    }
    scratch = deformScratch(b, g, true);
  } catch (e) {
    for (const t of grads) b.disposeData(t.info.dataId);
    throw e;
  }
  const [dx, dOffset, dMask, dWeight] = grads;
  try {
    const at = (t: Parameters<typeof dataOffset>[1]) => dataOffset(b, t);
    mod.deform_conv2d_grad(at(dy), at(x), at(offset), at(mask), at(weight), at(dx.info), at(dOffset.info),
        at(dMask.info), at(dWeight.info), scratch.offset);
  } finally {
    b.disposeData(scratch.info.dataId);
  }
  return [dx.info, dOffset.info, dMask.info, dWeight.info];
};
