// Trains torchvision's Faster R-CNN MobileNetV3-Large-FPN (the 320 builder) from scratch on
// synthetic scenes of coloured shapes (examples/shapes.mjs; no downloads) with the package's
// training losses (prepareTraining + trainingLosses), reports recall and precision on held-out
// scenes, saves the weights as a torchvision state_dict in safetensors (what the browser demo
// loads), reloads them and checks the detections are the same.
// Run: npm run example:detector [-- --steps 300 --backend wasm --out .build/detector]
import * as tf from '@tensorflow/tfjs-core';
import * as vision from 'tfjs-vision-ops';
import fs from 'node:fs';
import path from 'node:path';
import {choiceFlag, integerFlag, parseCommandLine} from '../tools/cli.mjs';
import {chooseBackend} from './backend.mjs';
import {CLASS_NAMES, makeScene, seededRandom} from './shapes.mjs';

const USAGE = `
Usage: npm run example:detector [-- --steps N] [-- --backend cpu|wasm|tensorflow] [-- --out DIR]
       node examples/train_detector.mjs [--steps N] [--backend NAME] [--out DIR]

Trains a Faster R-CNN (MobileNetV3-Large-FPN, 5 classes) on synthetic shapes,
then checks on 24 held-out scenes that it finds them (from ${'200'} steps on:
recall >= 0.7 and precision >= 0.7 at score 0.5, IoU 0.5), saves
DIR/detector.safetensors (a torchvision state_dict) and DIR/detector.json (the
builder options, class names and the scores), reloads the weights and checks
they give the same detections. Exit 0 when every check holds. Needs \`npm run
build\` first, which \`npm run example:detector\` runs.

  --steps N       training steps of 2 images, 2 to 100000 (default 300: about
                  5 minutes on tfjs-node with 2 cores)
  --backend NAME  tensorflow (tfjs-node, the default when it is built:
                  \`npm run setup:node-backend\`), wasm (the default otherwise)
                  or cpu
  --out DIR       where the weights go (default .build/detector)
  -h, --help      this text
`;
const {values, fail} = parseCommandLine({name: 'train_detector', usage: USAGE,
  options: {steps: {type: 'string'}, backend: {type: 'string'}, out: {type: 'string'}}});
const STEPS = integerFlag(fail, 'steps', values.steps, {min: 2, max: 100000, fallback: 300});
const BACKEND = choiceFlag(fail, 'backend', values.backend, ['cpu', 'wasm', 'tensorflow'], null);
const OUT = values.out ?? path.join('.build', 'detector');
const QUALITY_STEPS = 200;

/**
 * The detector: scenes are 320x240, so minSize 240 / maxSize 320 keep them
 * unscaled; fewer sampled proposals than torchvision's 512 keep a step fast.
 */
export const OPTIONS = {numClasses: CLASS_NAMES.length, minSize: 240, maxSize: 320, boxBatchSizePerImage: 128,
  rpnPostNmsTopNTrain: 500};

/** Initial weights by key: He-uniform convs and linears (small for the output layers), identity norms. */
function initialWeights(shapes) {
  const random = seededRandom(12345);
  const out = {};
  for (const [key, shape] of Object.entries(shapes)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    if (key.endsWith('running_var') || (key.endsWith('.weight') && shape.length === 1)) {
      v.fill(1);
    } else if (shape.length > 1) {
      const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
      const output = key.startsWith('rpn.head.') || key.startsWith('roi_heads.box_predictor.');
      const bound = (output ? 0.3 : 1) * Math.sqrt(6 / fanIn);
      for (let i = 0; i < n; i++) v[i] = (2 * random() - 1) * bound;
    }
    out[key] = {shape, dtype: 'float32', values: v, sourceDtype: 'F32'};
  }
  return out;
}

const toTensors = scene => ({image: tf.tensor3d(scene.pixels, [scene.height, scene.width, 3]),
  boxes: tf.tensor2d(scene.boxes.flat(), [scene.boxes.length, 4]), labels: tf.tensor1d(scene.labels, 'int32')});

function iou(a, b) {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h;
  return union > 0 ? (w * h) / union : 0;
}

/** Detections of one scene as plain arrays (score >= minScore). */
async function detections(model, image, minScore = 0.5) {
  const [d] = await model.detect([image]);
  const [boxes, scores, labels] = [await d.boxes.array(), await d.scores.data(), await d.labels.data()];
  tf.dispose([d.boxes, d.scores, d.labels]);
  return boxes.map((box, i) => ({box, score: scores[i], label: labels[i]})).filter(x => x.score >= minScore);
}

/** Recall and precision at IoU 0.5 (same label) over held-out scenes. */
async function evaluate(model, scenes) {
  let found = 0, truths = 0, right = 0, predicted = 0;
  for (const scene of scenes) {
    const {image, boxes, labels} = toTensors(scene);
    const dets = await detections(model, image);
    tf.dispose([image, boxes, labels]);
    const used = new Set();
    scene.boxes.forEach((box, i) => {
      const j = dets.findIndex((d, k) => !used.has(k) && d.label === scene.labels[i] && iou(d.box, box) >= 0.5);
      if (j >= 0) used.add(j);
    });
    found += used.size;
    right += used.size;
    truths += scene.boxes.length;
    predicted += dets.length;
  }
  return {recall: found / truths, precision: predicted ? right / predicted : 0};
}

