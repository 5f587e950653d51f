import {Add, BatchMatMul, KernelFunc, Reshape, TensorInfo, Transpose} from '@tensorflow/tfjs-core';
import type {WebGPUBackend, WebGPUProgram} from '@tensorflow/tfjs-backend-webgpu';
import {DeformConv2dGradAttrs, DeformConv2dGradInputs} from '../../src/kernel_names.ts';
import {deformGeometry} from '../reference/deform_conv2d.ts';
import {disposeAll, groupedWeight, positionChunks, runBackendKernel} from './DeformConv2d.ts';
import {DeformColumnsProgram, DeformInputGradProgram, DeformRowsInProgram, DeformSampleGradProgram, deformUniforms} from './deform_conv2d_webgpu.ts';
import {zerosWebGPU} from './webgpu_util.ts';

/**
 * Per chunk: dcol = dy W^T and dW += col^T dy by the backend's BatchMatMul;
 * offset and mask gradients as gathers over channels; dx by atomic adds.
 */
export const deformConv2dGradWebGPU: KernelFunc = ({inputs, backend, attrs}) => {
  const webgpu = backend as WebGPUBackend;
  const {dy, x, offset, mask, weight} = inputs as DeformConv2dGradInputs;
  const g = deformGeometry(x.shape, weight.shape, attrs as unknown as DeformConv2dGradAttrs);
  const chunks = positionChunks(g);
  const dx = zerosWebGPU(webgpu, x.shape);
  if (chunks.length === 0) {
    return [dx, zerosWebGPU(webgpu, offset.shape), zerosWebGPU(webgpu, mask.shape), zerosWebGPU(webgpu, weight.shape)];
  }
  const dOffset = webgpu.makeTensorInfo(offset.shape, 'float32');
  const dMask = g.useMask ? webgpu.makeTensorInfo(mask.shape, 'float32') : zerosWebGPU(webgpu, mask.shape);
  const weights = groupedWeight(webgpu, weight, g);
  let dWeights: TensorInfo|null = null;
  for (const [p0, rows] of chunks) {
    const uniforms = deformUniforms(g, p0, rows);
    const run = (program: WebGPUProgram, programInputs: TensorInfo[]) =>
      webgpu.runWebGPUProgram(program, programInputs, 'float32', uniforms);
    const dyRows = g.groups === 1 && chunks.length === 1 ?
        runBackendKernel(webgpu, Reshape, {x: dy}, {shape: [1, rows, g.outChannels]}) :
        run(new DeformRowsInProgram(g, rows), [dy]);
    const dcol = runBackendKernel(webgpu, BatchMatMul, {a: dyRows, b: weights}, {transposeA: false, transposeB: true});
    webgpu.runWebGPUProgram(new DeformSampleGradProgram(g, rows, 'offset'), [x, offset, mask, dcol], 'float32',
        uniforms, dOffset);
    if (g.useMask) {
      webgpu.runWebGPUProgram(new DeformSampleGradProgram(g, rows, 'mask'), [x, offset, dcol], 'float32',
          uniforms, dMask);
    }
    webgpu.runWebGPUProgram(new DeformInputGradProgram(g, rows), [offset, mask, dcol], 'float32', uniforms, dx);
    const col = run(new DeformColumnsProgram(g, rows), [x, offset, mask]);
    const chunkGrad = runBackendKernel(webgpu, BatchMatMul, {a: col, b: dyRows}, {transposeA: true, transposeB: false});
    if (dWeights == null) {
      dWeights = chunkGrad;
    } else {
      const sum = runBackendKernel(webgpu, Add, {a: dWeights, b: chunkGrad});
      disposeAll(webgpu, [dWeights, chunkGrad]);
      dWeights = sum;
    }
    disposeAll(webgpu, [dyRows, dcol, col]);
  }
  webgpu.disposeData(weights.dataId);
  // [groups, Kg, Cout / groups] -> HWIO
  const grouped = g.groups === 1 ? dWeights! : runBackendKernel(webgpu, Transpose, {x: dWeights!}, {perm: [1, 0, 2]});
  const dWeight = runBackendKernel(webgpu, Reshape, {x: grouped}, {shape: weight.shape});
  disposeAll(webgpu, grouped === dWeights ? [dWeights!] : [dWeights!, grouped]);
  return [dx, dOffset, dMask, dWeight];
};
