/**
 * NMS on the webgl backend (WebGL2), all of it on the GPU (nms_gpu.ts): rank,
 * order and the boxes in that order, suppression bitmask [N, N/24] and the
 * greedy scan, 8 words per pass. NmsSortedKeep returns the int32 [N] result (box index per sorted
 * position or -1); Nms reads those N int32 back and returns the kept ones.
 */
import {env, KernelConfig, KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {Nms, NmsAttrs, NmsInputs, NmsSortedKeep} from '../../src/kernel_names';
import {gpuThreshold} from '../nms_gpu_threshold';
import {keptFromSortedKeep} from '../reference/nms';
import {NmsGatherProgram, NmsMaskProgram, NmsOrderProgram, NmsRankProgram, NmsScanProgram, NmsSortedKeepProgram, SCAN_BLOCKS,
  WORD_BITS} from './nms_gpu';

function checkSupport(n: number, words: number) {
  if (env().getNumber('WEBGL_VERSION') !== 2) throw new Error('nms (webgl): needs WebGL2 (integer bit operations)');
  if (!env().getBool('WEBGL_RENDER_FLOAT32_ENABLED')) {
    throw new Error('nms (webgl): needs float32 render targets (24-bit mask words); use the wasm or cpu backend');
  }
  const maxSize = env().getNumber('WEBGL_MAX_TEXTURE_SIZE');
  if (n * words > maxSize * maxSize) {
    throw new Error(`nms (webgl): ${n} boxes need a ${n} x ${words} mask texture, more than this GPU's ` +
        `${maxSize} x ${maxSize}: use fewer boxes or the wasm backend`);
  }
}

function runSortedKeep(webgl: MathBackendWebGL, {boxes, scores, idxs}: NmsInputs, iouThreshold: number): TensorInfo {
  const n = scores.shape[0];
  if (n === 0) return webgl.makeTensorInfo([0], 'int32', new Int32Array(0));
  const words = Math.ceil(n / WORD_BITS);
  checkSupport(n, words);
  const t = gpuThreshold(iouThreshold);
  const rank = webgl.runWebGLProgram(new NmsRankProgram(n), [scores], 'float32', [[n]]);
  const order = webgl.runWebGLProgram(new NmsOrderProgram(n), [rank], 'int32', [[n]]);
  webgl.disposeIntermediateTensorInfo(rank);
  const sorted = webgl.runWebGLProgram(
      new NmsGatherProgram(n, idxs != null), idxs != null ? [boxes, order, idxs] : [boxes, order], 'float32');
  const mask = webgl.runWebGLProgram(new NmsMaskProgram(n, words, idxs != null), [sorted], 'float32',
      [[n], [words], [t.t], [t.exact], [t.mMant], [t.mExp], [t.tOdd], [t.negative], [1]]);
  webgl.disposeIntermediateTensorInfo(sorted);
  let removed = webgl.makeTensorInfo([words], 'float32', new Float32Array(words));
  const scan = new NmsScanProgram(words);
  for (let first = 0; first < words; first += SCAN_BLOCKS) {
    const next = webgl.runWebGLProgram(scan, [mask, removed], 'float32', [[n], [words], [first]]);
    webgl.disposeIntermediateTensorInfo(removed);
    removed = next;
  }
  const keep = webgl.runWebGLProgram(new NmsSortedKeepProgram(n), [removed, order], 'int32');
  [mask, removed, order].forEach(x => webgl.disposeIntermediateTensorInfo(x));
  return keep;
}

export const nmsSortedKeepWebGL: KernelFunc = ({inputs, backend, attrs}) =>
  runSortedKeep(backend as MathBackendWebGL, inputs as NmsInputs, (attrs as unknown as NmsAttrs).iouThreshold);

/** Reads back the N int32 of the scan (synchronously) and keeps the entries >= 0. */
export const nmsWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const webgl = backend as MathBackendWebGL;
  const sortedKeep = runSortedKeep(webgl, inputs as NmsInputs, (attrs as unknown as NmsAttrs).iouThreshold);
  const kept = keptFromSortedKeep(webgl.readSync(sortedKeep.dataId) as Int32Array);
  webgl.disposeIntermediateTensorInfo(sortedKeep);
  return webgl.makeTensorInfo([kept.length], 'int32', kept);
};

export const nmsConfig: KernelConfig = {kernelName: Nms, backendName: 'webgl', kernelFunc: nmsWebGL};
export const nmsSortedKeepConfig: KernelConfig =
    {kernelName: NmsSortedKeep, backendName: 'webgl', kernelFunc: nmsSortedKeepWebGL};
