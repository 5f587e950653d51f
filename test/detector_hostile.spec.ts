/**
 * Hostile inputs to FasterRCNN.detect, loadStateDict and the builders: every
 * bad argument is an Error naming the op (FasterRCNN.detect,
 * FasterRCNN.loadStateDict, FasterRCNN or GeneralizedRCNNTransform for the
 * builders' options) and the argument, raised before anything is allocated
 * (no tensor left behind); non-finite pixels and weights run to the end
 * (torchvision gives detections or none) with finite detections of the right
 * shapes, under a kernel budget (an unbounded loop fails instead of hanging).
 * A small model: MobileNetV3-Large-FPN at minSize 64, maxSize 96, with the
 * formula weights of test/support/formula_weights.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor, Tensor3D} from '@tensorflow/tfjs-core';
import '../src/index';
import {Detections, FasterRCNN, FasterRCNNOptions, fasterRcnnMobilenetV3LargeFpn,
  GeneralizedRCNNTransform} from '../src/detection/index';
import {HostTensor} from '../src/io/safetensors';
import {formulaStateDict} from './support/formula_weights';
import {bounded, expectRejects, expectThrows, seededUniform} from './support/helpers';
import {GPU_BACKENDS} from './support/tolerances';

const NUM_CLASSES = 3;
const SMALL: FasterRCNNOptions = {numClasses: NUM_CLASSES, minSize: 64, maxSize: 96, rpnPreNmsTopNTest: 50,
  rpnPostNmsTopNTest: 20};
/** Kernel launches one detect of the small model may make (one image of 40x50 takes about 750). */
const BUDGET = 20000;

const small = (options: FasterRCNNOptions = {}) => fasterRcnnMobilenetV3LargeFpn({...SMALL, ...options});

/** A seeded uniform [h, w, 3] image in [0, 1]. */
function image(h: number, w: number, seed = 1): Tensor3D {
  return tf.tensor3d(seededUniform(h * w * 3, 0, 1, seed), [h, w, 3]);
}

/** Awaits fn's rejection (an Error matching every pattern) under the kernel budget, leaking nothing. */
async function expectDetectRejects(fn: () => Promise<unknown>, ...patterns: RegExp[]) {
  const before = tf.memory().numTensors;
  await bounded(() => expectRejects(fn(), ...patterns), BUDGET);
  expect(tf.memory().numTensors).toBe(before);
}

/** Awaits fn (a sync call that must throw) under the kernel budget, leaking nothing. */
async function expectBoundedThrow(fn: () => unknown, ...patterns: RegExp[]) {
  const before = tf.memory().numTensors;
  await bounded(() => expectThrows(fn, ...patterns), BUDGET);
  expect(tf.memory().numTensors).toBe(before);
}

/** Detections of the right shapes and dtypes, every value finite, labels in [1, numClasses). */
async function expectFiniteDetections(dets: Detections[], count: number) {
  expect(dets.length).toBe(count);
  for (const [i, d] of dets.entries()) {
    const k = d.scores.shape[0];
    expect([i, d.boxes.shape, d.scores.shape, d.labels.shape, d.labels.dtype])
        .toEqual([i, [k, 4], [k], [k], 'int32']);
    for (const [name, t] of [['boxes', d.boxes], ['scores', d.scores]] as const) {
      const v = await t.data();
      const bad = Array.from(v).findIndex(x => !Number.isFinite(x));
      if (bad >= 0) throw new Error(`detections[${i}].${name}[${bad}] is ${v[bad]}`);
    }
    for (const l of await d.labels.data()) {
      if (!(l >= 1 && l < NUM_CLASSES)) throw new Error(`detections[${i}] has label ${l}`);
    }
  }
}

