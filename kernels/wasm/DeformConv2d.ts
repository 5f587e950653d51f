import {TensorInfo, util} from '@tensorflow/tfjs-core';
import {DeformConv2d, DeformConv2dAttrs, DeformConv2dInputs} from '../../src/kernel_names.ts';
import {DEFORM_HEADER, DEFORM_HEADER_WORDS} from '../constants.ts';
import {chunkPositions, columnLength, deformGeometry, DeformGeometry} from '../reference/deform_conv2d.ts';
import {assertFloat32, ExportCall, int32Fields, ModuleKernel, ModuleRunner} from './call.ts';

const padded = (n: number) => (n + 3) & ~3;

/**
 * Floats of scratch (layout in kernels/c/deform_conv2d.c): the header, a zero
 * row, then forward the columns of one chunk; backward also a sink row, 4
 * sums, the column gradient, W^T and one sample's partial dW.
 */
export function deformScratchFloats(g: DeformGeometry, chunk: number, grad: boolean): number {
  const rowLength = columnLength(g);
  const head = DEFORM_HEADER_WORDS + padded(g.channels);
  return grad ? head + padded(g.channels) + 4 + 2 * chunk * rowLength + 2 * g.outChannels * rowLength / g.groups :
      head + chunk * rowLength;
}

/**
 * The scratch of a call, the geometry header its first words (each checked to
 * fit int32). Chunks never span two samples (the kernels restart them at each
 * one): at most one image's positions.
 */
export function deformScratch(g: DeformGeometry, grad: boolean): Pick<ExportCall, 'scratchWords'|'scratchHeader'> {
  const kernel = grad ? 'deform_conv2d_grad' : 'deform_conv2d';
  const chunk = chunkPositions(g.outHeight * g.outWidth, columnLength(g));
  const values: Record<string, number> = {...g, useMask: g.useMask ? 1 : 0, chunk};
  const scratchHeader = int32Fields(kernel, Object.fromEntries(DEFORM_HEADER.map(name => [name, values[name]])));
  return {scratchWords: deformScratchFloats(g, chunk, grad), scratchHeader};
}

export function assertDeformInputs(run: ModuleRunner, kernel: string, inputs: Record<string, TensorInfo>) {
  for (const [name, t] of Object.entries(inputs)) assertFloat32(run, kernel, name, t);
}

/** Per sample, columns per chunk of its positions in the scratch, then an f32x4 GEMM. */
export const deformConv2dModule: ModuleKernel = (run, {inputs, attrs}) => {
  const {x, offset, mask, weight} = inputs as DeformConv2dInputs;
  assertDeformInputs(run, DeformConv2d, {x, offset, mask, weight});
  const g = deformGeometry(x.shape, weight.shape, attrs as unknown as DeformConv2dAttrs);
  const outShape = [g.batch, g.outHeight, g.outWidth, g.outChannels];
  if (util.sizeFromShape(outShape) === 0) return run.zeros(outShape, 'float32');
  return run.run({
    fn: 'deform_conv2d',
    args: [{input: x}, {input: offset}, {input: mask}, {input: weight}, {output: 0}, {scratch: 0}],
    outputs: [{shape: outShape, dtype: 'float32', what: 'deform_conv2d output'}],
    ...deformScratch(g, false),
  }).outputs[0];
};
