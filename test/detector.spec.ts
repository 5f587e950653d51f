/**
 * Whole Faster R-CNN detectors against the real torchvision 0.14.1
 * (test/fixtures/detector.json, tools/fixtures_detector.py): the builders'
 * models, a full torchvision state_dict (formula weights, as the tool
 * generates them, plus the box predictor from a torch.save .pth read by
 * parseTorchCheckpoint), detect on two images of different sizes. Checks the
 * FPN maps (sampled values), the RPN's first proposals and the detections
 * (same labels, boxes within 1e-2 px, scores within 1e-3; near-equal scores
 * may swap places or cross the detections_per_img cut).
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor3D} from '@tensorflow/tfjs-core';
import '../src/index';
import {disposeIntermediates, FasterRCNN, fasterRcnnMobilenetV3LargeFpn, fasterRcnnResnet50Fpn}
  from '../src/detection/index';
import {HostTensor} from '../src/io/safetensors';
import detector from './fixtures/detector.json';
import {fixtureDetector, fixtureStateDict} from './support/detector_fixtures';
import {formulaPlan} from './support/formula_weights';
import {expectRejects, Fixture, FixtureCase, FixtureTensor, fixtureTensor, fixtureValues} from './support/helpers';
import {GPU_BACKENDS} from './support/tolerances';

const fixture = detector as unknown as Fixture;

type Args = {
  builder: string, kwargs: Record<string, number>, pth: string, weights: Array<[string, number[], number, number]>,
  image_sizes: number[][], batched_shape: number[], feature_shapes: Record<string, number[]>,
  proposal_counts: number[], detection_counts: number[], output_names: string[],
};

const stateDictOf = fixtureStateDict;

const modelOf = fixtureDetector;

const gpu = () => GPU_BACKENDS.includes(tf.getBackend());
const BOX_TOL = () => (gpu() ? 5e-2 : 1e-2);
const SCORE_TOL = () => (gpu() ? 5e-3 : 1e-3);

function output(c: FixtureCase, name: string): FixtureTensor {
  const i = (c.args as Args).output_names.indexOf(name);
  if (i < 0) throw new Error(`no output ${name}`);
  return c.outputs![i];
}

interface Scored { box: number[]; score: number; label: number; }

function scoredOf(boxes: ArrayLike<number>, scores: ArrayLike<number>, labels?: ArrayLike<number>): Scored[] {
  return Array.from(scores, (score, i) => ({box: Array.from(boxes).slice(4 * i, 4 * i + 4), score,
    label: labels == null ? 0 : labels[i]}));
}

/**
 * Every expected item has an actual one of the same label, box within
 * boxTol and score within scoreTol, and vice versa, except items whose score
 * is within scoreTol of the cut (the lowest score kept): those may fall on
 * either side of a top-k. Scores of `actual` are non-increasing.
 */
function expectMatched(actual: Scored[], expected: Scored[], cut: boolean, what: string) {
  const [boxTol, scoreTol] = [BOX_TOL(), SCORE_TOL()];
  for (let i = 1; i < actual.length; i++) {
    if (!(actual[i].score <= actual[i - 1].score + 1e-7)) {
      throw new Error(`${what}: scores not in decreasing order at ${i}: ${actual[i - 1].score}, ${actual[i].score}`);
    }
  }
  const lowest = Math.min(...expected.map(e => e.score), ...actual.map(a => a.score));
  const close = (a: Scored, e: Scored) => a.label === e.label && Math.abs(a.score - e.score) <= scoreTol &&
      a.box.every((v, k) => Math.abs(v - e.box[k]) <= boxTol);
  const used = new Set<number>();
  for (const [i, e] of expected.entries()) {
    const j = actual.findIndex((a, k) => !used.has(k) && close(a, e));
    if (j >= 0) {
      used.add(j);
      continue;
    }
    if (cut && e.score <= lowest + scoreTol) continue;
    const nearest = actual.filter(a => a.label === e.label)
        .sort((a, b) => Math.abs(a.score - e.score) - Math.abs(b.score - e.score))[0];
    throw new Error(`${what}: expected #${i} (label ${e.label}, score ${e.score}, box [${e.box}]) not found; ` +
        `nearest of that label: ${nearest == null ? 'none' : `score ${nearest.score}, box [${nearest.box}]`}`);
  }
  actual.forEach((a, k) => {
    if (!used.has(k) && !(cut && a.score <= lowest + scoreTol)) {
      throw new Error(`${what}: unexpected #${k} (label ${a.label}, score ${a.score}, box [${a.box}])`);
    }
  });
}

