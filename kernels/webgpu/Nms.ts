/**
 * NMS on the webgpu backend, all of it on the GPU (nms_webgpu.ts): order,
 * suppression bitmask [N, N/32] u32 and the greedy scan. NmsSortedKeep
 * returns the int32 [N] result of the scan (box index per sorted position or
 * -1), which nmsAsync reads back (N int32) to keep the entries >= 0.
 */
import {KernelConfig, KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import type {WebGPUBackend} from '@tensorflow/tfjs-backend-webgpu';
import {Nms, NmsAttrs, NmsInputs, NmsSortedKeep} from '../../src/kernel_names';
import {gpuThreshold} from '../nms_gpu_threshold';
import {NmsMaskProgram, NmsOrderProgram, NmsScanProgram, SCAN_WORDS, WORD_BITS} from './nms_webgpu';

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
  const order = backend.runWebGPUProgram(new NmsOrderProgram(n), [scores], 'int32', [{type: 'int32', data: [n]}]);
  const mask = backend.runWebGPUProgram(
      new NmsMaskProgram(n, words, idxs != null), idxs != null ? [boxes, order, idxs] : [boxes, order], 'int32', [
        {type: 'int32', data: [n]}, {type: 'int32', data: [words]}, {type: 'float32', data: [t.t]},
        {type: 'int32', data: [t.exact]}, {type: 'int32', data: [t.mMant]}, {type: 'int32', data: [t.mExp]},
        {type: 'int32', data: [t.tOdd]}, {type: 'int32', data: [t.negative]}, {type: 'float32', data: [1]},
      ]);
  const keep = backend.runWebGPUProgram(new NmsScanProgram(n), [mask, order], 'int32',
      [{type: 'int32', data: [n]}, {type: 'int32', data: [words]}]);
  backend.disposeData(order.dataId);
  backend.disposeData(mask.dataId);
  return keep;
}

export const nmsSortedKeepWebGPU: KernelFunc = ({inputs, backend, attrs}) =>
  runSortedKeep(backend as WebGPUBackend, inputs as NmsInputs, (attrs as unknown as NmsAttrs).iouThreshold);

/**
 * Synchronous readback is not supported on webgpu (it breaks the device on
 * SwiftShader): the op throws first; this names the fix when called directly.
 */
export const nmsWebGPU: KernelFunc = () => {
  throw new Error(`${Nms} (webgpu): synchronous readback is not supported on webgpu; use nmsAsync / batchedNmsAsync`);
};

export const nmsConfig: KernelConfig = {kernelName: Nms, backendName: 'webgpu', kernelFunc: nmsWebGPU};
export const nmsSortedKeepConfig: KernelConfig =
    {kernelName: NmsSortedKeep, backendName: 'webgpu', kernelFunc: nmsSortedKeepWebGPU};
