// A short real job, shared by the Node consumers (node-esm, node-cjs, tfjs-node, peers-*):
// nms, roiAlign, the gradient of roiAlign and of a box loss, and (when given) a RoIAlign layer
// inside a functional model that survives a JSON round trip. Values are checked against exact
// expectations and, per backend, against cpu. It imports nothing itself: the consumer passes
// what it imported (tf, the main entry, the layers entry, wasmReady).
'use strict';

const BOXES = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10.5]];
const SCORES = [0.9, 0.8, 0.7, 0.95];
const KEEP = [3, 2];
// x[h][w] = 4h + w is linear, so bilinear sampling is exact: each bin gives f(bin centre).
const ROI_OUT = [3.75, 5.25, 9.75, 11.25];

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
function close(a, b, tol, what) {
  assert(a.length === b.length, `${what}: length ${a.length} != ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    assert(Number.isFinite(a[i]) && Math.abs(a[i] - b[i]) <= tol,
           `${what}[${i}] = ${a[i]}, expected ${b[i]} (all: ${JSON.stringify(Array.from(a))})`);
  }
}

async function onBackend(tf, v, layers, backend) {
  const x = tf.tensor4d(Array.from({length: 16}, (_, i) => i), [1, 4, 4, 1]);
  const rois = tf.tensor2d([[0, 0, 0, 3, 3]]);
  const args = {outputSize: [2, 2], samplingRatio: 2};
  const before = tf.memory().numTensors;

  const keep = tf.tidy(() => v.nms(tf.tensor2d(BOXES), tf.tensor1d(SCORES), 0.5));
  assert(keep.dtype === 'int32', `nms dtype ${keep.dtype}`);
  const keepList = Array.from(await keep.data());
  assert(JSON.stringify(keepList) === JSON.stringify(KEEP), `nms kept ${JSON.stringify(keepList)}, expected ${JSON.stringify(KEEP)}`);
  const [b, s] = [tf.tensor2d(BOXES), tf.tensor1d(SCORES)];
  const keepAsync = await v.nmsAsync(b, s, 0.5);
  tf.dispose([b, s]);
  assert(JSON.stringify(Array.from(await keepAsync.data())) === JSON.stringify(KEEP), 'nmsAsync differs from nms');

  const out = v.roiAlign(x, rois, args);
  assert(JSON.stringify(out.shape) === '[1,2,2,1]', `roiAlign shape ${out.shape}`);
  const roi = Array.from(await out.data());
  close(roi, ROI_OUT, 1e-5, 'roiAlign');

  // Every output is a weighted mean with weights summing to 1: d(sum)/dx sums to 4 outputs.
  const gx = tf.grad(t => v.roiAlign(t, rois, args).sum())(x);
  const gradRoi = Array.from(await gx.data());
  const gsum = gradRoi.reduce((s, g) => s + g, 0);
  assert(Math.abs(gsum - 4) < 1e-4 && gradRoi.every(g => g >= -1e-7), `roiAlign gradient sums to ${gsum}`);

  const pred = tf.tensor2d([[0, 0, 10, 10], [5, 5, 15, 20]]);
  const target = tf.tensor2d([[1, 1, 11, 11], [4, 6, 14, 18]]);
  const gl = tf.grad(p => v.generalizedBoxIouLoss(p, target, {reduction: 'mean'}))(pred);
  const gradLoss = Array.from(await gl.data());
  assert(gradLoss.every(Number.isFinite) && gradLoss.some(g => g !== 0), `loss gradient ${JSON.stringify(gradLoss)}`);

  let layer = null;
  if (layers != null) {
    const pool = new layers.RoIAlign({outputSize: 2, samplingRatio: 2});
    const y = pool.apply([x, rois]);
    close(Array.from(await y.data()), ROI_OUT, 1e-5, 'RoIAlign layer');
    // Functional model, boxes [N, K, 4]; JSON round trip through the serialization registry.
    const xin = tf.input({shape: [4, 4, 1]});
    const bin = tf.input({shape: [1, 4]});
    const model = tf.model({inputs: [xin, bin], outputs: new layers.RoIAlign({outputSize: 2, samplingRatio: 2}).apply([xin, bin])});
    const again = await tf.models.modelFromJSON({modelTopology: model.toJSON(null, false)});
    const boxes3 = tf.tensor3d([[[0, 0, 3, 3]]]);
    const m = again.predict([x, boxes3]);
    assert(JSON.stringify(m.shape) === '[1,1,2,2,1]', `model output shape ${m.shape}`);
    close(Array.from(await m.data()), ROI_OUT, 1e-5, 'reloaded model');
    layer = again.layers.map(l => l.getClassName()).join(',');
    tf.dispose([y, m, boxes3]);
    model.dispose(); again.dispose();
  }
  tf.dispose([keep, keepAsync, out, gx, gl, pred, target]);
  const leaked = tf.memory().numTensors - before;
  tf.dispose([x, rois]);
  return {backend: tf.getBackend(), keep: keepList, roi, gradRoi, gradLoss, layer, leaked};
}

/**
 * tf: a tfjs namespace (umbrella or tfjs-node); v: 'tfjs-vision-ops'; opts.layers: 'tfjs-vision-ops/layers'
 * or null; opts.backends: e.g. ['cpu', 'wasm']; opts.wasmReady: from 'tfjs-vision-ops/wasm'.
 * Resolves to a summary; throws on any mismatch. cpu is always run first as the reference.
 */
async function run(tf, v, opts) {
  const backends = ['cpu', ...opts.backends.filter(b => b !== 'cpu')];
  const results = [];
  for (const backend of backends) {
    assert(await tf.setBackend(backend), `tf.setBackend('${backend}') failed`);
    await tf.ready();
    if (backend === 'wasm') await opts.wasmReady();
    assert(tf.getBackend() === backend, `backend is ${tf.getBackend()}, wanted ${backend}`);
    const r = await onBackend(tf, v, backend === 'cpu' || opts.layersEverywhere ? opts.layers : null, backend);
    results.push(r);
    if (r.leaked > 0) throw new Error(`${backend}: ${r.leaked} tensors leaked`);
  }
  const cpu = results[0];
  for (const r of results.slice(1)) {
    close(r.gradRoi, cpu.gradRoi, 1e-5, `${r.backend} roiAlign gradient vs cpu`);
    close(r.gradLoss, cpu.gradLoss, 1e-4, `${r.backend} loss gradient vs cpu`);
  }
  return {backends: results.map(r => r.backend), keep: cpu.keep, roi: cpu.roi, layer: cpu.layer,
          tfjsCore: tf.version_core ?? (tf.version && tf.version['tfjs-core'])};
}

module.exports = {run, KEEP, ROI_OUT};
