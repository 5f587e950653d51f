/**
 * NMS on the webgl backend (WebGL2): the pairs that suppress one another are
 * found on the GPU (nms_gpu.ts) among boxes close in x1 order, as a band of
 * 24-bit words over the x1-sorted boxes; the host reads back that band with
 * the score order and runs the greedy scan (kernels/nms_band.ts). NmsBand
 * returns the band for the ops' async path; Nms reads it synchronously.
 */
import {env, KernelConfig, KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {Nms, NmsAttrs, NmsBand, NmsBandAttrs, NmsInputs} from '../../src/kernel_names.ts';
import {BAND_WORDS, keptFromBand} from '../nms_band.ts';
import {gpuThreshold} from '../nms_gpu_threshold.ts';
import {NmsBandProgram, NmsWindowProgram, NmsXBoxesProgram, NmsXKeyProgram} from './nms_gpu.ts';
import {sortElements} from './nms_sort_gpu.ts';

function checkSupport(n: number, bandWords: number) {
  if (env().getNumber('WEBGL_VERSION') !== 2) throw new Error('nms (webgl): needs WebGL2 (integer bit operations)');
  if (!env().getBool('WEBGL_RENDER_FLOAT32_ENABLED')) {
    throw new Error('nms (webgl): needs float32 render targets (24-bit mask words); use the wasm or cpu backend');
  }
  const maxSize = env().getNumber('WEBGL_MAX_TEXTURE_SIZE');
  if (n * (bandWords + 3) > maxSize * maxSize) {
    throw new Error(`nms (webgl): ${n} boxes need a ${n} x ${bandWords + 3} suppression band texture, more than ` +
        `this GPU's ${maxSize} x ${maxSize}: use fewer boxes or the wasm backend`);
  }
}

function runBand(webgl: MathBackendWebGL, {boxes, scores, idxs}: NmsInputs, iouThreshold: number, bandWords: number) {
  const n = scores.shape[0];
  checkSupport(n, bandWords);
  const t = gpuThreshold(iouThreshold);
  const batched = idxs != null;
  const order = sortElements(webgl, scores, n, 'score');
  const xKeys = webgl.runWebGLProgram(new NmsXKeyProgram(n), [boxes, order], 'float32');
  const xRank = sortElements(webgl, xKeys, n, 'value');
  const xBoxes = webgl.runWebGLProgram(new NmsXBoxesProgram(n, batched),
      batched ? [boxes, order, xRank, idxs] : [boxes, order, xRank], 'float32');
  const ends = webgl.runWebGLProgram(new NmsWindowProgram(n), [xBoxes, xKeys], 'float32',
      [[n], [t.negative], [t.shrink]]);
  const band = webgl.runWebGLProgram(new NmsBandProgram(n, bandWords, batched), [xBoxes, ends, order, xRank],
      'float32', [[n], [bandWords], [t.t], [t.exact], [t.mMant], [t.mExp], [t.tOdd], [t.negative], [1], [t.shrink]]);
  [order, xKeys, xRank, xBoxes, ends].forEach(x => webgl.disposeIntermediateTensorInfo(x));
  return band;
}

export const nmsBandWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const {iouThreshold, bandWords} = attrs as unknown as NmsBandAttrs;
  return runBand(backend as MathBackendWebGL, inputs as NmsInputs, iouThreshold, bandWords);
};

/** Reads the band back synchronously (again, wider, where the first was too narrow) and scans it. */
export const nmsWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const webgl = backend as MathBackendWebGL;
  const n = (inputs as NmsInputs).scores.shape[0];
  let kept: Int32Array | undefined = n === 0 ? new Int32Array(0) : undefined;
  for (let words = BAND_WORDS; kept == null;) {
    const band: TensorInfo = runBand(webgl, inputs as NmsInputs, (attrs as unknown as NmsAttrs).iouThreshold, words);
    const scan = keptFromBand(webgl.readSync(band.dataId) as Float32Array, n, words);
    webgl.disposeIntermediateTensorInfo(band);
    kept = scan.kept;
    words = scan.words ?? words;
  }
  return webgl.makeTensorInfo([kept.length], 'int32', kept);
};

export const nmsConfig: KernelConfig = {kernelName: Nms, backendName: 'webgl', kernelFunc: nmsWebGL};
export const nmsBandConfig: KernelConfig = {kernelName: NmsBand, backendName: 'webgl', kernelFunc: nmsBandWebGL};