/** detect(images) resolves under the kernel budget with finite detections, and leaks nothing. */
async function expectDetectsFinite(model: FasterRCNN, images: Tensor3D[]) {
  const before = tf.memory().numTensors;
  const dets = await bounded(() => model.detect(images), BUDGET);
  try {
    await expectFiniteDetections(dets, images.length);
  } finally {
    tf.dispose(dets.flatMap(d => [d.boxes, d.scores, d.labels]));
  }
  expect(tf.memory().numTensors).toBe(before);
}

// One outer describe: under karma every spec file shares one bundle, where top-level hooks would be global.
describe('FasterRCNN on hostile input', () => {
  /** The formula state_dict of the small model, and the model loaded with it (shared by every describe). */
  let state: Record<string, HostTensor>;
  let model: FasterRCNN;

  beforeAll(() => {
    model = small();
    state = formulaStateDict(model);
    model.loadStateDict(state);
  }, 300000);

  afterAll(() => model?.dispose());

  describe('FasterRCNN.detect on hostile images', () => {
    it('a normal image works (the baseline of the cases below)', async () => {
      const x = image(40, 50);
      try {
        await expectDetectsFinite(model, [x]);
      } finally {
        x.dispose();
      }
    });

    it('images that are not a non-empty array are Errors naming FasterRCNN.detect and images', async () => {
      const x = image(8, 8);
      const batch = tf.zeros([1, 8, 8, 3]);
      try {
        await expectDetectRejects(() => model.detect([]), /FasterRCNN\.detect/, /images must be a non-empty array/,
            /empty array/);
        for (const bad of [null, undefined, 'image', 3, {0: x}]) {
          await expectDetectRejects(() => model.detect(bad as any), /FasterRCNN\.detect/,
              /images must be a non-empty array/);
        }
        await expectDetectRejects(() => model.detect(x as any), /FasterRCNN\.detect/, /images must be/,
            /tf\.Tensor of shape \[8,8,3\]/, /in an array/);
        await expectDetectRejects(() => model.detect(batch as any), /FasterRCNN\.detect/, /images must be/,
            /\[1,8,8,3\]/);
        await expectDetectRejects(() => model.detect([x, null] as any), /FasterRCNN\.detect/, /images\[1\] is null/);
        await expectDetectRejects(() => model.detect([[[0, 0, 0]]] as any), /FasterRCNN\.detect/,
            /images\[0\] is an array, not a tf\.Tensor/);
      } finally {
        tf.dispose([x, batch]);
      }
    });

    it('a rank-2 or rank-4 image is an Error naming images[i] and its shape', async () => {
      const ok = image(8, 8);
      const rank2 = tf.zeros([8, 8]);
      const rank4 = tf.zeros([1, 8, 8, 3]);
      try {
        await expectDetectRejects(() => model.detect([ok, rank2] as any), /FasterRCNN\.detect/,
            /images\[1\] has shape \[8,8\] \(rank 2\)/);
        await expectDetectRejects(() => model.detect([rank4] as any), /FasterRCNN\.detect/,
            /images\[0\] has shape \[1,8,8,3\] \(rank 4\)/, /a batch/);
      } finally {
        tf.dispose([ok, rank2, rank4]);
      }
    });

    it('a 1-channel or 4-channel image is an Error naming images[i] and its channels', async () => {
      for (const c of [1, 4]) {
        const x = tf.zeros([8, 8, c]) as Tensor3D;
        try {
          await expectDetectRejects(() => model.detect([x]), /FasterRCNN\.detect/,
              new RegExp(`images\\[0\\] has shape \\[8,8,${c}\\]: ${c} channels, the model takes 3`));
        } finally {
          x.dispose();
        }
      }
    });

    it('an int32 (or bool) image is an Error naming images[i] and its dtype', async () => {
      for (const dtype of ['int32', 'bool'] as const) {
        const x = tf.zeros([8, 8, 3], dtype) as Tensor3D;
        try {
          await expectDetectRejects(() => model.detect([x]), /FasterRCNN\.detect/,
              new RegExp(`images\\[0\\] has dtype ${dtype}`), /float32 in \[0, 1\]/);
        } finally {
          x.dispose();
        }
      }
    });

    it('a disposed image is an Error naming images[i]', async () => {
      const ok = image(8, 8);
      const x = image(8, 8);
      x.dispose();
      try {
        await expectDetectRejects(() => model.detect([ok, x]), /FasterRCNN\.detect/,
            /images\[1\] is a disposed tf\.Tensor/);
      } finally {
        ok.dispose();
      }
    });

    it('an image of height or width 0 is an Error naming images[i] (torchvision: interpolate refuses it)', async () => {
      for (const [h, w] of [[0, 8], [8, 0], [0, 0]]) {
        const x = tf.zeros([h, w, 3]) as Tensor3D;
        try {
          await expectDetectRejects(() => model.detect([x]), /FasterRCNN\.detect/,
              new RegExp(`images\\[0\\] is ${h} x ${w}: height and width must be at least 1`));
        } finally {
          x.dispose();
        }
      }
    });

    it('a 1 x 100000 image (resized to 0 x 96) is an Error before anything is allocated', async () => {
      // torchvision: scale = min(64 / 1, 96 / 100000) -> 0 x 96: "Input and output sizes should be greater than 0"
      const x = tf.zeros([1, 100000, 3]) as Tensor3D;
      try {
        await expectDetectRejects(() => model.detect([x]), /FasterRCNN\.detect/,
            /images\[0\] \(1 x 100000\) resizes to 0 x 9[56] \(minSize 64, maxSize 96\): an empty image/);
      } finally {
        x.dispose();
      }
    });

    it('a resize past 2^28 values (a huge maxSize) is an Error before anything is allocated', async () => {
      const huge = small({maxSize: 1e7});
      const x = tf.zeros([1, 100000, 3]) as Tensor3D;
      try {
        huge.loadStateDict(state);
        // scale = min(64 / 1, 1e7 / 100000) = 64: 64 x 6400000 x 3, 1.2e9 values
        await expectDetectRejects(() => huge.detect([x]), /FasterRCNN\.detect/,
            /images\[0\] \(1 x 100000\) resizes to 64 x 6400000/, /over the limit of 2\^28/);
        // the transform alone refuses it the same way
        await expectBoundedThrow(() => huge.transform.forward([x]), /GeneralizedRCNNTransform\.forward/,
            /images\[0\]/, /over the limit of 2\^28/);
      } finally {
        x.dispose();
        huge.dispose();
      }
    });

    /** A [40, 50, 3] image with value v at every pixel, at one value, or in its first half. */
    function imageWith(v: number, where: 'all'|'one'|'half'): Tensor3D {
      const [h, w] = [40, 50];
      const values = seededUniform(h * w * 3, 0, 1, 3);
      if (where === 'all') values.fill(v);
      else if (where === 'one') values[(7 * w + 9) * 3 + 1] = v;
      else values.fill(v, 0, values.length / 2);
      return tf.tensor3d(values, [h, w, 3]);
    }

    it('NaN and Infinity in some pixels: detect resolves with finite detections (or none) and leaks nothing',
        async () => {
          const images = [imageWith(NaN, 'one'), imageWith(NaN, 'half'), imageWith(-Infinity, 'one'),
            imageWith(Infinity, 'half')];
          try {
            for (const x of images) await expectDetectsFinite(model, [x]);
            await expectDetectsFinite(model, images);
          } finally {
            tf.dispose(images);
          }
        });

    it('all-NaN or all-Infinity images (no proposal survives the RPN): no detections, no Error, no leak', async () => {
      // torchvision 0.14.1 gives boxes [0, 4], labels [0], scores [0] for these
      const images = [imageWith(NaN, 'all'), imageWith(Infinity, 'all'), imageWith(-Infinity, 'all')];
      try {
        for (const x of images) await expectDetectsFinite(model, [x]);
        await expectDetectsFinite(model, images);
        const mixed = [images[0], imageWith(0.5, 'one')];
        try {
          await expectDetectsFinite(model, mixed);
        } finally {
          mixed[1].dispose();
        }
      } finally {
        tf.dispose(images);
      }
    });

    it('detect before loadStateDict is an Error naming FasterRCNN.detect', async () => {
      const m = small();
      const x = image(8, 8);
      try {
        await expectDetectRejects(() => m.detect([x]), /FasterRCNN\.detect/, /call loadStateDict first/);
        await expectDetectRejects(() => m.detectWithIntermediates([x]), /FasterRCNN\.detect/, /loadStateDict first/);
      } finally {
        x.dispose();
        m.dispose();
      }
    });
  });

  describe('FasterRCNN.loadStateDict on hostile state_dicts', () => {
    const KEY = 'rpn.head.cls_logits.weight';

    /** detect's boxes and scores of one image, to see that a failed load left the model as it was. */
    /** The same detections: exactly on cpu, wasm and tensorflow; GPU runs may differ in the last bits. */
    function expectSameModel(after: number[], before: number[]) {
      expect(after.length).toBe(before.length);
      const gpu = GPU_BACKENDS.includes(tf.getBackend());
      after.forEach((v, i) => {
        if (gpu ? !(Math.abs(v - before[i]) <= 1e-4 * (1 + Math.abs(before[i]))) : v !== before[i]) {
          throw new Error(`detection value ${i}: ${v} after, ${before[i]} before`);
        }
      });
    }

    async function fingerprint(m: FasterRCNN): Promise<number[]> {
      const x = image(40, 50, 5);
      const dets = await m.detect([x]);
      const out = [...await dets[0].boxes.data(), ...await dets[0].scores.data()];
      tf.dispose([x, ...dets.flatMap(d => [d.boxes, d.scores, d.labels])]);
      return out;
    }

    it('a missing key, a wrong shape, an int tensor or an unexpected key: an Error naming the key; the model unchanged',
        async () => {
          const before = await fingerprint(model);
          const missing = {...state};
          delete missing[KEY];
          const int = (v: HostTensor): HostTensor => ({...v, dtype: 'int32', values: new Int32Array(v.values.length),
            sourceDtype: 'I64'});
          const cases: Array<[Record<string, unknown>, RegExp[]]> = [
            [missing, [/no 'rpn\.head\.cls_logits\.weight'/]],
            [{...state, [KEY]: {...state[KEY], shape: [15, 256, 1, 2]}}, [/'rpn\.head\.cls_logits\.weight' has shape/]],
            [{...state, [KEY]: {...state[KEY], shape: [15, 256]}},
              [/'rpn\.head\.cls_logits\.weight' has shape \[15,256\]/]],
            [{...state, [KEY]: int(state[KEY])}, [/'rpn\.head\.cls_logits\.weight' has dtype int32/]],
            [{...state, 'roi_heads.mask_head.0.weight': state[KEY]}, [/unexpected key/, /mask_head/]],
            [{...state, [KEY]: null}, [/no 'rpn\.head\.cls_logits\.weight'/]],
          ];
          for (const [bad, patterns] of cases) {
            await expectBoundedThrow(() => model.loadStateDict(bad as any), /FasterRCNN\.loadStateDict/, ...patterns);
          }
          const intTensor = tf.zeros(state[KEY].shape, 'int32');
          try {
            await expectBoundedThrow(() => model.loadStateDict({...state, [KEY]: intTensor}),
                /FasterRCNN\.loadStateDict/, /'rpn\.head\.cls_logits\.weight' has dtype int32/);
          } finally {
            intTensor.dispose();
          }
          for (const bad of [null, undefined, 5, 'weights', tf.scalar(1)]) {
            await expectBoundedThrow(() => model.loadStateDict(bad as any), /FasterRCNN\.loadStateDict/, /stateDict/);
            if (bad instanceof Tensor) bad.dispose();
          }
          expectSameModel(await fingerprint(model), before);
        });

    /** state with KEY replaced by a disposed tf.Tensor, or by a HostTensor of 3 values. */
    function brokenStates(): Array<[Record<string, unknown>, RegExp]> {
      const disposed = tf.zeros(state[KEY].shape);
      disposed.dispose();
      return [[{...state, [KEY]: disposed}, /disposed/],
        [{...state, [KEY]: {...state[KEY], values: new Float32Array(3)}}, /not a typed array of 3840 elements/]];
    }

    it('a disposed tf.Tensor or a HostTensor whose values do not fit its shape: an Error naming the key, no leak',
        async () => {
          const before = tf.memory().numTensors;
          for (const [bad, pattern] of brokenStates()) {
            const m = small();
            try {
              expectThrows(() => m.loadStateDict(bad as any), /FasterRCNN\.loadStateDict|RPNHead/,
                  /'rpn\.head\.cls_logits\.weight'/, pattern);
            } finally {
              m.dispose();
            }
          }
          expect(tf.memory().numTensors).toBe(before);
        });

    it('a disposed tensor or short values are found before anything loads: the model keeps its weights',
        async () => {
          const first = 'backbone.body.0.0.weight';
          const before = await fingerprint(model);
          for (const [bad, pattern] of brokenStates()) {
            // a different first conv: a load that went ahead before failing would change the detections
            const changed = {...bad, [first]: {...state[first], values: new Float32Array(state[first].values.length)}};
            await expectBoundedThrow(() => model.loadStateDict(changed as any), /FasterRCNN\.loadStateDict/,
                /'rpn\.head\.cls_logits\.weight'/, pattern);
            const m = small();
            try {
              await expectBoundedThrow(() => m.loadStateDict(bad as any), /FasterRCNN\.loadStateDict/, pattern);
            } finally {
              m.dispose();
            }
          }
          expectSameModel(await fingerprint(model), before);
        });
  });

  describe('FasterRCNN with NaN weights, then disposed (one model, loaded twice)', () => {
    let m: FasterRCNN;
    let x: Tensor3D;
    let before: number;

    beforeAll(() => {
      before = tf.memory().numTensors;
      m = small();
      x = image(40, 50);
    });

    afterAll(() => {
      x.dispose();
      m.dispose();
    });

    it('NaN weights load (as torch): a NaN class logit bias gives finite detections or none', async () => {
      const cls = state['roi_heads.box_predictor.cls_score.bias'];
      const values = Float32Array.from(cls.values as Float32Array);
      values[1] = NaN;
      m.loadStateDict({...state, 'roi_heads.box_predictor.cls_score.bias': {...cls, values}});
      await expectDetectsFinite(m, [x]);
    });

    it('NaN objectness biases (no proposal passes): no detections, no Error, no leak', async () => {
      const nanBias = {...state['rpn.head.cls_logits.bias'], values: new Float32Array(15).fill(NaN)};
      m.loadStateDict({...state, 'rpn.head.cls_logits.bias': nanBias});
      await expectDetectsFinite(m, [x]);
    });

    it('detect and loadStateDict after dispose are Errors naming the model as disposed; dispose twice is fine',
        async () => {
          m.dispose();
          m.dispose();
          expect(tf.memory().numTensors).toBe(before + 1);  // x
          await expectDetectRejects(() => m.detect([x]), /FasterRCNN\.detect/, /the model is disposed/);
          await expectDetectRejects(() => m.detectWithIntermediates([x]), /FasterRCNN\.detect/, /disposed/);
          await expectBoundedThrow(() => m.loadStateDict(state), /FasterRCNN/, /the model is disposed/);
        });
  });

  describe('FasterRCNN builders with invalid options', () => {
    it('numClasses, sizes, top-n and thresholds out of range: an Error naming the option', async () => {
      const cases: Array<[FasterRCNNOptions, RegExp[]]> = [
        [{numClasses: 1}, [/FasterRCNN/, /numClasses/, />= 2/]],
        [{numClasses: 0}, [/FasterRCNN/, /numClasses must be a positive integer, got 0/]],
        [{numClasses: NaN}, [/FasterRCNN/, /numClasses must be a positive integer, got NaN/]],
        [{numClasses: 2.5}, [/FasterRCNN/, /numClasses must be a positive integer/]],
        [{numClasses: '3' as any}, [/FasterRCNN/, /numClasses must be a positive integer/]],
        [{minSize: -64}, [/GeneralizedRCNNTransform/, /minSize/]],
        [{minSize: 0}, [/GeneralizedRCNNTransform/, /minSize/]],
        [{minSize: NaN}, [/GeneralizedRCNNTransform/, /minSize/]],
        [{minSize: []}, [/GeneralizedRCNNTransform/, /minSize/]],
        [{maxSize: 0}, [/GeneralizedRCNNTransform/, /maxSize/]],
        [{maxSize: Infinity}, [/GeneralizedRCNNTransform/, /maxSize/]],
        [{sizeDivisible: 0}, [/GeneralizedRCNNTransform/, /sizeDivisible/]],
        [{sizeDivisible: 2.5}, [/GeneralizedRCNNTransform/, /sizeDivisible/]],
        [{fixedSize: [0, 64]}, [/GeneralizedRCNNTransform/, /fixedSize/]],
        [{fixedSize: [64] as any}, [/GeneralizedRCNNTransform/, /fixedSize/]],
        [{imageMean: []}, [/GeneralizedRCNNTransform/, /imageMean/]],
        [{imageStd: [1, 1]}, [/GeneralizedRCNNTransform/, /imageStd/]],
        [{boxDetectionsPerImg: 0}, [/FasterRCNN/, /boxDetectionsPerImg must be a positive integer, got 0/]],
        [{boxDetectionsPerImg: NaN}, [/FasterRCNN/, /boxDetectionsPerImg/]],
        [{rpnPreNmsTopNTest: 0}, [/FasterRCNN/, /rpnPreNmsTopNTest/]],
        [{rpnPostNmsTopNTest: -1}, [/FasterRCNN/, /rpnPostNmsTopNTest/]],
        [{rpnNmsThresh: NaN}, [/FasterRCNN/, /rpnNmsThresh/]],
        [{boxScoreThresh: Infinity}, [/FasterRCNN/, /boxScoreThresh/]],
        [{rpnAnchorSizes: [[32]]}, [/FasterRCNN/, /anchor sizes/]],
      ];
      for (const [options, patterns] of cases) {
        try {
          await bounded(() => expectThrows(() => small(options), ...patterns), BUDGET);
        } catch (e) {
          throw new Error(`options ${JSON.stringify(options)}: ${(e as Error).message}`);
        }
      }
    });

    it('a builder that throws frees the backbone it built (nothing allocated)', async () => {
      for (const options of [{numClasses: 1}, {minSize: -64}, {boxDetectionsPerImg: 0}] as FasterRCNNOptions[]) {
        await expectBoundedThrow(() => small(options), /FasterRCNN|GeneralizedRCNNTransform/);
      }
    });

    it('the transform alone refuses the same sizes (GeneralizedRCNNTransform)', async () => {
      const base = {minSize: 64, maxSize: 96, imageMean: [0, 0, 0], imageStd: [1, 1, 1]};
      await expectBoundedThrow(() => new GeneralizedRCNNTransform({...base, minSize: -1}), /GeneralizedRCNNTransform/,
          /minSize/);
      await expectBoundedThrow(() => new GeneralizedRCNNTransform({...base, fixedSize: [64, NaN]}),
          /GeneralizedRCNNTransform/, /fixedSize/);
      await expectBoundedThrow(() => new GeneralizedRCNNTransform({...base, dataFormat: 'NHWC' as any}),
          /GeneralizedRCNNTransform/, /dataFormat/);
    });
  });
});
