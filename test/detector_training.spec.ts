/**
 * FasterRCNN training (prepareTraining + trainingLosses) against the real
 * torchvision 0.14.1 in train mode with frozen norms
 * (test/fixtures/detector_training.json, tools/fixtures_detector_training.py):
 * the samplers' batch sizes exceed every candidate so the sampling is
 * deterministic; the four losses, the sampled counts and the gradients of
 * twelve parameters (RPN head, box head, predictor, FPN, backbone body)
 * match. Also the state_dict round trip and one optimizer step.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor, Tensor3D} from '@tensorflow/tfjs-core';
import '../src/index';
import {disposeTrainingBatch, FasterRCNN, GeneralizedRCNNTransform} from '../src/detection/index';
import training from './fixtures/detector_training.json';
import {fixtureDetector, fixtureStateDict} from './support/detector_fixtures';
import {expectRejects, Fixture, FixtureCase, fixtureTensor, fixtureValues} from './support/helpers';
import {GPU_BACKENDS} from './support/tolerances';

const fixture = training as unknown as Fixture;

type Args = {
  builder: string, kwargs: Record<string, number>, pth: string, weights: Array<[string, number[], number, number]>,
  image_sizes: number[][], targets: Array<{boxes: number[][], labels: number[]}>,
  counts: {rpn_positive: number[], rpn_negative: number[], roi_positive: number[], roi_negative: number[]},
  grad_keys: string[], grad_shapes: Record<string, number[]>, output_names: string[],
};

const modelOf = fixtureDetector;

const stateDictOf = fixtureStateDict;

function output(c: FixtureCase, name: string): Float32Array {
  const i = (c.args as Args).output_names.indexOf(name);
  if (i < 0) throw new Error(`no output ${name}`);
  return fixtureValues(c.outputs![i]) as Float32Array;
}

/** A tfjs-layout gradient in torch's layout (torchShape tells a depthwise kernel from a conv's). */
function torchLayout(g: Tensor, torchShape: number[]): Tensor {
  if (g.rank === 2) return tf.transpose(g);
  if (g.rank === 4) return tf.transpose(g, torchShape[1] === 1 && g.shape[3] === 1 ? [2, 3, 0, 1] : [3, 2, 0, 1]);
  return g;
}

const gpu = () => GPU_BACKENDS.includes(tf.getBackend());

for (const c of fixture.cases.filter(x => x.op === 'detector_training')) {
  const args = c.args as Args;
  describe(`FasterRCNN ${args.builder} training losses against torchvision`, () => {
    let model: FasterRCNN;
    let images: Tensor3D[];
    let targets: Array<{boxes: tf.Tensor2D, labels: tf.Tensor1D}>;

    beforeAll(async () => {
      model = modelOf(args);
      model.loadStateDict(await stateDictOf(args));
      images = ['image0', 'image1'].map(k => tf.tidy(() => tf.transpose(fixtureTensor(c.inputs[k]), [1, 2, 0])) as Tensor3D);
      targets = args.targets.map(t => ({boxes: tf.tensor2d(t.boxes, [t.boxes.length, 4]),
        labels: tf.tensor1d(t.labels, 'int32')}));
    }, 600000);

    afterAll(() => {
      tf.dispose([...images, ...targets.flatMap(t => [t.boxes, t.labels])]);
      model?.dispose();
    });

    it('sampled counts, losses and gradients match torchvision; no tensor leaks', async () => {
      const before = tf.memory().numTensors;
      const batch = await model.prepareTraining(images, targets);
      try {
        expect(batch.imageSizes).toEqual(args.image_sizes);
        expect(batch.counts).toEqual({rpnPositive: args.counts.rpn_positive, rpnNegative: args.counts.rpn_negative,
          boxPositive: args.counts.roi_positive, boxNegative: args.counts.roi_negative});
        const named = model.namedVariables();
        // ResNet's gradients through its stride-4 FPN level cost minutes in the JS cpu backend's conv filter
        // gradient: its case checks the losses, MobileNet's the gradients too; on the cpu backend (pure JS, the
        // slowest) those of the layers after the RoI pooling and the RPN's 1x1 convs only.
        const cheap = (k: string) => /^rpn\.head\.(cls_logits|bbox_pred)\.|^roi_heads\.box_(predictor\.|head\.fc7\.)/.test(k);
        const keys = args.builder !== 'fasterrcnn_mobilenet_v3_large_fpn' ? [] :
          args.grad_keys.filter(k => tf.getBackend() !== 'cpu' || cheap(k));
        let losses: tf.Scalar[] = [];
        const total = () => {
          const l = model.trainingLosses(batch);
          losses = [l.lossClassifier, l.lossBoxReg, l.lossObjectness, l.lossRpnBoxReg].map(t => tf.keep(t));
          return tf.addN(losses) as tf.Scalar;
        };
        const {value, grads} = keys.length ? tf.variableGrads(total, keys.map(k => named[k])) :
            {value: tf.tidy(total), grads: {} as tf.NamedTensorMap};
        try {
          const got = await Promise.all(losses.map(async l => (await l.data())[0]));
          tf.dispose(losses);
          const names = ['loss_classifier', 'loss_box_reg', 'loss_objectness', 'loss_rpn_box_reg'];
          const lossTol = gpu() ? 2e-2 : 1e-4;
          names.forEach((name, i) => {
            const want = output(c, name)[0];
            if (!(Math.abs(got[i] - want) <= lossTol * Math.max(1, Math.abs(want)))) {
              throw new Error(`${name}: got ${got[i]}, torchvision ${want}`);
            }
          });
          for (const key of keys) {
            const g = grads[named[key].name];
            const torch = tf.tidy(() => torchLayout(g, args.grad_shapes[key]));
            expect([key, ...torch.shape]).toEqual([key, ...args.grad_shapes[key]]);
            const flat = await torch.data();
            torch.dispose();
            const want = output(c, `grad:${key}`);
            const scale = want[want.length - 1];
            const tol = (gpu() ? 5e-2 : 2e-3) * scale + 1e-7;
            for (let k = 0; k < want.length - 2; k++) {
              const v = flat[(k * 7919) % flat.length];
              if (!(Math.abs(v - want[k]) <= tol + (gpu() ? 5e-2 : 2e-3) * Math.abs(want[k]))) {
                throw new Error(`gradient of ${key} at flat index ${(k * 7919) % flat.length}: got ${v}, ` +
                    `torchvision ${want[k]} (mean |grad| ${scale})`);
              }
            }
          }
        } finally {
          tf.dispose([value, ...Object.values(grads), ...losses]);
        }
      } finally {
        disposeTrainingBatch(batch);
      }
      expect(tf.memory().numTensors).toBe(before);
    }, 600000);
  });
}

