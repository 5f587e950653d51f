/**
 * NMS on the webgl backend (WebGL2): the pairs that suppress one another are
 * found on the GPU (nms_gpu.ts) among boxes close in x1 order, as a band of
 * 24-bit words over the x1-sorted boxes; the host reads back that band with
 * the score order and runs the greedy scan (nms_band.ts). The sync kernel
 * reads the band with readSync, the async one awaits it.
 */
import {env, KernelFunc} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {NmsAttrs, NmsInputs} from '../../src/kernel_names.ts';
import type {AsyncKernelFunc} from '../../src/ops/run_kernel.ts';
import {gpuThreshold} from '../gpu/nms_threshold.ts';
import {scanBand, scanBandAsync} from './nms_band.ts';
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

/** Reads the band back synchronously and scans it. */
export const nmsWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const webgl = backend as MathBackendWebGL;
  const kept = scanBand((inputs as NmsInputs).scores.shape[0], words => {
    const band = runBand(webgl, inputs as NmsInputs, (attrs as unknown as NmsAttrs).iouThreshold, words);
    try {
      return webgl.readSync(band.dataId) as Float32Array;
    } finally {
      webgl.disposeIntermediateTensorInfo(band);
    }
  });
  return webgl.makeTensorInfo([kept.length], 'int32', kept);
};

/** Awaits the band's readback, so nothing blocks while the GPU works. */
export const nmsAsyncWebGL: AsyncKernelFunc = async ({inputs, backend, attrs}) => {
  const webgl = backend as MathBackendWebGL;
  const kept = await scanBandAsync((inputs as NmsInputs).scores.shape[0], async words => {
    const band = runBand(webgl, inputs as NmsInputs, (attrs as unknown as NmsAttrs).iouThreshold, words);
    try {
      return await webgl.read(band.dataId) as Float32Array;
    } finally {
      webgl.disposeIntermediateTensorInfo(band);
    }
  });
  return webgl.makeTensorInfo([kept.length], 'int32', kept);
};