const mean = v => v.reduce((a, b) => a + b, 0) / v.length;

async function main() {
  await chooseBackend('train_detector', BACKEND);
  const model = vision.fasterRcnnMobilenetV3Large320Fpn(OPTIONS);
  model.loadStateDict(initialWeights(model.expectedShapes()));
  const variables = model.trainableVariables();
  console.log(`backend: ${tf.getBackend()}, ${STEPS} steps of 2 scenes, Faster R-CNN MobileNetV3-Large-FPN ` +
      `(${(variables.reduce((a, v) => a + v.size, 0) / 1e6).toFixed(1)} M parameters)`);
  const random = seededRandom(1);
  const schedule = step => (step < STEPS * 0.75 ? 1e-3 : 3e-4);
  let optimizer = tf.train.adam(schedule(0));
  const losses = [];
  const start = performance.now();
  for (let step = 0; step < STEPS; step++) {
    if (schedule(step) !== schedule(step - 1) && step > 0) {
      optimizer.dispose();
      optimizer = tf.train.adam(schedule(step));
    }
    const scenes = [makeScene(random), makeScene(random)].map(toTensors);
    const batch = await model.prepareTraining(scenes.map(s => s.image),
        scenes.map(s => ({boxes: s.boxes, labels: s.labels})), {random});
    const loss = optimizer.minimize(() => {
      const l = model.trainingLosses(batch);
      return tf.addN([l.lossClassifier, l.lossBoxReg, l.lossObjectness, l.lossRpnBoxReg]);
    }, true, variables);
    losses.push((await loss.data())[0]);
    tf.dispose([loss, ...scenes.flatMap(s => [s.image, s.boxes, s.labels])]);
    vision.disposeTrainingBatch(batch);
    if ((step + 1) % 25 === 0 || step + 1 === STEPS) {
      const rate = (step + 1) / ((performance.now() - start) / 1000);
      console.log(`step ${step + 1}/${STEPS} loss ${mean(losses.slice(-25)).toFixed(3)} ${rate.toFixed(2)} steps/s`);
    }
  }
  optimizer.dispose();
  const window = Math.max(1, Math.min(25, Math.floor(STEPS / 2)));
  const [first, last] = [mean(losses.slice(0, window)), mean(losses.slice(-window))];
  console.log(`loss: first ${window} steps ${first.toFixed(3)}, last ${window} steps ${last.toFixed(3)}`);

  const heldOut = seededRandom(987654321);
  const scenes = Array.from({length: 24}, () => makeScene(heldOut));
  const quality = await evaluate(model, scenes);
  console.log(`held-out scenes: recall ${quality.recall.toFixed(3)}, precision ${quality.precision.toFixed(3)} ` +
      '(score >= 0.5, IoU >= 0.5, same class)');

  fs.mkdirSync(OUT, {recursive: true});
  const state = model.stateDict();
  const bytes = await vision.serializeSafetensors(state, {format: 'pt'});
  tf.dispose(Object.values(state));
  fs.writeFileSync(path.join(OUT, 'detector.safetensors'), bytes);
  fs.writeFileSync(path.join(OUT, 'detector.json'), JSON.stringify({builder: 'fasterRcnnMobilenetV3Large320Fpn',
    options: OPTIONS, classNames: CLASS_NAMES, steps: STEPS, backend: tf.getBackend(), ...quality}, null, 2));
  console.log(`saved ${path.join(OUT, 'detector.safetensors')} (${(bytes.length / 1e6).toFixed(1)} MB)`);

  const reloaded = vision.fasterRcnnMobilenetV3Large320Fpn(OPTIONS);
  reloaded.loadStateDict(vision.parseSafetensors(fs.readFileSync(path.join(OUT, 'detector.safetensors'))).tensors);
  const probe = toTensors(scenes[0]);
  const [a, b] = [await detections(model, probe.image, 0), await detections(reloaded, probe.image, 0)];
  tf.dispose([probe.image, probe.boxes, probe.labels]);
  const same = a.length === b.length && a.every((d, i) => d.label === b[i].label &&
      Math.abs(d.score - b[i].score) < 1e-4 && d.box.every((v, k) => Math.abs(v - b[i].box[k]) < 1e-2));
  console.log(`reloaded weights: ${same ? 'the same' : 'DIFFERENT'} detections (${a.length})`);
  model.dispose();
  reloaded.dispose();

  const learnt = STEPS < QUALITY_STEPS || (quality.recall >= 0.7 && quality.precision >= 0.7);
  const ok = Number.isFinite(last) && (STEPS < 20 || last < first) && learnt && same;
  console.log(ok ? `OK: loss fell${STEPS < QUALITY_STEPS ? '' : ', the detector finds the shapes'}, ` +
      'the saved weights reload to the same detections' : 'NOT OK');
  process.exit(ok ? 0 : 1);
}

main();