for (const c of fixture.cases.filter(x => x.op === 'detector')) {
  const args = c.args as Args;
  describe(`FasterRCNN ${args.builder} against torchvision`, () => {
    let model: FasterRCNN;
    let images: Tensor3D[];

    beforeAll(async () => {
      model = modelOf(args);
      const state = await stateDictOf(args);
      const report = model.loadStateDict(state);
      expect(report.unused.every(k => k.endsWith('num_batches_tracked'))).toBe(true);
      expect(report.loaded.length).toBe(Object.keys(model.expectedShapes()).length);
      images = ['image0', 'image1'].map(k => tf.tidy(() => tf.transpose(fixtureTensor(c.inputs[k]), [1, 2, 0])) as Tensor3D);
    }, 600000);

    afterAll(() => {
      tf.dispose(images);
      model?.dispose();
    });

    it('detections, RPN proposals and FPN maps match torchvision; no tensor leaks', async () => {
      const before = tf.memory().numTensors;
      const r = await model.detectWithIntermediates(images);
      try {
        expect(r.imageList.imageSizes).toEqual(args.image_sizes);
        const [n, ch, h, w] = args.batched_shape;
        expect(r.imageList.tensors.shape).toEqual([n, h, w, ch]);
        // FPN maps: shapes and sampled values (NCHW flat indices of the tool)
        expect(Object.keys(r.features)).toEqual(Object.keys(args.feature_shapes));
        for (const [name, [fn, fc, fh, fw]] of Object.entries(args.feature_shapes)) {
          const map = r.features[name];
          expect([name, ...map.shape]).toEqual([name, fn, fh, fw, fc]);
          const got = await map.data();
          const want = fixtureValues(output(c, `feature_${name}`)) as Float32Array;
          const size = fn * fc * fh * fw;
          const meanAbs = want[want.length - 1];
          for (let k = 0; k < want.length - 2; k++) {
            const idx = (k * 7919) % size;
            const [b, cc, y, x] = [Math.floor(idx / (fc * fh * fw)), Math.floor(idx / (fh * fw)) % fc,
              Math.floor(idx / fw) % fh, idx % fw];
            const v = got[((b * fh + y) * fw + x) * fc + cc];
            const tol = (gpu() ? 1e-2 : 1e-3) * (meanAbs + Math.abs(want[k]));
            if (!(Math.abs(v - want[k]) <= tol)) {
              throw new Error(`feature ${name} at NCHW [${b}, ${cc}, ${y}, ${x}]: got ${v}, expected ${want[k]}`);
            }
          }
        }
        // RPN: proposal counts and the first proposals (resized-image pixels)
        for (let i = 0; i < 2; i++) {
          expect(r.proposals[i].boxes.shape[0]).toBe(args.proposal_counts[i]);
          const top = (await r.proposals[i].scores.data()).slice(0, 20);
          const boxes = (await r.proposals[i].boxes.data()).slice(0, 80);
          const want = scoredOf(fixtureValues(output(c, `proposal_boxes${i}`)),
              fixtureValues(output(c, `proposal_scores${i}`)));
          expectMatched(scoredOf(boxes, top), want, true, `proposals of image ${i}`);
        }
        // detections (original-image pixels)
        for (let i = 0; i < 2; i++) {
          const d = r.detections[i];
          expect(d.labels.dtype).toBe('int32');
          const got = scoredOf(await d.boxes.data(), await d.scores.data(), await d.labels.data());
          const want = scoredOf(fixtureValues(output(c, `boxes${i}`)), fixtureValues(output(c, `scores${i}`)),
              fixtureValues(output(c, `labels${i}`)));
          expect(Math.abs(got.length - want.length)).toBeLessThanOrEqual(2);
          expectMatched(got, want, got.length === (args.kwargs.box_detections_per_img ?? 100) ||
              want.length === (args.kwargs.box_detections_per_img ?? 100), `detections of image ${i}`);
        }
      } finally {
        disposeIntermediates(r);
      }
      expect(tf.memory().numTensors).toBe(before);
    }, 600000);

    // detect() is detectWithIntermediates less the intermediates: run it on the cheaper model only
    const onMobilenet = args.builder === 'fasterrcnn_mobilenet_v3_large_fpn' ? it : () => undefined;
    onMobilenet('detect() returns the same detections and leaks nothing', async () => {
      const before = tf.memory().numTensors;
      const dets = await model.detect(images);
      try {
        expect(dets.length).toBe(2);
        for (let i = 0; i < 2; i++) {
          const got = scoredOf(await dets[i].boxes.data(), await dets[i].scores.data(), await dets[i].labels.data());
          const want = scoredOf(fixtureValues(output(c, `boxes${i}`)), fixtureValues(output(c, `scores${i}`)),
              fixtureValues(output(c, `labels${i}`)));
          expectMatched(got, want, got.length === (args.kwargs.box_detections_per_img ?? 100) ||
              want.length === (args.kwargs.box_detections_per_img ?? 100), `detect() of image ${i}`);
        }
      } finally {
        tf.dispose(dets.flatMap(d => [d.boxes, d.scores, d.labels]));
      }
      expect(tf.memory().numTensors).toBe(before);
    }, 600000);
  });
}

