// Scores a batch of predicted detections against ground truth, as a detector's
// training loop would: match predictions to targets by IoU, then box-regression
// losses (GIoU, DIoU, CIoU) on the matches and the focal loss on class logits.
// Run: npm run example [-- --backend wasm]
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as vision from 'tfjs-vision-ops';
import {wasmReady} from 'tfjs-vision-ops/wasm';

const backend = process.argv.includes('--backend') ? process.argv[process.argv.indexOf('--backend') + 1] : 'cpu';
await tf.setBackend(backend);
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
