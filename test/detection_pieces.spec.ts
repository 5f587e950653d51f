/**
 * torchvision.models.detection's inference pieces against the real
 * torchvision 0.14.1 (test/fixtures/detection.json, tools/fixtures_detection.py).
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D} from '@tensorflow/tfjs-core';
import '../src/index';
import {MultiScaleRoIAlign} from '../src/layers/multi_scale_roi_align';
import {AnchorGenerator, BoxCoder, FastRCNNPredictor, GeneralizedRCNNTransform, ImageList, RegionProposalNetwork,
  RoIHeads, RPNHead, TwoMLPHead} from '../src/detection/index';
import detection from './fixtures/detection.json';
import {backendTolerance, casesOf, expectNoLeak, expectTensorClose, Fixture, FixtureCase, fixtureTensor} from './support/helpers';
import {GPU_BACKENDS, Tolerance} from './support/tolerances';

const fixture = detection as Fixture;

/**
 * Tolerances by chain length, on the host backends (cpu, wasm, tensorflow);
 * GPU backends add their own (SwiftShader's exp and division):
 *  - PIXELS: normalized, resized images (a few float32 operations on values ~2);
 *  - BOXES_SHORT: one decode (exp, products of coordinates up to ~100 px);
 *  - BOXES_LONG: conv / linear layers then decode (float32 sums in another order than torch's);
 *  - SCORES: sigmoid / softmax of the same logits.
 */
const PIXELS: Tolerance = {atol: 1e-5, rtol: 1e-5};
const BOXES_SHORT: Tolerance = {atol: 1e-3, rtol: 0};
const BOXES_LONG: Tolerance = {atol: 1e-2, rtol: 0};
const SCORES: Tolerance = {atol: 1e-4, rtol: 0};
const EXACT: Tolerance = {atol: 0, rtol: 0};

function tol(base: Tolerance): Tolerance {
  if (!GPU_BACKENDS.includes(tf.getBackend())) return base;
  const gpu = backendTolerance();
  return {atol: Math.max(base.atol, gpu.atol * 10), rtol: Math.max(base.rtol, gpu.rtol)};
}

const input = (c: FixtureCase, key: string) => fixtureTensor(c.inputs[key]);
const nhwc = (t: Tensor) => tf.transpose(t, [0, 2, 3, 1]) as Tensor4D;
const nchw = (t: Tensor) => tf.transpose(t, [0, 3, 1, 2]) as Tensor4D;

function stateDictOf(c: FixtureCase): Record<string, Tensor> {
  return Object.fromEntries(Object.keys(c.inputs).filter(k => k.startsWith('state.'))
      .map(k => [k.slice('state.'.length), input(c, k)]));
}

function imageListOf(size: number[], imageSizes: number[][], dataFormat: 'channelsFirst'|'channelsLast'): ImageList {
  const [h, w] = size;
  return {tensors: tf.zeros(dataFormat === 'channelsFirst' ? [2, 3, h, w] : [2, h, w, 3]) as Tensor4D,
    imageSizes: imageSizes.map(s => [s[0], s[1]] as [number, number]), dataFormat};
}

