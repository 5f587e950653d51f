// Trains a small detection head on synthetic shapes generated on the fly (no
// downloads): a conv backbone, roiAlign features of proposal boxes, a head that
// classifies each proposal (sigmoidFocalLoss) and refines its box
// (generalizedBoxIouLoss). Then reports mean IoU on held-out images against the
// baseline of the unrefined proposals, saves both models with model.save,
// reloads them and evaluates again.
// Run: npm run example:train [-- --steps 200 --backend wasm]
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as vision from 'tfjs-vision-ops';
import fs from 'node:fs';
import path from 'node:path';
import {choiceFlag, integerFlag, parseCommandLine} from '../tools/cli.mjs';
import {chooseBackend} from './backend.mjs';

const BACKENDS = ['cpu', 'wasm', 'tensorflow'];
const USAGE = `
Usage: npm run example:train [-- --steps N] [-- --backend cpu|wasm|tensorflow]
       node examples/train_detection_head.mjs [--steps N] [--backend NAME]

Trains a small detection head on synthetic images, then checks that the loss
fell, that refined boxes beat the proposals on held-out images and that the
saved models reload to the same results (exit 0 when all three hold, 1 when
not). Needs \`npm run build\` first, which \`npm run example:train\` runs.

  --steps N       training steps, 2 to 100000 (default 150; ~20 are enough to
                  learn something, fewer may end NOT OK)
  --backend NAME  tensorflow (tfjs-node, the default when it is built:
                  \`npm run setup:node-backend\`), wasm (the default otherwise)
                  or cpu
  -h, --help      this text
`;
const {values, fail} = parseCommandLine({name: 'train_detection_head', usage: USAGE,
  options: {steps: {type: 'string'}, backend: {type: 'string'}}});
const STEPS = integerFlag(fail, 'steps', values.steps, {min: 2, max: 100000, fallback: 150});
const BACKEND = choiceFlag(fail, 'backend', values.backend, BACKENDS, null);
const SIZE = 48, STRIDE = 4, CLASSES = 3, IMAGES = 8, PROPOSALS = 8, POOL = 5;
/** Steps averaged for the first and last loss (apart, however few the steps). */
const WINDOW = Math.min(10, Math.floor(STEPS / 2));

// --- synthetic data: one coloured rectangle per image on a noisy background.
let seed = 1;
const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;

function makeBatch(n) {
  const pixels = new Float32Array(n * SIZE * SIZE * 3);
  const boxes = [], classes = [];
  for (let i = 0; i < n; i++) {
    const w = 10 + rand() * 24, h = 10 + rand() * 24;
    const x1 = rand() * (SIZE - w), y1 = rand() * (SIZE - h);
    const cls = Math.floor(rand() * CLASSES);
    boxes.push([x1, y1, x1 + w, y1 + h]);
    classes.push(cls);
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const inside = x + 0.5 >= x1 && x + 0.5 <= x1 + w && y + 0.5 >= y1 && y + 0.5 <= y1 + h;
        for (let c = 0; c < 3; c++) {
          const o = ((i * SIZE + y) * SIZE + x) * 3 + c;
          pixels[o] = 0.3 * rand() + (inside ? (c === cls ? 0.9 : 0.2) : 0.1);
        }
      }
    }
  }
  return {images: tf.tensor4d(pixels, [n, SIZE, SIZE, 3]), boxes, classes};
}

/** Proposals per image: jittered copies of the true box (half) and random boxes. */
function makeProposals(gtBoxes) {
  const rois = [], targets = [];
  gtBoxes.forEach(([x1, y1, x2, y2], i) => {
    const w = x2 - x1, h = y2 - y1;
    for (let k = 0; k < PROPOSALS; k++) {
      let box;
      if (k < PROPOSALS / 2) {
        const j = () => (rand() - 0.5) * 0.5;
        box = [x1 + j() * w, y1 + j() * h, x2 + j() * w, y2 + j() * h];
      } else {
        const bw = 8 + rand() * 24, bh = 8 + rand() * 24, bx = rand() * (SIZE - bw), by = rand() * (SIZE - bh);
        box = [bx, by, bx + bw, by + bh];
      }
      rois.push([i, ...box]);
      targets.push([x1, y1, x2, y2]);
    }
  });
  return {rois: tf.tensor2d(rois), proposalBoxes: tf.tensor2d(rois.map(r => r.slice(1))), targets: tf.tensor2d(targets)};
}

