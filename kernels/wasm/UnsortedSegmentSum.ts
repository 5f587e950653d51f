import {KernelFunc, TensorInfo, UnsortedSegmentSum, UnsortedSegmentSumAttrs, util}
  from '@tensorflow/tfjs-core';
import {allocOutput, heapOffset, visionOpsWasm, WasmBackendLike} from './module.ts';

/**
 * tfjs's UnsortedSegmentSum (the gradient of gather), which
 * tfjs-backend-wasm 4.22 does not have: out [numSegments, ...x.shape[ids.rank:]],
 * ids outside [0, numSegments) dropped; float32 or int32, zero copy.
 */
export const unsortedSegmentSumWasm: KernelFunc = ({inputs, backend, attrs}) => {
  const b = backend as unknown as WasmBackendLike;
  const {x, segmentIds} = inputs as {x: TensorInfo, segmentIds: TensorInfo};
  const {numSegments} = attrs as unknown as UnsortedSegmentSumAttrs;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`${UnsortedSegmentSum} (wasm): 'x' must be float32 or int32, got ${x.dtype}`);
  }
  if (segmentIds.dtype !== 'int32') {
    throw new Error(`${UnsortedSegmentSum} (wasm): 'segmentIds' must be int32, got ${segmentIds.dtype}`);
  }
  const rows = util.sizeFromShape(segmentIds.shape);
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const inner = util.sizeFromShape(innerShape);
  util.assert(rows * inner === util.sizeFromShape(x.shape),
      () => `${UnsortedSegmentSum} (wasm): segmentIds [${segmentIds.shape}] must lead x [${x.shape}]`);
  const outShape = [numSegments, ...innerShape];
  if (util.sizeFromShape(outShape) === 0) return b.makeOutput(outShape, x.dtype);
  // Nothing to add: the kernel only zeroes out (and reads nothing, so offset 0 is safe).
  const empty = rows * inner === 0;
  const mod = visionOpsWasm(b);
  const out = allocOutput(b, outShape, x.dtype);
  mod.unsorted_segment_sum(empty ? 0 : heapOffset(b, x), empty ? 0 : heapOffset(b, segmentIds), out.offset,
      empty ? 0 : rows, inner, numSegments, x.dtype === 'int32' ? 1 : 0);
  return out.info;
};
