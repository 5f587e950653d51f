import {KernelFunc, TensorInfo, util} from '@tensorflow/tfjs-core';
import {DeformConv2d, DeformConv2dAttrs, DeformConv2dInputs} from '../../src/kernel_names.ts';
import {DEFORM_HEADER, DEFORM_HEADER_WORDS} from '../constants.ts';
import {chunkPositions, columnLength, deformGeometry, DeformGeometry} from '../reference/deform_conv2d.ts';
import {allocOutput, assertFloat32, backendMemory, heapOffset, int32Fields, visionOpsWasm, WasmBackendLike} from './module.ts';

const padded = (n: number) => (n + 3) & ~3;

/**
 * Floats of scratch: the header, a zero row, then forward the columns of one
 * chunk; backward also a sink row, 4 sums, the column gradient and W^T.
 */
export function deformScratchFloats(g: DeformGeometry, chunk: number, grad: boolean): number {
  const rowLength = columnLength(g);
  const head = DEFORM_HEADER_WORDS + padded(g.channels);
  return grad ? head + padded(g.channels) + 4 + 2 * chunk * rowLength + g.outChannels * rowLength / g.groups :
      head + chunk * rowLength;
}

/**
 * A scratch tensor on the heap with the geometry header written (the module
 * never allocates); every header word is checked to fit int32 first.
 */
export function deformScratch(b: WasmBackendLike, g: DeformGeometry, grad: boolean) {
  const kernel = grad ? 'deform_conv2d_grad' : 'deform_conv2d';
  const chunk = chunkPositions(g.batch * g.outHeight * g.outWidth, columnLength(g));
  const values: Record<string, number> = {...g, useMask: g.useMask ? 1 : 0, chunk};
  const header = int32Fields(kernel, Object.fromEntries(DEFORM_HEADER.map(name => [name, values[name]])));
  const scratch = allocOutput(b, [deformScratchFloats(g, chunk, grad)], 'float32', `${kernel} scratch`);
  new Int32Array(backendMemory(b).buffer, scratch.offset, DEFORM_HEADER_WORDS).set(header);
  return scratch;
}

/** Heap offset, or 0 for an empty tensor (which has no heap data; nothing reads it). */
export function dataOffset(b: WasmBackendLike, t: TensorInfo) {
  return util.sizeFromShape(t.shape) === 0 ? 0 : heapOffset(b, t);
}

export function assertDeformInputs(kernel: string, inputs: Record<string, TensorInfo>) {
  for (const [name, t] of Object.entries(inputs)) assertFloat32(kernel, name, t);
}

/** Zero copy: columns per chunk of positions in a scratch tensor, then an f32x4 GEMM. */
export const deformConv2dWasm: KernelFunc = ({inputs, backend, attrs}) => {
  const b = backend as unknown as WasmBackendLike;
  const {x, offset, mask, weight} = inputs as DeformConv2dInputs;
  assertDeformInputs(DeformConv2d, {x, offset, mask, weight});
  const g = deformGeometry(x.shape, weight.shape, attrs as unknown as DeformConv2dAttrs);
  const outShape = [g.batch, g.outHeight, g.outWidth, g.outChannels];
  if (util.sizeFromShape(outShape) === 0) return b.makeOutput(outShape, 'float32');
  // Instantiate before allocating, so that a not-ready error leaks nothing.
  const mod = visionOpsWasm(b);
  const out = allocOutput(b, outShape, 'float32', 'deform_conv2d output');
  let scratch;
  try {
    scratch = deformScratch(b, g, false);
  } catch (e) {
    b.disposeData(out.info.dataId);
    throw e;
  }
  try {
    mod.deform_conv2d(heapOffset(b, x), heapOffset(b, offset), heapOffset(b, mask), heapOffset(b, weight),
        out.offset, scratch.offset);
  } finally {
    b.disposeData(scratch.info.dataId);
  }
  return out.info;
};