describe('detection: GeneralizedRCNNTransform', () => {
  for (const c of casesOf(fixture, 'transform')) {
    for (const dataFormat of ['channelsFirst', 'channelsLast'] as const) {
      it(`${c.name}, ${dataFormat}`, async () => {
        const args = c.args as {min_size: number, max_size: number, image_mean: number[], image_std: number[]};
        const t = new GeneralizedRCNNTransform({minSize: args.min_size, maxSize: args.max_size,
          imageMean: args.image_mean, imageStd: args.image_std, dataFormat});
        const images = ['image0', 'image1'].map(k => tf.tidy(() => tf.transpose(input(c, k), [1, 2, 0]) as Tensor3D));
        const targets = ['boxes0', 'boxes1'].map(k => ({boxes: input(c, k) as Tensor2D}));
        await expectNoLeak(() => t.forward(images, targets), async ({imageList, targets: out}) => {
          expect(imageList.imageSizes).toEqual(c.args.image_sizes);
          const expected = fixtureTensor(c.outputs![0]);
          const want = dataFormat === 'channelsFirst' ? expected : nhwc(expected);
          await expectTensorClose(imageList.tensors, want, tol(PIXELS), 'batched images');
          tf.dispose([expected, want]);
          await expectTensorClose(out![0].boxes, c.outputs![2], tol(SCORES), 'target boxes 0');
          await expectTensorClose(out![1].boxes, c.outputs![3], tol(SCORES), 'target boxes 1');
        });
        tf.dispose([...images, ...targets.map(x => x.boxes)]);
      });
    }
  }

  it('postprocess scales boxes back to the original sizes', async () => {
    const [c] = casesOf(fixture, 'transform_postprocess');
    const t = new GeneralizedRCNNTransform({minSize: 24, maxSize: 40, imageMean: [0, 0, 0], imageStd: [1, 1, 1]});
    const dets = ['boxes0', 'boxes1'].map(k => ({boxes: input(c, k) as Tensor2D, tag: k}));
    const args = c.args as {image_shapes: Array<[number, number]>, original_image_sizes: Array<[number, number]>};
    const out = t.postprocess(dets, args.image_shapes, args.original_image_sizes);
    expect(out.map(o => o.tag)).toEqual(['boxes0', 'boxes1']);
    for (let i = 0; i < 2; i++) await expectTensorClose(out[i].boxes, c.outputs![i], tol(SCORES), `boxes ${i}`);
    tf.dispose([...dets.map(d => d.boxes), ...out.map(o => o.boxes)]);
  });
});

describe('detection: AnchorGenerator', () => {
  for (const c of casesOf(fixture, 'anchors')) {
    it(c.name, async () => {
      const args = c.args as {sizes: number[][], aspect_ratios: number[][], image_size: number[], grid_sizes: number[][]};
      const gen = new AnchorGenerator(args.sizes, args.aspect_ratios);
      const cells = fixtureTensor(c.outputs![1]);
      expect(Array.from(gen.cellAnchors.flatMap(a => Array.from(a)))).toEqual(Array.from(await cells.data()));
      cells.dispose();
      const images = imageListOf(args.image_size, [args.image_size, args.image_size], 'channelsLast');
      const maps = args.grid_sizes.map(([h, w]) => tf.zeros([2, h, w, 4]) as Tensor4D);
      const anchors = gen.forward(images, maps);
      expect(anchors.length).toBe(2);
      for (const a of anchors) await expectTensorClose(a, c.outputs![0], EXACT, 'anchors');
      tf.dispose([...anchors, ...maps, images.tensors]);
    });
  }
});

describe('detection: BoxCoder', () => {
  for (const c of casesOf(fixture, 'box_coder_decode')) {
    it(`decode, ${c.name}`, async () => {
      const coder = new BoxCoder(c.args.weights as [number, number, number, number]);
      const [codes, boxes] = [input(c, 'rel_codes'), input(c, 'boxes')] as Tensor2D[];
      await expectNoLeak(() => coder.decode(codes, [boxes]),
          out => expectTensorClose(out, c.outputs![0], tol(BOXES_SHORT), 'decoded'));
      tf.dispose([codes, boxes]);
    });
  }
  for (const c of casesOf(fixture, 'box_coder_encode')) {
    it(`encode, ${c.name}`, async () => {
      const coder = new BoxCoder(c.args.weights as [number, number, number, number]);
      const [reference, proposals] = [input(c, 'reference_boxes'), input(c, 'proposals')] as Tensor2D[];
      await expectNoLeak(() => coder.encodeSingle(reference, proposals),
          out => expectTensorClose(out, c.outputs![0], tol(SCORES), 'encoded'));
      tf.dispose([reference, proposals]);
    });
  }
});

type RpnArgs = {pre_nms_top_n: number, post_nms_top_n: number, nms_thresh: number, score_thresh: number,
  sizes: number[][], aspect_ratios: number[][], image_size: number[], image_shapes: number[][], in_channels?: number};

