import {TensorInfo, UnsortedSegmentSum, UnsortedSegmentSumAttrs, util} from '@tensorflow/tfjs-core';
import {ModuleKernel} from './call.ts';

/**
 * tfjs's UnsortedSegmentSum (the gradient of gather), which
 * tfjs-backend-wasm 4.22 does not have: out [numSegments, ...x.shape[ids.rank:]],
 * ids outside [0, numSegments) dropped; float32 or int32.
 */
export const unsortedSegmentSumModule: ModuleKernel = (run, {inputs, attrs}) => {
  const {x, segmentIds} = inputs as {x: TensorInfo, segmentIds: TensorInfo};
  const {numSegments} = attrs as unknown as UnsortedSegmentSumAttrs;
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`${UnsortedSegmentSum} (${run.backendName}): 'x' must be float32 or int32, got ${x.dtype}`);
  }
  if (segmentIds.dtype !== 'int32') {
    throw new Error(`${UnsortedSegmentSum} (${run.backendName}): 'segmentIds' must be int32, got ${segmentIds.dtype}`);
  }
  const rows = util.sizeFromShape(segmentIds.shape);
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const inner = util.sizeFromShape(innerShape);
  util.assert(rows * inner === util.sizeFromShape(x.shape),
      () => `${UnsortedSegmentSum} (${run.backendName}): segmentIds [${segmentIds.shape}] must lead x [${x.shape}]`);
  const outShape = [numSegments, ...innerShape];
  if (util.sizeFromShape(outShape) === 0) return run.zeros(outShape, x.dtype);
  // Nothing to add (empty x): the kernel only zeroes out and reads nothing.
  const empty = rows * inner === 0;
  return run.run({
    fn: 'unsorted_segment_sum',
    args: [{input: x}, {input: segmentIds}, {output: 0}, empty ? 0 : rows, inner, numSegments, x.dtype === 'int32' ? 1 : 0],
    outputs: [{shape: outShape, dtype: x.dtype, what: 'unsorted_segment_sum output'}],
  }).outputs[0];
};
