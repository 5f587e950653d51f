/**
 * One training step of a Faster R-CNN-like box head on a frozen backbone:
 * FeaturePyramidNetwork over three backbone maps (N=2 images of 128x128,
 * strides 4, 8, 16, 64 channels -> 32), MultiScaleRoIAlign of K=64 proposals
 * per image (7x7, samplingRatio 2), a TwoMLPHead (MLP 1568 -> 256 -> 256,
 * relu) and a predictor (MLP 256 -> classes + 4 box deltas); loss
 * sigmoidFocalLoss + generalizedBoxIouLoss of the refined boxes over the
 * positives; one momentum-SGD step (optimizer.minimize over the head's
 * weights) beside the forward loss alone. tfjs-backend-cpu's conv2d filter
 * gradient takes most of the cpu step (seconds for the FPN's 3x3 convs).
 */
import * as tf from '@tensorflow/tfjs-core';
import {FeaturePyramidNetwork, generalizedBoxIouLoss, MLP, MultiScaleRoIAlign, sigmoidFocalLoss} from '../../src/index';
import {BenchCase, BenchSize, timeMedian} from '../harness';

const NAME = 'train_step_fpn_msroialign_2mlp_2x128px_k128';
const CLASSES = 4;
/** Images, image side, backbone channels, FPN channels, proposals per image, MLP width: full (the name's), tiny. */
const DIMS: Record<BenchSize, {batch: number, image: number, channels: number, fpn: number, proposals: number,
  hidden: number}> = {
  full: {batch: 2, image: 128, channels: 64, fpn: 32, proposals: 64, hidden: 256},
  tiny: {batch: 1, image: 32, channels: 4, fpn: 4, proposals: 4, hidden: 8},
};
const STRIDES = [4, 8, 16];

/** Backbone maps, proposals per image (jittered targets), their targets, classes and positives. */
function problem(size: BenchSize) {
  const {batch, image, channels, proposals} = DIMS[size];
  const k = batch * proposals;
  return tf.tidy(() => {
    const maps = STRIDES.map((s, i) =>
      tf.randomNormal([batch, image / s, image / s, channels], 0, 1, 'float32', i) as tf.Tensor4D);
    const wh = tf.randomUniform([k, 2], image / 8, image * 3 / 4, 'float32', 10);
    const xy = tf.mul(tf.randomUniform([k, 2], 0, 1, 'float32', 11), tf.sub(image, wh));
    const targets = tf.concat([xy, tf.add(xy, wh)], 1) as tf.Tensor2D;
    const jitter = tf.mul(tf.randomUniform([k, 4], -0.15, 0.15, 'float32', 12), tf.concat([wh, wh], 1));
    const boxes = tf.add(targets, jitter) as tf.Tensor2D;
    // Half the proposals per image are positives of a random class, the rest background.
    const positive = tf.tile(tf.concat([tf.ones([proposals / 2]), tf.zeros([proposals / 2])]), [batch]) as tf.Tensor1D;
    const classes = tf.oneHot(tf.cast(tf.randomUniform([k], 0, CLASSES, 'float32', 13), 'int32'), CLASSES);
    return {maps, boxes, perImage: tf.split(boxes, batch) as tf.Tensor2D[], targets, positive,
      classTargets: tf.mul(classes, tf.expandDims(positive, 1))};
  });
}

function buildHead(size: BenchSize) {
  const {channels, fpn, hidden} = DIMS[size];
  return {
    fpn: new FeaturePyramidNetwork({inChannelsList: STRIDES.map(() => channels), outChannels: fpn}),
    pooler: new MultiScaleRoIAlign({featmapNames: ['0', '1', '2'], outputSize: 7, samplingRatio: 2}),
    boxHead: new MLP({inChannels: fpn * 49, hiddenChannels: [hidden, hidden]}),
    predictor: new MLP({inChannels: hidden, hiddenChannels: [CLASSES + 4]}),
  };
}

type Head = ReturnType<typeof buildHead>;

function loss(head: Head, p: ReturnType<typeof problem>, image: number): tf.Scalar {
  const features = head.fpn.forward({0: p.maps[0], 1: p.maps[1], 2: p.maps[2]}) as Record<string, tf.Tensor4D>;
  const pooled = head.pooler.forward(features, p.perImage, p.perImage.map(() => [image, image]));
  const hidden = tf.relu(head.boxHead.apply(tf.reshape(pooled, [pooled.shape[0], -1])) as tf.Tensor);
  const out = head.predictor.apply(hidden) as tf.Tensor2D;
  const logits = tf.slice(out, [0, 0], [-1, CLASSES]);
  const deltas = tf.slice(out, [0, CLASSES], [-1, 4]);
  const [x1, y1, x2, y2] = tf.unstack(p.boxes, 1);
  const sides = tf.stack([tf.sub(x2, x1), tf.sub(y2, y1), tf.sub(x2, x1), tf.sub(y2, y1)], 1);
  const refined = tf.add(p.boxes, tf.mul(tf.mul(deltas, 0.1), sides));
  const focal = sigmoidFocalLoss(logits, p.classTargets, {reduction: 'sum'});
  const giou = tf.sum(tf.mul(generalizedBoxIouLoss(refined, p.targets), p.positive));
  return tf.div(tf.add(focal, giou), tf.maximum(tf.sum(p.positive), 1)) as tf.Scalar;
}

export const trainStepCase: BenchCase = {
  name: NAME,
  torchvisionCases: [],
  backends: ['cpu', 'wasm', 'tensorflow', 'webgl', 'webgpu'],
  async run(backend, _torchvision, size) {
    const p = problem(size);
    const head = buildHead(size);
    const image = DIMS[size].image;
    const forwardLoss = () => tf.tidy(() => loss(head, p, image));
    const weights = () => Object.values(head).flatMap(l => l.trainableWeights.map(w => w.read() as tf.Variable));
    const optimizer = tf.train.momentum(0.01, 0.9);
    const trainStep = () => optimizer.minimize(() => loss(head, p, image), true, weights())!;
    // The first forward builds the weights; on GPUs the first of each compiles the shaders, which can take
    // longer than timeMedian's one-run limit (5 s) and would be timed.
    const gpu = ['webgl', 'webgpu'].includes(backend);
    for (const fn of gpu ? [forwardLoss, trainStep] : [forwardLoss]) {
      const out = fn();
      await out.data();
      out.dispose();
    }
    const forward = (await timeMedian(forwardLoss, {warmup: 1, runs: 5})).median;
    const step = (await timeMedian(trainStep, {warmup: 1, runs: 5})).median;
    optimizer.dispose();
    Object.values(head).filter(l => l.built).forEach(l => l.dispose());
    tf.dispose([p.maps, p.boxes, p.perImage, p.targets, p.positive, p.classTargets]);
    return [
      {case: NAME, backend, variant: 'forward (loss)', median_ms: forward},
      {case: NAME, backend, variant: 'forward+backward+update (one momentum-SGD step)', median_ms: step},
    ];
  },
};
