/**
 * The demo page: a real detection post-processing pipeline on the backend
 * chosen in the page. Candidate windows are scored by how much more saturated
 * they are than the ring around them and how close their mean colour is to one class (roiAlign averages), grouped by dominant
 * colour, filtered with batchedNms and cropped with roiAlign.
 * `?backend=wasm&autorun=1` selects and runs at load; the result is left in
 * `window.demoResult` for the end-to-end test.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import {setWasmPaths} from '@tensorflow/tfjs-backend-wasm';
import * as vision from '../../src/index';
import {wasmReady} from '../../kernels/wasm/register';
import '../../kernels/webgl/register';
import '../../kernels/webgpu/register';

const PRE_NMS_TOP = 1000, IOU = 0.3, MIN_SCORE = 0.29, MAX_DETECTIONS = 8, CROP = 48;
/** Colour classes: red, green, blue, yellow (RGB in [0, 1]). */
const PROTOTYPES = [[0.78, 0.15, 0.15], [0.15, 0.68, 0.22], [0.15, 0.3, 0.78], [0.8, 0.7, 0.15]];
const COLOURS = ['#ff5050', '#40d040', '#5080ff', '#f0d020'];

interface DetectorResult {
  boxes: number[][]; labels: number[]; scores: number[]; timings: Record<string, number>;
}

interface DemoResult {
  backend: string; boxes: number[][]; classes: number[]; scores: number[];
  cropMeans: number[]; timings: Record<string, number>;
  /** The Faster R-CNN's detections (score >= DETECTOR_MIN_SCORE), or why it did not run. */
  detector: DetectorResult|{missing: string};
}

/** What examples/train_detector.mjs writes beside the weights. */
interface DetectorConfig { builder: string; options: vision.FasterRCNNOptions; classNames: string[]; steps: number; }

const DETECTOR_MIN_SCORE = 0.5;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function candidateWindows(width: number, height: number): number[][] {
  const boxes: number[][] = [];
  for (const size of [32, 48, 64, 80, 96]) {
    for (const aspect of [0.5, 1, 2]) {
      const w = size * Math.sqrt(aspect), h = size / Math.sqrt(aspect);
      for (let y = 0; y + h <= height; y += 8) {
        for (let x = 0; x + w <= width; x += 8) boxes.push([x, y, x + w, y + h]);
      }
    }
  }
  return boxes;
}

async function timed<T extends tf.Tensor | tf.Tensor[]>(
    timings: Record<string, number>, name: string, fn: () => T | Promise<T>): Promise<T> {
  const start = performance.now();
  const out = await fn();
  for (const t of Array.isArray(out) ? out : [out]) await t.data();
  timings[name] = performance.now() - start;
  return out;
}

/** Reads and disposes a tensor. */
async function read(t: tf.Tensor) {
  const values = await t.data();
  t.dispose();
  return values;
}

async function loadImage(): Promise<HTMLImageElement> {
  const img = new Image();
  img.src = 'sample.png';
  await img.decode();
  return img;
}