describe('FasterRCNN builders and loading', () => {
  it("test/support/formula_weights.ts's rule is the tool's (every fixture weight's key, shape, offset, scale)", () => {
    for (const c of fixture.cases.filter(x => x.op === 'detector')) {
      const args = c.args as Args;
      const m = modelOf(args);
      try {
        const plan = formulaPlan(m.expectedShapes()).filter(([k]) => !k.startsWith('roi_heads.box_predictor.'));
        const tool = new Map(args.weights.map(([k, s, o, sc]) => [k, [s, o, sc] as const]));
        expect(plan.map(([k]) => k).sort()).toEqual([...tool.keys()].sort());
        for (const [key, shape, offset, scale] of plan) {
          const [wantShape, wantOffset, wantScale] = tool.get(key)!;
          if (!tf.util.arraysEqual(shape, wantShape) || Math.abs(offset - wantOffset) > 1e-12 ||
              Math.abs(scale - wantScale) > 1e-12 * wantScale) {
            throw new Error(`${args.builder} '${key}': [${shape}] rule [${offset}, ${scale}], tool [${wantShape}] ` +
                `[${wantOffset}, ${wantScale}]`);
          }
        }
      } finally {
        m.dispose();
      }
    }
  });

  it('torchvision defaults of each builder', () => {
    const r = fasterRcnnResnet50Fpn();
    const m = fasterRcnnMobilenetV3LargeFpn({numClasses: 3, rpnScoreThresh: undefined});
    try {
      expect([r.numClasses, r.transform.minSize, r.transform.maxSize, r.rpn.preNmsTopN, r.rpn.postNmsTopN,
        r.rpn.nmsThresh, r.rpn.scoreThresh, r.roiHeads.scoreThresh, r.roiHeads.nmsThresh, r.roiHeads.detectionsPerImg])
          .toEqual([91, [800], 1333, 1000, 1000, 0.7, 0, 0.05, 0.5, 100]);
      expect(r.anchorGenerator.sizes).toEqual([[32], [64], [128], [256], [512]]);
      expect(r.backbone.featureNames).toEqual(['0', '1', '2', '3', 'pool']);
      expect([m.numClasses, m.rpn.scoreThresh, m.transform.minSize]).toEqual([3, 0.05, [800]]);
      expect(m.anchorGenerator.sizes).toEqual([0, 1, 2].map(() => [32, 64, 128, 256, 512]));
      expect(m.anchorGenerator.numAnchorsPerLocation()).toEqual([15, 15, 15]);
      expect(m.backbone.featureNames).toEqual(['0', '1', 'pool']);
      expect(m.backbone.body.returnedChannels).toEqual([160, 960]);
    } finally {
      r.dispose();
      m.dispose();
    }
  });

  it('loadStateDict checks every key and shape before loading anything', () => {
    const m = fasterRcnnMobilenetV3LargeFpn({numClasses: 3});
    try {
      const shapes = m.expectedShapes();
      const state: Record<string, HostTensor> = {};
      for (const [k, s] of Object.entries(shapes)) {
        const n = s.reduce((a, b) => a * b, 1);
        state[k] = {shape: s, dtype: 'float32', values: new Float32Array(n), sourceDtype: 'F32'};
      }
      const missing = {...state};
      delete missing['rpn.head.cls_logits.bias'];
      expect(() => m.loadStateDict(missing)).toThrowError(/no 'rpn\.head\.cls_logits\.bias'/);
      const wrong = {...state, 'roi_heads.box_predictor.cls_score.weight':
          {shape: [4, 1024], dtype: 'float32', values: new Float32Array(4096), sourceDtype: 'F32'} as HostTensor};
      expect(() => m.loadStateDict(wrong)).toThrowError(/cls_score\.weight' has shape \[4,1024\], expected \[3,1024\]/);
      const extra = {...state, 'roi_heads.mask_head.0.weight': state['rpn.head.cls_logits.bias']};
      expect(() => m.loadStateDict(extra)).toThrowError(/unexpected key.*mask_head/);
      expect(() => m.loadStateDict({...state, 'rpn.head.cls_logits.bias': {...state['rpn.head.cls_logits.bias'],
        dtype: 'int32', values: new Int32Array(15)}})).toThrowError(/cls_logits\.bias' has dtype int32/);
    } finally {
      m.dispose();
    }
  });

  it('loads tf.Tensor records (strict: false reports the extra keys) and dispose() frees every weight', () => {
    const before = tf.memory().numTensors;
    const m = fasterRcnnMobilenetV3LargeFpn({numClasses: 3});
    const state: Record<string, tf.Tensor> = Object.fromEntries(Object.entries(m.expectedShapes())
        .map(([k, s]) => [k, tf.zeros(s)]));
    state['backbone.body.0.1.num_batches_tracked'] = tf.scalar(0, 'int32');
    state['roi_heads.mask_head.0.weight'] = tf.zeros([2]);
    try {
      const report = m.loadStateDict(state, {strict: false});
      expect(report.unused.sort()).toEqual(['backbone.body.0.1.num_batches_tracked', 'roi_heads.mask_head.0.weight']);
    } finally {
      tf.dispose(Object.values(state));
      m.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('detect before loading is an Error', async () => {
    const m = fasterRcnnMobilenetV3LargeFpn({numClasses: 3});
    const image = tf.zeros([8, 8, 3]) as Tensor3D;
    try {
      await expectRejects(m.detect([image]), /loadStateDict first/);
    } finally {
      image.dispose();
      m.dispose();
    }
  });
});
