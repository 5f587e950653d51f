import {KernelFunc, TensorInfo, util} from '@tensorflow/tfjs-core';
import {PsRoiAlignAttrs, psRoiAlignKernel, RoiAlignAttrs, RoiAlignInputs, roiAlignKernel} from '../../src/kernel_names.ts';
import {attrArgs} from './args.ts';
import {allocOutput, assertFloat32, heapOffset, int32Fields, visionOpsWasm, WasmBackendLike} from './module.ts';

/**
 * Runs roi_align(_grad) or ps_roi_align(_grad) of our module on the heap, zero
 * copy, with a scratch buffer for the per-RoI taps (a tensor the backend
 * allocates and frees: the module itself never allocates). Layout in
 * assembly/roi_align.ts.
 */
export function runRoiAlignWasm(
    b: WasmBackendLike, kernel: 'roi_align'|'roi_align_grad'|'ps_roi_align'|'ps_roi_align_grad',
    decl: typeof roiAlignKernel | typeof psRoiAlignKernel, input: TensorInfo, boxes: TensorInfo,
    outShape: number[], xShape: number[], p: PsRoiAlignAttrs): TensorInfo {
  const grad = kernel.endsWith('_grad');
  assertFloat32(kernel, grad ? 'dy' : 'x', input);
  assertFloat32(kernel, 'boxes', boxes);
  if (util.sizeFromShape(outShape) === 0) return b.makeOutput(outShape, 'float32');
  const mod = visionOpsWasm(b);
  const [batch, height, width, channels] = xShape;
  const {pooledHeight, pooledWidth, samplingRatio: sr} = p;
  const maxRowTaps = Math.max(1, sr > 0 ? Math.min(height, 2 * sr) : height);
  const maxColTaps = Math.max(1, sr > 0 ? Math.min(width, 2 * sr) : width);
  const scratchWords = height + width + pooledHeight * (1 + 2 * maxRowTaps) +
      pooledWidth * (1 + 2 * maxColTaps) + 2 * maxRowTaps * maxColTaps;
  const ints = int32Fields(kernel, {batch, height, width, channels, numBoxes: boxes.shape[0], maxRowTaps, maxColTaps});
  const args = attrArgs(kernel, decl, p);
  const out = allocOutput(b, outShape, 'float32', `${kernel} output`);
  let scratch;
  try {
    scratch = allocOutput(b, [scratchWords], 'float32', `${kernel} scratch`);
  } catch (e) {
    b.disposeData(out.info.dataId);
    throw e;
  }
  // With no boxes, dy and boxes have no heap data; nothing reads them then.
  const offset = (t: TensorInfo) => util.sizeFromShape(t.shape) === 0 ? 0 : heapOffset(b, t);
  try {
    mod[kernel](offset(input), offset(boxes), out.offset, scratch.offset, ...ints, ...args);
  } finally {
    b.disposeData(scratch.info.dataId);
  }
  return out.info;
}

export const roiAlignWasm: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as RoiAlignInputs;
  const p = attrs as unknown as RoiAlignAttrs;
  const outShape = [boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3]];
  return runRoiAlignWasm(backend as unknown as WasmBackendLike, 'roi_align', roiAlignKernel, x, boxes, outShape, x.shape, p);
};
