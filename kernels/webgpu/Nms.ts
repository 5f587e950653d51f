/**
 * NMS on the webgpu backend, all of it on the GPU (nms_webgpu.ts): score
 * order, suppression bitmask [N, N/32] u32 from the pairs that overlap along
 * x, and the greedy scan. The scan's int32 [N] result (box index per sorted position or -1)
 * is all that is read back (awaited: the async kernel), to keep the entries >= 0.
 */
import {KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {Nms, NmsAttrs, NmsInputs} from '../../src/kernel_names.ts';
import type {AsyncKernelFunc} from '../../src/ops/run_kernel.ts';
import {gpuThreshold} from '../gpu/nms_threshold.ts';
import {NmsScanProgram, SCAN_WORDS} from './nms_scan_webgpu.ts';
import {NmsByXProgram, NmsClearProgram, NmsDenseMaskProgram, NmsPairProgram, WORD_BITS} from './nms_webgpu.ts';
import {NmsSortChunkProgram, sortPairs} from './nms_sort_webgpu.ts';

function runSortedKeep(backend: WebGPUBackend, {boxes, scores, idxs}: NmsInputs, iouThreshold: number): TensorInfo {
  const n = scores.shape[0];
  if (n === 0) return backend.makeTensorInfo([0], 'int32', new Int32Array(0));
  const words = Math.ceil(n / WORD_BITS);
  const maskBytes = 4 * n * words;
  const limit = backend.device.limits.maxStorageBufferBindingSize;
  if (words > SCAN_WORDS || maskBytes > limit) {
    throw new Error(`nms (webgpu): ${n} boxes need a ${n} x ${words} word suppression mask ` +
        `(${(maskBytes / 2 ** 20).toFixed(0)} MiB; this device binds at most ${(limit / 2 ** 20).toFixed(0)} MiB, ` +
        `and the scan handles at most ${SCAN_WORDS * WORD_BITS} boxes): use fewer boxes or the wasm backend`);
  }
  const t = gpuThreshold(iouThreshold);
  const batched = idxs != null;
  const int = (v: number) => ({type: 'int32', data: [v]});
  const uniforms = [int(n), int(words), {type: 'float32', data: [t.t]}, int(t.exact), int(t.mMant), int(t.mExp),
    int(t.tOdd), int(t.negative), {type: 'float32', data: [1]}, {type: 'float32', data: [t.shrink]}];
  const order = sortPairs(backend, new NmsSortChunkProgram(n, 'score'), [scores], n);
  let mask: TensorInfo;
  if (t.negative) {
    mask = backend.runWebGPUProgram(new NmsDenseMaskProgram(n, words, batched),
        batched ? [boxes, order, idxs] : [boxes, order], 'int32', uniforms);
  } else {
    const xPairs = sortPairs(backend, new NmsSortChunkProgram(n, 'x1'), [order, boxes], n);
    const byX = backend.runWebGPUProgram(new NmsByXProgram(n, batched),
        batched ? [xPairs, order, boxes, idxs] : [xPairs, order, boxes], 'int32', [int(n)]);
    backend.disposeData(xPairs.dataId);
    mask = backend.runWebGPUProgram(new NmsClearProgram(n, words), [], 'int32', [int(n), int(words)]);
    backend.runWebGPUProgram(new NmsPairProgram(n, batched), [byX], 'int32', uniforms, mask);
    backend.disposeData(byX.dataId);
  }
  const keep = backend.runWebGPUProgram(new NmsScanProgram(n), [mask, order], 'int32', [int(n), int(words)]);
  backend.disposeData(order.dataId);
  backend.disposeData(mask.dataId);
  return keep;
}

/** The kept indices of a scan result (box index or -1 per sorted position). */
function keptFromSortedKeep(sortedKeep: ArrayLike<number>): Int32Array {
  let count = 0;
  for (let p = 0; p < sortedKeep.length; p++) if (sortedKeep[p] >= 0) count++;
  const keep = new Int32Array(count);
  for (let p = 0, k = 0; p < sortedKeep.length; p++) if (sortedKeep[p] >= 0) keep[k++] = sortedKeep[p];
  return keep;
}

/** Awaits the N int32 of the scan, the only readback. */
export const nmsAsyncWebGPU: AsyncKernelFunc = async ({inputs, backend, attrs}) => {
  const webgpu = backend as WebGPUBackend;
  const sortedKeep = runSortedKeep(webgpu, inputs as NmsInputs, (attrs as unknown as NmsAttrs).iouThreshold);
  try {
    const kept = keptFromSortedKeep(await webgpu.read(sortedKeep.dataId) as Int32Array);
    return webgpu.makeTensorInfo([kept.length], 'int32', kept);
  } finally {
    webgpu.disposeData(sortedKeep.dataId);
  }
};

/** Synchronous readback is not supported on webgpu (it breaks the device on SwiftShader). */
export const nmsWebGPU: KernelFunc = () => {
  throw new Error(`${Nms} (webgpu): synchronous readback is not supported on webgpu; use nmsAsync / batchedNmsAsync`);
};