/** Seeded initial weights: the run (and whether it ends OK) is the same every time. */
let initSeed = 0;
const init = () => ({kernelInitializer: tfl.initializers.glorotUniform({seed: ++initSeed})});

function buildModels() {
  const backbone = tfl.sequential({name: 'backbone', layers: [
    tfl.layers.conv2d({inputShape: [SIZE, SIZE, 3], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', ...init()}),
    tfl.layers.conv2d({filters: 24, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', ...init()}),
    tfl.layers.conv2d({filters: 32, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', ...init()}),
  ]});
  const head = tfl.sequential({name: 'head', layers: [
    tfl.layers.flatten({inputShape: [POOL, POOL, 32]}),
    tfl.layers.dense({units: 64, activation: 'relu', ...init()}),
    tfl.layers.dense({units: CLASSES + 4, ...init()}),
  ]});
  return {backbone, head};
}

/** Class logits [K, CLASSES] and refined boxes [K, 4] (deltas scaled by proposal size). */
function predict({backbone, head}, images, rois, proposalBoxes) {
  const features = backbone.apply(images);
  const pooled = vision.roiAlign(features, rois,
      {outputSize: POOL, spatialScale: 1 / STRIDE, samplingRatio: 2, aligned: true});
  const out = head.apply(pooled);
  const logits = tf.slice(out, [0, 0], [-1, CLASSES]);
  const deltas = tf.slice(out, [0, CLASSES], [-1, 4]);
  const [x1, y1, x2, y2] = tf.unstack(proposalBoxes, 1);
  const size = tf.stack([tf.sub(x2, x1), tf.sub(y2, y1), tf.sub(x2, x1), tf.sub(y2, y1)], 1);
  return {logits, boxes: tf.add(proposalBoxes, tf.mul(tf.mul(deltas, 0.5), size))};
}

/** IoU of box i in a with box i in b. */
function pairedIou(a, b) {
  return tf.sum(tf.mul(vision.boxIou(a, b), tf.eye(a.shape[0])), 1);
}

function lossOf(models, batch, proposals) {
  const {logits, boxes} = predict(models, batch.images, proposals.rois, proposals.proposalBoxes);
  const pairIou = pairedIou(proposals.proposalBoxes, proposals.targets);
  const positive = tf.cast(tf.greaterEqual(pairIou, 0.4), 'float32');
  const classIds = tf.tensor1d(batch.classes.flatMap(c => Array(PROPOSALS).fill(c)), 'int32');
  const classTargets = tf.mul(tf.oneHot(classIds, CLASSES), tf.expandDims(tf.cast(positive, 'int32'), 1));
  const focal = vision.sigmoidFocalLoss(logits, classTargets, {reduction: 'sum'});
  const giou = vision.generalizedBoxIouLoss(boxes, proposals.targets);
  const boxLoss = tf.sum(tf.mul(giou, positive));
  const positives = tf.maximum(tf.sum(positive), 1);
  return tf.div(tf.add(focal, boxLoss), positives);
}

/** Mean IoU with the true box of the best-scoring refined proposal, and of the same raw proposal. */
async function evaluate(models, batch, proposals) {
  const [refined, raw] = tf.tidy(() => {
    const {logits, boxes} = predict(models, batch.images, proposals.rois, proposals.proposalBoxes);
    const score = tf.reshape(tf.max(tf.sigmoid(logits), 1), [-1, PROPOSALS]);
    const best = tf.add(tf.argMax(score, 1), tf.mul(tf.range(0, score.shape[0], 1, 'int32'), tf.scalar(PROPOSALS, 'int32')));
    const truth = tf.gather(proposals.targets, best);
    return [tf.mean(pairedIou(tf.gather(boxes, best), truth)),
      tf.mean(pairedIou(tf.gather(proposals.proposalBoxes, best), truth))];
  });
  const result = {refined: (await refined.data())[0], proposals: (await raw.data())[0]};
  tf.dispose([refined, raw]);
  return result;
}

function memorySaveHandler(dir) {
  return tf.io.withSaveHandler(async artifacts => {
    fs.mkdirSync(dir, {recursive: true});
    fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(artifacts.weightData));
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({...artifacts, weightData: undefined}));
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  });
}

async function loadFrom(dir) {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const weights = fs.readFileSync(path.join(dir, 'weights.bin'));
  return tfl.loadLayersModel(tf.io.fromMemory({...json, weightData: new Uint8Array(weights).buffer}));
}

const mean = values => values.reduce((a, b) => a + b, 0) / values.length;

async function main() {
  await chooseBackend('train_detection_head', BACKEND);
  console.log(`backend: ${tf.getBackend()}, ${STEPS} steps of ${IMAGES} images x ${PROPOSALS} proposals`);
  const models = buildModels();
  const optimizer = tf.train.adam(3e-3);
  const start = performance.now();
  const losses = [];
  for (let step = 1; step <= STEPS; step++) {
    const batch = makeBatch(IMAGES);
    const proposals = makeProposals(batch.boxes);
    const loss = optimizer.minimize(() => lossOf(models, batch, proposals), true);
    losses.push((await loss.data())[0]);
    tf.dispose([loss, batch.images, proposals.rois, proposals.proposalBoxes, proposals.targets]);
    const done = Math.round((step / STEPS) * 30);
    const rate = step / ((performance.now() - start) / 1000);
    const recent = mean(losses.slice(-WINDOW));
    const line = `[${'#'.repeat(done)}${'.'.repeat(30 - done)}] step ${step}/${STEPS} ` +
        `loss ${recent.toFixed(3)} ${rate.toFixed(1)} steps/s`;
    if (process.stdout.isTTY) process.stdout.write(`\r${line}`);
    else if (step % 25 === 0 || step === STEPS) console.log(line);
  }
  if (process.stdout.isTTY) process.stdout.write('\n');
  const first = mean(losses.slice(0, WINDOW)), last = mean(losses.slice(-WINDOW));
  console.log(`loss: first ${WINDOW} steps ${first.toFixed(3)}, last ${WINDOW} steps ${last.toFixed(3)}`);

  seed = 987654321;  // held-out images
  const test = makeBatch(64);
  const testProposals = makeProposals(test.boxes);
  const before = await evaluate(models, test, testProposals);
  console.log(`held-out mean IoU of the top-scored box: refined ${before.refined.toFixed(3)}, ` +
      `baseline (same proposal, unrefined) ${before.proposals.toFixed(3)}`);

  const dir = path.join('.build', 'train_example');
  await models.backbone.save(memorySaveHandler(path.join(dir, 'backbone')));
  await models.head.save(memorySaveHandler(path.join(dir, 'head')));
  const reloaded = {backbone: await loadFrom(path.join(dir, 'backbone')), head: await loadFrom(path.join(dir, 'head'))};
  const after = await evaluate(reloaded, test, testProposals);
  console.log(`after save + reload (${dir}): refined mean IoU ${after.refined.toFixed(3)}`);

  const ok = last < first && before.refined > before.proposals && Math.abs(after.refined - before.refined) < 1e-5;
  console.log(ok ? 'OK: loss fell, refined boxes beat the proposals, reload reproduces the model' : 'NOT OK');
  process.exit(ok ? 0 : 1);
}

main();
