// The browser consumer bundled by webpack, vite and esbuild: tfjs-core with the cpu, webgl and
// wasm backends, the .wasm files served next to the page (setWasmPaths), and this package's
// main entry plus its webgl and wasm kernels. ?backend=webgl|wasm picks the backend; the page
// computes nms, roiAlign and roiAlign's gradient on cpu and on that backend and compares them
// with the exact values and with each other. The verdict lands in window.__result.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import {setWasmPaths} from '@tensorflow/tfjs-backend-wasm';
import {nms, nmsAsync, roiAlign} from 'tfjs-vision-ops';
import 'tfjs-vision-ops/webgl';
import {wasmReady} from 'tfjs-vision-ops/wasm';

const KEEP = [3, 2];
const ROI_OUT = [3.75, 5.25, 9.75, 11.25];

setWasmPaths(new URL('wasm/', location.href).href);

async function job() {
  const boxes = tf.tensor2d([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10.5]]);
  const scores = tf.tensor1d([0.9, 0.8, 0.7, 0.95]);
  const x = tf.tensor4d(Array.from({length: 16}, (_, i) => i), [1, 4, 4, 1]);
  const rois = tf.tensor2d([[0, 0, 0, 3, 3]]);
  const args = {outputSize: [2, 2], samplingRatio: 2};
  const keep = Array.from(await nms(boxes, scores, 0.5).data());
  const keepAsync = Array.from(await (await nmsAsync(boxes, scores, 0.5)).data());
  const roi = Array.from(await roiAlign(x, rois, args).data());
  // tf.sum, not .sum(): tfjs-core alone does not register the chained ops.
  const grad = Array.from(await tf.grad(t => tf.sum(roiAlign(t, rois, args)))(x).data());
  return {backend: tf.getBackend(), keep, keepAsync, roi, grad};
}

function same(a, b, tol) {
  return a.length === b.length && a.every((v, i) => Number.isFinite(v) && Math.abs(v - b[i]) <= tol);
}

async function main() {
  const backend = new URLSearchParams(location.search).get('backend');
  await tf.setBackend('cpu');
  const cpu = await job();
  if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
  await tf.ready();
  if (backend === 'wasm') await wasmReady();
  const got = await job();
  const problems = [];
  if (got.backend !== backend) problems.push(`backend is ${got.backend}`);
  for (const r of [cpu, got]) {
    if (!same(r.keep, KEEP, 0)) problems.push(`${r.backend} nms ${JSON.stringify(r.keep)}`);
    if (!same(r.keepAsync, KEEP, 0)) problems.push(`${r.backend} nmsAsync ${JSON.stringify(r.keepAsync)}`);
    if (!same(r.roi, ROI_OUT, 1e-4)) problems.push(`${r.backend} roiAlign ${JSON.stringify(r.roi)}`);
  }
  if (Math.abs(cpu.grad.reduce((s, g) => s + g, 0) - 4) > 1e-4) problems.push(`cpu gradient ${JSON.stringify(cpu.grad)}`);
  if (!same(got.grad, cpu.grad, 1e-4)) problems.push(`${backend} gradient ${JSON.stringify(got.grad)} vs cpu ${JSON.stringify(cpu.grad)}`);
  let flavour = '';
  if (backend === 'webgl') {
    flavour = `WebGL ${tf.env().getNumber('WEBGL_VERSION')}`;
  } else if (backend === 'wasm') {
    flavour = `${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'threaded ' : ''}` +
        `${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'simd' : 'scalar'}, crossOriginIsolated=${self.crossOriginIsolated}`;
  }
  return {ok: problems.length === 0, detail: problems.length ? problems.join('; ') : `${backend} (${flavour}) = cpu = expected`};
}

main().then(r => { window.__result = r; },
            e => { window.__result = {ok: false, detail: `threw: ${e && e.stack || e}`}; });
