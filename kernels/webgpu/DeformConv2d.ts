import {BatchMatMul, getKernel, KernelFunc, NamedAttrMap, Reshape, TensorInfo, Transpose, util} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {DeformConv2dAttrs, DeformConv2dInputs} from '../../src/kernel_names.ts';
import {chunkPositions, columnLength, deformGeometry, DeformGeometry} from '../reference/deform_conv2d.ts';
import {DeformColumnsProgram, deformUniforms, DeformRowsOutProgram} from './deform_conv2d_webgpu.ts';
import {zerosWebGPU} from './webgpu_util.ts';

/** Runs one of the webgpu backend's own kernels on TensorInfos (the caller disposes the result). */
export function runBackendKernel(
    backend: WebGPUBackend, name: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
  const kernel = getKernel(name, 'webgpu');
  if (kernel == null) throw new Error(`kernel ${name} is not registered for backend 'webgpu'`);
  return kernel.kernelFunc({inputs, backend, attrs}) as TensorInfo;
}

export function disposeAll(backend: WebGPUBackend, infos: TensorInfo[]) {
  for (const t of infos) backend.disposeData(t.dataId);
}

/** HWIO weight [KH, KW, Cg, Cout] as [groups, Kg, Cout / groups] for a batched matmul per weight group. */
export function groupedWeight(backend: WebGPUBackend, weight: TensorInfo, g: DeformGeometry): TensorInfo {
  const kg = columnLength(g) / g.groups, cog = g.outChannels / g.groups;
  if (g.groups === 1) return runBackendKernel(backend, Reshape, {x: weight}, {shape: [1, kg, cog]});
  const split = runBackendKernel(backend, Reshape, {x: weight}, {shape: [kg, g.groups, cog]});
  const grouped = runBackendKernel(backend, Transpose, {x: split}, {perm: [1, 0, 2]});
  backend.disposeData(split.dataId);
  return grouped;
}

/** Chunks [p0, p0 + rows) of the output positions (chunkPositions of the reference). */
export function positionChunks(g: DeformGeometry): Array<[number, number]> {
  const positions = g.batch * g.outHeight * g.outWidth;
  const chunk = chunkPositions(positions, columnLength(g));
  const chunks: Array<[number, number]> = [];
  for (let p0 = 0; p0 < positions; p0 += chunk) chunks.push([p0, Math.min(chunk, positions - p0)]);
  return chunks;
}

/** Per chunk: a columns program, the backend's BatchMatMul, and its rows written into the output. */
export const deformConv2dWebGPU: KernelFunc = ({inputs, backend, attrs}) => {
  const webgpu = backend as WebGPUBackend;
  const {x, offset, mask, weight} = inputs as DeformConv2dInputs;
  const g = deformGeometry(x.shape, weight.shape, attrs as unknown as DeformConv2dAttrs);
  const outShape = [g.batch, g.outHeight, g.outWidth, g.outChannels];
  if (util.sizeFromShape(outShape) === 0) return zerosWebGPU(webgpu, outShape);
  const weights = groupedWeight(webgpu, weight, g);
  const chunks = positionChunks(g);
  const columns = (p0: number, rows: number) => webgpu.runWebGPUProgram(
      new DeformColumnsProgram(g, rows), [x, offset, mask], 'float32', deformUniforms(g, p0, rows));
  let out: TensorInfo;
  if (chunks.length === 1 && g.groups === 1) {
    const col = columns(0, chunks[0][1]);
    const product = runBackendKernel(webgpu, BatchMatMul, {a: col, b: weights});
    out = runBackendKernel(webgpu, Reshape, {x: product}, {shape: outShape});
    disposeAll(webgpu, [col, product]);
  } else {
    out = webgpu.makeTensorInfo(outShape, 'float32');
    for (const [p0, rows] of chunks) {
      const col = columns(p0, rows);
      const product = runBackendKernel(webgpu, BatchMatMul, {a: col, b: weights});
      webgpu.runWebGPUProgram(new DeformRowsOutProgram(g, rows), [product], 'float32', deformUniforms(g, p0, rows), out);
      disposeAll(webgpu, [col, product]);
    }
  }
  webgpu.disposeData(weights.dataId);
  return out;
};
