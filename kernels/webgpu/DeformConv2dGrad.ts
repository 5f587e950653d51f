import {Add, BatchMatMul, env, KernelFunc, Reshape, TensorInfo, Transpose} from '@tensorflow/tfjs-core';
import type {WebGPUBackend, WebGPUProgram} from '@tensorflow/tfjs-backend-webgpu';
import {DeformConv2dGrad, DeformConv2dGradAttrs, DeformConv2dGradInputs} from '../../src/kernel_names.ts';
import {checkInputGradIndices, ImageChunk, imageCells, imageChunks} from '../gpu/deform_conv2d.ts';
import {deformGeometry, DeformGeometry} from '../reference/deform_conv2d.ts';
import {cellStartsWebGPU, sortCellsWebGPU} from './cell_sort_webgpu.ts';
import {disposeAll, groupedWeight, runBackendKernel} from './DeformConv2d.ts';
import {
  DeformCellsProgram, DeformColumnsProgram, DeformCornerSumsProgram, DeformInputGradProgram, DeformRowsInProgram,
  DeformSampleGradProgram, DeformSortedSamplesProgram, deformUniforms,
} from './deform_conv2d_webgpu.ts';
import {zerosWebGPU} from './webgpu_util.ts';

/**
 * The backend's BatchMatMul on [batch, ., .] operands, kept off its split-K
 * program: that one adds partial sums with float atomics, in an order that
 * varies run to run (tfjs picks it for batch 1, an inner size of 2000 or
 * more and few 32 x 32 output tiles); the small-output program instead.
 */
export function matMul(webgpu: WebGPUBackend, a: TensorInfo, b: TensorInfo, transposeA: boolean,
    transposeB: boolean): TensorInfo {
  const inner = a.shape[transposeA ? 1 : 2];
  const [m, n] = [a.shape[transposeA ? 2 : 1], b.shape[transposeB ? 1 : 2]];
  const splitK = a.shape[0] === 1 && inner >= 2000 && Math.ceil(m / 32) * Math.ceil(n / 32) <= 32;
  const flag = 'WEBGPU_MATMUL_PROGRAM_TYPE', before = env().get(flag);
  if (splitK) env().set(flag, 2);  // MatMulProgramType.MatMulSmallOutputSizeProgram
  try {
    return runBackendKernel(webgpu, BatchMatMul, {a, b}, {transposeA, transposeB});
  } finally {
    if (splitK) env().set(flag, before);
  }
}

/** Adds the chunk's part of dx (its images) by the cell sort (deform_conv2d_webgpu.ts). */
function addInputGrad(webgpu: WebGPUBackend, g: DeformGeometry, {p0, rows, images}: ImageChunk,
    offset: TensorInfo, mask: TensorInfo, dcol: TensorInfo, dx: TensorInfo) {
  const uniforms = deformUniforms(g, p0, rows);
  const n = rows / images * g.kernelHeight * g.kernelWidth, segments = images * g.offsetGroups;
  const cells = webgpu.runWebGPUProgram(new DeformCellsProgram(segments * n), [offset], 'int32', uniforms);
  const pairs = sortCellsWebGPU(webgpu, cells, n);
  const sorted = webgpu.runWebGPUProgram(new DeformSortedSamplesProgram(segments * n), [offset, mask, pairs],
      'float32', uniforms);
  const starts = cellStartsWebGPU(webgpu, sorted, segments, n, imageCells(g));
  webgpu.runWebGPUProgram(new DeformInputGradProgram(g, images), [sorted, starts, dcol], 'float32', uniforms, dx);
  disposeAll(webgpu, [cells, pairs, sorted, starts]);
}

/**
 * Per chunk of output positions (kernels/gpu/deform_conv2d.ts): dcol = dy W^T
 * and dW += col^T dy by the backend's BatchMatMul (never its split-K program);
 * offset and mask gradients from the samples' corner sums over channels; dx
 * by the cell sort, a deterministic gather.
 */
export const deformConv2dGradWebGPU: KernelFunc = ({inputs, backend, attrs}) => {
  const webgpu = backend as WebGPUBackend;
  const {dy, x, offset, mask, weight} = inputs as DeformConv2dGradInputs;
  const g = deformGeometry(x.shape, weight.shape, attrs as unknown as DeformConv2dGradAttrs);
  const chunks = imageChunks(g);
  const dx = zerosWebGPU(webgpu, x.shape);
  if (chunks.length === 0) {
    return [dx, zerosWebGPU(webgpu, offset.shape), zerosWebGPU(webgpu, mask.shape), zerosWebGPU(webgpu, weight.shape)];
  }
  checkInputGradIndices(`${DeformConv2dGrad} (webgpu)`, g, chunks);
  const dOffset = webgpu.makeTensorInfo(offset.shape, 'float32');
  const dMask = g.useMask ? webgpu.makeTensorInfo(mask.shape, 'float32') : zerosWebGPU(webgpu, mask.shape);
  const weights = groupedWeight(webgpu, weight, g);
  let dWeights: TensorInfo|null = null;
  for (const chunk of chunks) {
    const {p0, rows} = chunk;
    const uniforms = deformUniforms(g, p0, rows);
    const run = (program: WebGPUProgram, programInputs: TensorInfo[]) =>
      webgpu.runWebGPUProgram(program, programInputs, 'float32', uniforms);
    const dyRows = g.groups === 1 && chunks.length === 1 ?
        runBackendKernel(webgpu, Reshape, {x: dy}, {shape: [1, rows, g.outChannels]}) :
        run(new DeformRowsInProgram(g, rows), [dy]);
    const dcol = matMul(webgpu, dyRows, weights, false, true);
    const sums = run(new DeformCornerSumsProgram(g, rows), [x, offset, dcol]);
    webgpu.runWebGPUProgram(new DeformSampleGradProgram(g, rows, 'offset'), [offset, mask, sums], 'float32',
        uniforms, dOffset);
    if (g.useMask) {
      webgpu.runWebGPUProgram(new DeformSampleGradProgram(g, rows, 'mask'), [offset, mask, sums], 'float32',
          uniforms, dMask);
    }
    addInputGrad(webgpu, g, chunk, offset, mask, dcol, dx);
    const col = run(new DeformColumnsProgram(g, rows), [x, offset, mask]);
    const chunkGrad = matMul(webgpu, col, dyRows, true, false);
    if (dWeights == null) {
      dWeights = chunkGrad;
    } else {
      const sum = runBackendKernel(webgpu, Add, {a: dWeights, b: chunkGrad});
      disposeAll(webgpu, [dWeights, chunkGrad]);
      dWeights = sum;
    }
    disposeAll(webgpu, [dyRows, dcol, sums, col]);
  }
  webgpu.disposeData(weights.dataId);
  // [groups, Kg, Cout / groups] -> HWIO
  const grouped = g.groups === 1 ? dWeights! : runBackendKernel(webgpu, Transpose, {x: dWeights!}, {perm: [1, 0, 2]});
  const dWeight = runBackendKernel(webgpu, Reshape, {x: grouped}, {shape: weight.shape});
  disposeAll(webgpu, grouped === dWeights ? [dWeights!] : [dWeights!, grouped]);
  return [dx, dOffset, dMask, dWeight];
};