describe('FasterRCNN training helpers', () => {
  const args = fixture.cases[0].args as Args;

  // eval top-n small: detect() runs the box head on every proposal
  const smallArgs = {...args, kwargs: {...args.kwargs, rpn_pre_nms_top_n_test: 300, rpn_post_nms_top_n_test: 25}};

  it('stateDict() loads back to the same model (norms folded); one SGD step lowers the loss', async () => {
    const model = modelOf(smallArgs);
    model.loadStateDict(await stateDictOf(args));
    const c = fixture.cases[0];
    const images = ['image0', 'image1'].map(k => tf.tidy(() => tf.transpose(fixtureTensor(c.inputs[k]), [1, 2, 0])) as Tensor3D);
    const targets = args.targets.map(t => ({boxes: tf.tensor2d(t.boxes, [t.boxes.length, 4]),
      labels: tf.tensor1d(t.labels, 'int32')}));
    const copy = modelOf(smallArgs);
    const state = model.stateDict();
    try {
      expect(Object.keys(state).sort()).toEqual(Object.keys(model.expectedShapes()).sort());
      for (const [k, shape] of Object.entries(model.expectedShapes())) expect([k, ...state[k].shape]).toEqual([k, ...shape]);
      copy.loadStateDict(state);
      const [a, b] = [await model.detect([images[0]]), await copy.detect([images[0]])];
      const [sa, sb] = [await a[0].scores.data(), await b[0].scores.data()];
      expect(sb.length).toBe(sa.length);
      sa.forEach((s, i) => expect(Math.abs(s - sb[i])).toBeLessThan(gpu() ? 1e-3 : 1e-5));
      tf.dispose([...a, ...b].flatMap(d => [d.boxes, d.scores, d.labels]));

      const batch = await model.prepareTraining(images, targets);
      const total = () => {
        const l = model.trainingLosses(batch);
        return tf.addN([l.lossClassifier, l.lossBoxReg, l.lossObjectness, l.lossRpnBoxReg]) as tf.Scalar;
      };
      // a small step (norm 1e-2) down the gradient of the box predictor (a whole-model backward costs minutes on
      // the JS cpu backend)
      const heads = Object.entries(model.namedVariables()).filter(([k]) => k.startsWith('roi_heads.box_predictor.'))
          .map(([, v]) => v);
      const {value: first, grads} = tf.variableGrads(total, heads);
      const norm = tf.tidy(() => tf.sqrt(tf.addN(Object.values(grads).map(g => tf.sum(tf.square(g))))));
      const step = 1e-2 / (await norm.data())[0];
      for (const v of heads) {
        const next = tf.tidy(() => tf.sub(v, tf.mul(grads[v.name], step)));
        v.assign(next);
        next.dispose();
      }
      const second = tf.tidy(total);
      expect((await second.data())[0]).toBeLessThan((await first.data())[0]);
      tf.dispose([first, second, norm, ...Object.values(grads)]);
      disposeTrainingBatch(batch);
    } finally {
      tf.dispose([...Object.values(state), ...images, ...targets.flatMap(t => [t.boxes, t.labels])]);
      model.dispose();
      copy.dispose();
    }
  }, 600000);

  it('an image without objects: every sample negative, no box loss (torchvision: the same)', async () => {
    const model = modelOf(smallArgs);
    model.loadStateDict(await stateDictOf(args));
    const image = tf.tidy(() => tf.mul(tf.ones([40, 50, 3]), 0.5)) as Tensor3D;
    const target = {boxes: tf.zeros([0, 4]) as tf.Tensor2D, labels: tf.zeros([0], 'int32') as tf.Tensor1D};
    const before = tf.memory().numTensors;
    try {
      const batch = await model.prepareTraining([image], [target], {random: () => 0.5});
      expect(batch.counts.rpnPositive).toEqual([0]);
      expect(batch.counts.boxPositive).toEqual([0]);
      expect(batch.counts.rpnNegative[0]).toBeGreaterThan(0);
      const losses = tf.tidy(() => Object.values(model.trainingLosses(batch)));
      const [cls, box, objectness, rpnBox] = await Promise.all(losses.map(async l => (await l.data())[0]));
      expect([box, rpnBox]).toEqual([0, 0]);
      expect(Number.isFinite(cls) && Number.isFinite(objectness)).toBe(true);
      tf.dispose(losses);
      disposeTrainingBatch(batch);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      tf.dispose([image, target.boxes, target.labels]);
      model.dispose();
    }
  }, 600000);

  it("training's transform draws each image's minSize from the list (torch_choice); eval takes the last", () => {
    const transform = new GeneralizedRCNNTransform({minSize: [40, 60, 80], maxSize: 1000, imageMean: [0, 0, 0],
      imageStd: [1, 1, 1]});
    const images = [tf.zeros([20, 30, 3]), tf.zeros([20, 30, 3])] as Tensor3D[];
    const draws = [0.1, 0.9];
    const trained = transform.forward(images, undefined, {random: () => draws.shift()!});
    const evaluated = transform.forward(images);
    try {
      expect(trained.imageList.imageSizes).toEqual([[40, 60], [80, 120]]);
      expect(evaluated.imageList.imageSizes).toEqual([[80, 120], [80, 120]]);
    } finally {
      tf.dispose([...images, trained.imageList.tensors, evaluated.imageList.tensors]);
    }
  });

  it('prepareTraining rejects bad targets with Errors naming the argument', async () => {
    const model = modelOf(args);
    model.loadStateDict(await stateDictOf(args));
    const image = tf.zeros([40, 50, 3]) as Tensor3D;
    const labels = tf.tensor1d([1], 'int32');
    const cases: Array<[unknown, RegExp]> = [
      [[], /targets must be an array with one/],
      [[{boxes: tf.tensor2d([[0, 0, 10, 10]]), labels: tf.tensor1d([1], 'float32')}], /labels must be an int32/],
      [[{boxes: tf.tensor2d([[5, 0, 5, 10]]), labels}], /positive height and width/],
      [[{boxes: tf.tensor2d([[0, 0, NaN, 10]]), labels}], /positive height and width and be finite/],
      [[{boxes: tf.tensor2d([[0, 0, 10, 10]]), labels: tf.tensor1d([5], 'int32')}], /labels must be in \[0, 5\)/],
      [[{boxes: tf.tensor1d([0, 0, 10, 10]), labels}], /boxes must be a float32 tensor of shape \[G, 4\]/],
    ];
    const before = tf.memory().numTensors;
    try {
      for (const [t, message] of cases) {
        await expectRejects(model.prepareTraining([image], t as never), /FasterRCNN\.prepareTraining/, message);
      }
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      tf.dispose([image, labels, ...cases.flatMap(([t]) => (t as Array<{boxes: Tensor, labels: Tensor}>)
          .flatMap(x => [x.boxes, x.labels]))]);
      model.dispose();
    }
  }, 600000);
});
