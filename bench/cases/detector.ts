/**
 * Whole-detector inference (issue 15): fasterRcnnMobilenetV3Large320Fpn
 * (torchvision's fasterrcnn_mobilenet_v3_large_320_fpn defaults: minSize
 * 320, maxSize 640, 150 proposals before and after NMS, rpnScoreThresh 0.05;
 * numClasses 91) on one structured 240x320 image (resized to 320x426,
 * batched at 320x448): `await model.detect([image])`, detections read back.
 * Weights: the formula of test/support/formula_weights.ts for every key;
 * bench/torchvision_bench.py loads the same weights and image into
 * torchvision's model, so both run the same network and postprocessing
 * (100 detections, the boxDetectionsPerImg cap: the formula's class scores
 * pass boxScoreThresh in many classes, so per-class NMS has thousands of
 * boxes). Slow: one untimed run (shader compilation on GPUs), then
 * timeMedian's own limits (past 500 ms a run: 3 runs; past 5 s: one).
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor3D} from '@tensorflow/tfjs-core';
import {fasterRcnnMobilenetV3Large320Fpn, FasterRCNNOptions} from '../../src/detection/index';
import {formulaStateDict} from '../../test/support/formula_weights';
import {BenchCase, BenchSize, timeMedian, torchvisionRows} from '../harness';

const NAME = 'faster_rcnn_mobilenet_v3_large_320_fpn_240x320';
const CLASSES = 91;
/** Image (H, W) and builder options: full (the name's), tiny (`--tiny`: a 64-pixel model, 20 proposals). */
const DIMS: Record<BenchSize, {image: [number, number], options: FasterRCNNOptions}> = {
  full: {image: [240, 320], options: {numClasses: CLASSES}},
  tiny: {image: [48, 64], options: {numClasses: CLASSES, minSize: 64, maxSize: 96, rpnPreNmsTopNTest: 20,
    rpnPostNmsTopNTest: 20}},
};
/**
 * The structured image of bench/torchvision_bench.py's detector case, HWC in
 * [0, 1]: r = 0.6 x / W, g = 0.5 y / H, b = 0.25 (x / W + y / H) + 0.2, with
 * rectangles [y0, x0, y1, x1) (fractions of H and W) of solid colours.
 */
export function structuredImage(h: number, w: number): Tensor3D {
  const rects: Array<[number, number, number, number, [number, number, number]]> = [
    [0.1, 0.1, 0.6, 0.45, [0.9, 0.1, 0.1]], [0.4, 0.55, 0.9, 0.95, [0.1, 0.2, 0.9]],
    [0.15, 0.6, 0.35, 0.8, [0.95, 0.9, 0.1]], [0.7, 0.05, 0.95, 0.3, [0.05, 0.05, 0.05]]];
  const v = new Float32Array(h * w * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let rgb = [0.6 * x / w, 0.5 * y / h, 0.25 * (x / w + y / h) + 0.2];
      for (const [y0, x0, y1, x1, colour] of rects) {
        if (y >= Math.round(y0 * h) && y < Math.round(y1 * h) && x >= Math.round(x0 * w) && x < Math.round(x1 * w)) {
          rgb = colour;
        }
      }
      v.set(rgb, (y * w + x) * 3);
    }
  }
  return tf.tensor3d(v, [h, w, 3]);
}

export const detectorCase: BenchCase = {
  name: NAME,
  torchvisionCases: [NAME],
  backends: ['cpu', 'wasm', 'tensorflow', 'webgl', 'webgpu'],
  async run(backend, torchvision, size) {
    const {image: [h, w], options} = DIMS[size];
    const model = fasterRcnnMobilenetV3Large320Fpn(options);
    const image = structuredImage(h, w);
    try {
      model.loadStateDict(formulaStateDict(model));
      const detect = async () => (await model.detect([image])).map(d => [d.boxes, d.scores, d.labels]);
      const first = await detect();
      console.log(`  ${NAME} on ${backend}: ${first[0][1].shape[0]} detections`);
      tf.dispose(first);
      const median = (await timeMedian(detect, {warmup: 1, runs: 5})).median;
      const variant = 'inference (detect, 1 image)';
      const beside = torchvisionRows(NAME, backend, torchvision, [[variant, median, 'forward_ms']]);
      return beside.length > 0 ? beside : [{case: NAME, backend, variant, median_ms: median}];
    } finally {
      image.dispose();
      model.dispose();
    }
  },
};