function rpnOf(args: RpnArgs, head: RPNHead) {
  return new RegionProposalNetwork({anchorGenerator: new AnchorGenerator(args.sizes, args.aspect_ratios), head,
    preNmsTopN: args.pre_nms_top_n, postNmsTopN: args.post_nms_top_n, nmsThresh: args.nms_thresh,
    scoreThresh: args.score_thresh});
}

async function expectProposals(out: {boxes: Tensor, scores: Tensor}[], c: FixtureCase, boxTol: Tolerance) {
  for (let i = 0; i < 2; i++) {
    await expectTensorClose(out[i].boxes, c.outputs![i], tol(boxTol), `boxes of image ${i}`);
    await expectTensorClose(out[i].scores, c.outputs![2 + i], tol(SCORES), `scores of image ${i}`);
  }
}

describe('detection: RegionProposalNetwork', () => {
  for (const c of casesOf(fixture, 'rpn_filter')) {
    for (const dataFormat of ['channelsFirst', 'channelsLast'] as const) {
      it(`filter_proposals from head outputs, ${c.name}, ${dataFormat}`, async () => {
        const args = c.args as RpnArgs;
        const rpn = rpnOf(args, new RPNHead(4, 3, 1, dataFormat));
        const first = dataFormat === 'channelsFirst';
        const load = (k: string) => tf.tidy(() => (first ? input(c, k) : nhwc(input(c, k))) as Tensor4D);
        const logits = [0, 1, 2].map(i => load(`logits${i}`));
        const deltas = [0, 1, 2].map(i => load(`deltas${i}`));
        const images = imageListOf(args.image_size, args.image_shapes, dataFormat);
        await expectNoLeak(() => rpn.fromHeadOutputs(images, logits, logits, deltas),
            out => expectProposals(out, c, BOXES_SHORT));
        tf.dispose([...logits, ...deltas, images.tensors]);
      });
    }
  }

  it('RPNHead forward with torchvision weights', async () => {
    const [c] = casesOf(fixture, 'rpn_head');
    const head = new RPNHead(6, 3);
    const state = stateDictOf(c);
    expect(head.loadStateDict(state).sort()).toEqual(Object.keys(state).sort());
    const xs = [0, 1, 2].map(i => tf.tidy(() => nhwc(input(c, `x${i}`))));
    const {logits, bboxReg} = head.forward(xs);
    const outs = [...logits, ...bboxReg];
    for (let i = 0; i < 6; i++) {
      const got = nchw(outs[i]);
      await expectTensorClose(got, c.outputs![i], tol({atol: 1e-4, rtol: 1e-4}), `output ${i}`);
      got.dispose();
    }
    tf.dispose([...outs, ...xs, ...Object.values(state)]);
    head.dispose();
  });

  it('forward: head, anchors, decode and filter_proposals', async () => {
    const [c] = casesOf(fixture, 'rpn_forward');
    const args = c.args as RpnArgs;
    const head = new RPNHead(args.in_channels!, 3);
    const state = stateDictOf(c);
    head.loadStateDict(state);
    const rpn = rpnOf(args, head);
    const features = Object.fromEntries([0, 1, 2].map(i => [String(i), tf.tidy(() => nhwc(input(c, `x${i}`)))]));
    const images = imageListOf(args.image_size, args.image_shapes, 'channelsLast');
    await expectNoLeak(() => rpn.forward(images, features), out => expectProposals(out, c, BOXES_LONG));
    tf.dispose([...Object.values(features), ...Object.values(state), images.tensors]);
    head.dispose();
  });
});

