// Scores a batch of predicted detections against ground truth, as a detector's
// training loop would: match predictions to targets by IoU, then box-regression
// losses (GIoU, DIoU, CIoU) on the matches and the focal loss on class logits.
// Run: npm run example [-- --backend wasm]
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as vision from 'tfjs-vision-ops';
import {wasmReady} from 'tfjs-vision-ops/wasm';
import {choiceFlag, parseCommandLine} from '../tools/cli.mjs';

const BACKENDS = ['cpu', 'wasm', 'tensorflow'];
const USAGE = `
Usage: npm run example [-- --backend cpu|wasm|tensorflow]
       node examples/score_detections.mjs [--backend NAME]

Matches 8 predicted boxes to 3 targets by IoU and prints their GIoU, DIoU,
CIoU and focal losses (needs \`npm run build\` first, which \`npm run example\`
runs).

  --backend NAME  cpu (default), wasm, or tensorflow (tfjs-node: needs
                  \`npm run setup:node-backend\`)
  -h, --help      this text
`;
const {values, fail} = parseCommandLine({name: 'score_detections', usage: USAGE,
  options: {backend: {type: 'string'}}});
const backend = choiceFlag(fail, 'backend', values.backend, BACKENDS, 'cpu');

if (backend === 'tensorflow') {
  try {
    await import('@tensorflow/tfjs-node');
    await import('tfjs-vision-ops/node');
  } catch {
    console.error('score_detections: the tensorflow backend needs tfjs-node: npm run setup:node-backend');
    process.exit(1);
  }
}
if (!(await tf.setBackend(backend))) {
  console.error(`score_detections: backend ${backend} failed to initialise`);
  process.exit(1);
}
if (backend === 'wasm') await wasmReady();

const numClasses = 5;
const targets = tf.tensor2d([[20, 30, 120, 150], [200, 40, 260, 90], [50, 200, 180, 260]]);
const targetClasses = tf.tensor1d([1, 3, 0], 'int32');

// Eight predictions: jittered copies of the targets plus two strays.
const predictions = tf.tidy(() => {
  const jitter = tf.randomNormal([6, 4], 0, 6, 'float32', 42);
  const near = tf.add(tf.concat([targets, targets]), jitter);
  return tf.concat([near, tf.tensor2d([[300, 300, 340, 330], [0, 0, 15, 10]])]);
});
const logits = tf.randomNormal([8, numClasses], 0, 2, 'float32', 7);

const iou = vision.boxIou(predictions, targets);  // [8, 3]
const bestIou = tf.max(iou, 1);
const matched = tf.argMax(iou, 1);
const positive = tf.greaterEqual(bestIou, 0.5);

const matchedTargets = tf.gather(targets, matched);
const losses = {
  giou: vision.generalizedBoxIouLoss(predictions, matchedTargets),
  diou: vision.distanceBoxIouLoss(predictions, matchedTargets),
  ciou: vision.completeBoxIouLoss(predictions, matchedTargets),
};
// One-hot class targets for positives, all-zero rows for background.
const classTargets = tf.mul(tf.oneHot(tf.gather(targetClasses, matched), numClasses),
    tf.cast(tf.expandDims(positive, 1), 'int32'));
const focal = tf.sum(vision.sigmoidFocalLoss(logits, classTargets, {reduction: 'none'}), 1);

console.log(`backend: ${tf.getBackend()}`);
console.log('pred  best IoU  match  positive   GIoU loss  DIoU loss  CIoU loss  focal loss');
const rows = [bestIou, matched, positive, losses.giou, losses.diou, losses.ciou, focal].map(t => t.arraySync());
for (let i = 0; i < 8; i++) {
  const [b, m, p, g, d, c, f] = rows.map(r => r[i]);
  console.log(`${String(i).padStart(4)}  ${b.toFixed(3).padStart(8)}  ${String(m).padStart(5)}  ` +
      `${String(!!p).padStart(8)}   ${g.toFixed(4).padStart(9)}  ${d.toFixed(4).padStart(9)}  ` +
      `${c.toFixed(4).padStart(9)}  ${f.toFixed(4).padStart(10)}`);
}
const positives = tf.cast(positive, 'float32');
const meanGiou = tf.div(tf.sum(tf.mul(losses.giou, positives)), tf.maximum(tf.sum(positives), 1));
const meanFocal = vision.sigmoidFocalLoss(logits, classTargets, {reduction: 'mean'});
console.log(`mean GIoU loss over positives: ${meanGiou.dataSync()[0].toFixed(4)}`);
console.log(`mean focal loss: ${meanFocal.dataSync()[0].toFixed(5)}`);
