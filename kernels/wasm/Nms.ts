import {KernelFunc} from '@tensorflow/tfjs-core';
import {Nms, NmsInputs, nmsKernel} from '../../src/kernel_names.ts';
import {allocOutput, assertFloat32, backendMemory, heapOffset, visionOpsWasm, WasmBackendLike} from './module.ts';
import {attrArgs} from './args.ts';

/**
 * Runs nms of our module on the heap: boxes, scores and idxs are read in
 * place; the sort, the grid and the kept list live in one scratch tensor,
 * from which the kept indices are copied into an output of their size.
 */
export const nmsWasm: KernelFunc = ({inputs, backend, attrs}) => {
  const b = backend as unknown as WasmBackendLike;
  const {boxes, scores, idxs} = inputs as NmsInputs;
    assertFloat32(Nms, 'boxes', boxes);
  assertFloat32(Nms, 'scores', scores);
  if (idxs != null && idxs.dtype !== 'int32') throw new Error(`${Nms} (wasm): 'idxs' must be int32, got ${idxs.dtype}`);
  const n = scores.shape[0];
  if (n === 0) return b.makeOutput([0], 'int32');
  const mod = visionOpsWasm(b);
  const scratch = allocOutput(b, [mod.nms_scratch_words(n) + n], 'int32');
  try {
    const out = scratch.offset + 4 * mod.nms_scratch_words(n);
    const count = mod.nms(heapOffset(b, boxes), heapOffset(b, scores), idxs == null ? 0 : heapOffset(b, idxs),
        idxs == null ? 0 : 1, n, scratch.offset, out, ...attrArgs(Nms, nmsKernel, attrs!));
    const result = allocOutput(b, [count], 'int32');
    const heap = new Int32Array(backendMemory(b).buffer);
    heap.copyWithin(result.offset >> 2, out >> 2, (out >> 2) + count);
    return result.info;
  } finally {
    b.disposeData(scratch.info.dataId);
  }
};