describe('detection: RoIHeads', () => {
  it('TwoMLPHead and FastRCNNPredictor with torchvision weights', async () => {
    const [c] = casesOf(fixture, 'box_head');
    const args = c.args as {in_channels: number, representation_size: number, num_classes: number};
    const state = stateDictOf(c);
    const head = new TwoMLPHead(args.in_channels, args.representation_size);
    const predictor = new FastRCNNPredictor(args.representation_size, args.num_classes);
    expect([...head.loadStateDict(state), ...predictor.loadStateDict(state)].sort())
        .toEqual(Object.keys(state).sort());
    const x = tf.tidy(() => nhwc(input(c, 'x')));
    await expectNoLeak(() => {
      const rep = head.forward(x);
      const {scores, bboxDeltas} = predictor.forward(rep);
      return [rep, scores, bboxDeltas];
    }, async outs => {
      for (let i = 0; i < 3; i++) await expectTensorClose(outs[i], c.outputs![i], tol({atol: 1e-4, rtol: 1e-4}));
    });
    tf.dispose([x, ...Object.values(state)]);
    head.dispose();
    predictor.dispose();
  });

  for (const c of casesOf(fixture, 'roi_postprocess')) {
    it(`postprocess_detections, ${c.name}`, async () => {
      const args = c.args as {score_thresh: number, nms_thresh: number, detections_per_img: number,
        image_shapes: Array<[number, number]>};
      const heads = new RoIHeads({boxRoiPool: null, boxHead: null, boxPredictor: null, scoreThresh: args.score_thresh,
        nmsThresh: args.nms_thresh, detectionsPerImg: args.detections_per_img});
      const logits = input(c, 'class_logits') as Tensor2D;
      const regression = input(c, 'box_regression') as Tensor2D;
      const proposals = ['proposals0', 'proposals1'].map(k => input(c, k) as Tensor2D);
      await expectNoLeak(() => heads.postprocessDetections(logits, regression, proposals, args.image_shapes),
          out => expectDetections(out, c, BOXES_SHORT));
      tf.dispose([logits, regression, ...proposals]);
    });
  }

  it('forward: MultiScaleRoIAlign, TwoMLPHead, FastRCNNPredictor, postprocess', async () => {
    const [c] = casesOf(fixture, 'roi_heads_forward');
    const args = c.args as {featmap_names: string[], output_size: number, sampling_ratio: number,
      canonical_scale: number, canonical_level: number, representation_size: number, num_classes: number,
      score_thresh: number, nms_thresh: number, detections_per_img: number, image_shapes: Array<[number, number]>};
    const state = stateDictOf(c);
    const features = Object.fromEntries([0, 1].map(i => [String(i), tf.tidy(() => nhwc(input(c, `x${i}`)))]));
    const channels = features['0'].shape[3];
    const boxHead = new TwoMLPHead(channels * args.output_size ** 2, args.representation_size);
    const boxPredictor = new FastRCNNPredictor(args.representation_size, args.num_classes);
    boxHead.loadStateDict(state);
    boxPredictor.loadStateDict(state);
    const boxRoiPool = new MultiScaleRoIAlign({featmapNames: args.featmap_names, outputSize: args.output_size,
      samplingRatio: args.sampling_ratio, canonicalScale: args.canonical_scale, canonicalLevel: args.canonical_level});
    const heads = new RoIHeads({boxRoiPool, boxHead, boxPredictor, scoreThresh: args.score_thresh,
      nmsThresh: args.nms_thresh, detectionsPerImg: args.detections_per_img});
    const proposals = ['proposals0', 'proposals1'].map(k => input(c, k) as Tensor2D);
    await expectNoLeak(() => heads.forward(features, proposals, args.image_shapes),
        out => expectDetections(out, c, BOXES_LONG));
    tf.dispose([...Object.values(features), ...Object.values(state), ...proposals]);
    boxHead.dispose();
    boxPredictor.dispose();
  });
});

async function expectDetections(out: {boxes: Tensor, scores: Tensor1D, labels: Tensor1D}[], c: FixtureCase,
    boxTol: Tolerance) {
  for (let i = 0; i < 2; i++) {
    await expectTensorClose(out[i].boxes, c.outputs![i], tol(boxTol), `boxes of image ${i}`);
    await expectTensorClose(out[i].scores, c.outputs![2 + i], tol(SCORES), `scores of image ${i}`);
    expect(out[i].labels.dtype).toBe('int32');
    await expectTensorClose(out[i].labels, c.outputs![4 + i], EXACT, `labels of image ${i}`);
  }
}
