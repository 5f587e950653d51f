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

interface DemoResult {
  backend: string; boxes: number[][]; classes: number[]; scores: number[];
  cropMeans: number[]; timings: Record<string, number>;
}

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
  };
  await draw(img, result, crops);
  tf.dispose([image, windows, rois, scores, classes, top, keep, kept, chosenIdx, boxes, crops]);
  return result;
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