async function run(backend: string, img: HTMLImageElement): Promise<DemoResult> {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} is not available here`);
  if (backend === 'wasm') await wasmReady();
  const timings: Record<string, number> = {};
  const image = tf.tidy(() => tf.div(tf.cast(tf.browser.fromPixels(img), 'float32'), 255));
  const [height, width] = image.shape;
  const windows = tf.tensor2d(candidateWindows(width, height));
  const rois = tf.concat([tf.zeros([windows.shape[0], 1]), windows], 1) as tf.Tensor2D;

  const [scores, classes] = await timed(timings, 'score windows (roiAlign x2)', () => tf.tidy(() => {
    const batch = tf.expandDims(image, 0) as tf.Tensor4D;
    const saturation = tf.sub(tf.max(batch, 3, true), tf.min(batch, 3, true)) as tf.Tensor4D;
    const inside = tf.mean(vision.roiAlign(saturation, rois, {outputSize: 4, samplingRatio: 2}), [1, 2, 3]);
    const [x1, y1, x2, y2] = tf.unstack(windows, 1);
    const [cx, cy, hw, hh] = [tf.div(tf.add(x1, x2), 2), tf.div(tf.add(y1, y2), 2),
      tf.mul(tf.sub(x2, x1), 0.65), tf.mul(tf.sub(y2, y1), 0.65)];
    const contextBoxes = tf.stack([tf.zeros([windows.shape[0]]), tf.sub(cx, hw), tf.sub(cy, hh),
      tf.add(cx, hw), tf.add(cy, hh)], 1) as tf.Tensor2D;
    const context = tf.mean(vision.roiAlign(saturation, contextBoxes, {outputSize: 4, samplingRatio: 2}), [1, 2, 3]);
    // Mean of the ring around the window: the context box (1.3x) minus the window.
    const ring = tf.div(tf.sub(tf.mul(context, 1.69), inside), 0.69);
    const colour = tf.mean(vision.roiAlign(batch, rois, {outputSize: 2, samplingRatio: 2}), [1, 2]);
    const distance = tf.sum(tf.square(tf.sub(tf.expandDims(colour, 1), PROTOTYPES)), 2);
    // Windows over two objects have a mixed mean colour, far from every prototype.
    const impurity = tf.sqrt(tf.min(distance, 1));
    return [tf.sub(tf.sub(inside, tf.mul(ring, 2)), impurity), tf.argMin(distance, 1)];
  }));

  const top = await timed(timings, 'pre-NMS top-k', () => tf.topk(scores, PRE_NMS_TOP).indices);
  const keep = await timed(timings, 'batchedNms', () => vision.batchedNmsAsync(
      tf.gather(windows, top) as tf.Tensor2D, tf.gather(scores, top) as tf.Tensor1D,
      tf.gather(classes, top) as tf.Tensor1D, IOU));
  const kept = tf.tidy(() => tf.gather(top, keep));
  const keptScores = Array.from(await read(tf.gather(scores, kept)));
  const chosen = keptScores.map((s, i) => [s, i]).filter(([s]) => s >= MIN_SCORE).slice(0, MAX_DETECTIONS);
  const chosenIdx = tf.tidy(() => tf.gather(kept, tf.tensor1d(chosen.map(([, i]) => i), 'int32')));
  const boxes = tf.gather(windows, chosenIdx) as tf.Tensor2D;
  const crops = await timed(timings, 'crops (roiAlign 48x48)', () => vision.roiAlign(
      tf.expandDims(image, 0) as tf.Tensor4D, boxes.shape[0] > 0 ? [boxes] : tf.zeros([0, 5]) as tf.Tensor2D,
      {outputSize: CROP, samplingRatio: 2, aligned: true}));

  const result: DemoResult = {
    backend, boxes: await boxes.array(), classes: Array.from(await read(tf.gather(classes, chosenIdx))),
    scores: chosen.map(([s]) => s), cropMeans: Array.from(await read(tf.mean(crops, [1, 2, 3]))), timings,
    detector: await detect(image as tf.Tensor3D),
  };
  await draw(img, result, crops);
  tf.dispose([image, windows, rois, scores, classes, top, keep, kept, chosenIdx, boxes, crops]);
  return result;
}

let detectorConfig: DetectorConfig|null = null;
let detectorWeights: ArrayBuffer|null = null;

/** Fetches the weights examples/train_detector.mjs trained (once); null when the demo was built without them. */
async function loadDetectorFiles(): Promise<string|null> {
  if (detectorConfig != null) return null;
  const [config, weights] = await Promise.all([fetch('detector.json'), fetch('detector.safetensors')]);
  if (!config.ok || !weights.ok) return 'no trained weights: run `npm run example:detector`, then `npm run demo`';
  detectorConfig = await config.json() as DetectorConfig;
  detectorWeights = await weights.arrayBuffer();
  return null;
}

/** One value read back: the work behind t is done (a stage's time, without reading the whole tensor). */
async function settle(t: tf.Tensor) {
  const one = tf.tidy(() => tf.slice(tf.reshape(t, [-1]), 0, Math.min(1, t.size)));
  await one.data();
  one.dispose();
}

/** The trained Faster R-CNN on the image, stage by stage (torchvision's GeneralizedRCNN.forward), timed. */
async function detect(image: tf.Tensor3D): Promise<DemoResult['detector']> {
  const missing = await loadDetectorFiles();
  if (missing != null) return {missing};
  const config = detectorConfig!;
  const timings: Record<string, number> = {};
  const stage = async <T>(name: string, fn: () => Promise<T>|T, done: (r: T) => Promise<void>) => {
    const start = performance.now();
    const r = await fn();
    await done(r);
    timings[name] = performance.now() - start;
    return r;
  };
  const model = await stage('load weights', () => {
    const m = vision.fasterRcnnMobilenetV3Large320Fpn(config.options);
    m.loadStateDict(vision.parseSafetensors(detectorWeights!).tensors);
    return m;
  }, async m => settle(m.trainableVariables()[0]));
  try {
    const {imageList} = await stage('transform', () => model.transform.forward([image]),
        r => settle(r.imageList.tensors));
    const features = await stage('backbone + FPN', () => model.backbone.forward(imageList.tensors),
        async f => { for (const t of Object.values(f)) await settle(t); });
    const proposals = await stage('RPN', () => model.rpn.forward(imageList, features), async () => {});
    const raw = await stage('RoI heads', () => model.roiHeads.forward(features, proposals.map(p => p.boxes),
        imageList.imageSizes), async () => {});
    const [d] = await stage('postprocess', () => model.transform.postprocess(raw, imageList.imageSizes,
        [[image.shape[0], image.shape[1]]]), async r => settle(r[0].boxes));
    timings.total = Object.entries(timings).filter(([k]) => k !== 'load weights').reduce((a, [, v]) => a + v, 0);
    const [boxes, scores, labels] = [await d.boxes.array(), Array.from(await d.scores.data()),
      Array.from(await d.labels.data())];
    tf.dispose([imageList.tensors, ...Object.values(features), ...proposals.flatMap(p => [p.boxes, p.scores]),
      ...raw.flatMap(r => [r.boxes, r.scores, r.labels]), d.boxes]);
    const keep = scores.map((s, i) => i).filter(i => scores[i] >= DETECTOR_MIN_SCORE);
    return {boxes: keep.map(i => boxes[i]), scores: keep.map(i => scores[i]), labels: keep.map(i => labels[i]), timings};
  } finally {
    model.dispose();
  }
}

async function draw(img: HTMLImageElement, result: DemoResult, crops: tf.Tensor) {
  const image = $<HTMLCanvasElement>('image'), overlay = $<HTMLCanvasElement>('overlay');
  for (const c of [image, overlay]) [c.width, c.height] = [img.width, img.height];
  image.getContext('2d')!.drawImage(img, 0, 0);
  const ctx = overlay.getContext('2d')!;
  ctx.lineWidth = 3;
  ctx.font = '12px sans-serif';
  result.boxes.forEach(([x1, y1, x2, y2], i) => {
    ctx.strokeStyle = ctx.fillStyle = COLOURS[result.classes[i]];
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    ctx.fillText(result.scores[i].toFixed(2), x1 + 3, y1 + 13);
  });
  const cropsDiv = $('crops');
  cropsDiv.innerHTML = '';
  const parts = tf.unstack(crops);
  for (const part of parts) {
    const canvas = document.createElement('canvas');
    await tf.browser.toPixels(tf.clipByValue(part, 0, 1) as tf.Tensor3D, canvas);
    canvas.style.width = canvas.style.height = '96px';
    cropsDiv.appendChild(canvas);
  }
  tf.dispose(parts);
  $('timings').innerHTML = '<tr><th>step</th><th>ms</th></tr>' + Object.entries(result.timings)
      .map(([k, v]) => `<tr><td>${k}</td><td>${v.toFixed(1)}</td></tr>`).join('');
  drawDetector(img, result.detector);
}

function drawDetector(img: HTMLImageElement, result: DemoResult['detector']) {
  if ('missing' in result) {
    $('detector-status').textContent = result.missing;
    return;
  }
  const names = detectorConfig!.classNames;
  $('detector-status').textContent = `${result.boxes.length} detections (score >= ${DETECTOR_MIN_SCORE}), weights ` +
      `trained for ${detectorConfig!.steps} steps by npm run example:detector`;
  const canvas = $<HTMLCanvasElement>('detector-image');
  [canvas.width, canvas.height] = [img.width, img.height];
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(img, 0, 0);
  ctx.lineWidth = 2;
  ctx.font = '12px sans-serif';
  result.boxes.forEach(([x1, y1, x2, y2], i) => {
    ctx.strokeStyle = ctx.fillStyle = '#ffffff';
    ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
    ctx.fillText(`${names[result.labels[i]]} ${result.scores[i].toFixed(2)}`, x1 + 3, y1 + 13);
  });
  $('detector-timings').innerHTML = '<tr><th>stage</th><th>ms</th></tr>' + Object.entries(result.timings)
      .map(([k, v]) => `<tr><td>${k}</td><td>${v.toFixed(1)}</td></tr>`).join('');
}

async function main() {
  setWasmPaths('./');
  const params = new URLSearchParams(location.search);
  const select = $<HTMLSelectElement>('backend');
  if (params.has('backend')) select.value = params.get('backend')!;
  const img = await loadImage();
  const go = async () => {
    $('status').textContent = `running on ${select.value}…`;
    try {
      const result = await run(select.value, img);
      (window as any).demoResult = result;
      $('status').textContent = `${result.backend}: ${result.boxes.length} detections`;
    } catch (e) {
      (window as any).demoError = String(e);
      $('status').textContent = `error: ${e}`;
    }
  };
  $('run').addEventListener('click', go);
  $('status').textContent = 'ready';
  if (params.has('autorun')) await go();
}

main();
