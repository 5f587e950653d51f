/**
 * Hostile inputs to the layers (issue 11): sizes of 0 and empty image lists
 * for MultiScaleRoIAlign (an Error, never an unbounded loop), boxes for
 * another number of images than x holds, no boxes at all, mixed channel
 * counts, NaN in clipBoxesToImage, dropBlock on a batch of 0, and
 * FeaturePyramidNetwork on 0x0 maps leaving the backend usable (and its
 * int32 maps and NaN through P6 -> P7). Every case
 * runs under a kernel budget: code that would loop without bound fails the
 * spec instead of hanging the run.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor, Tensor2D, Tensor4D} from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as vision from '../src/index';
import {bounded, expectClose, expectNoLeak, expectTensorClose, expectThrows, seededUniform} from './support/helpers';
import {DATA_FORMATS} from './support/roi';

/** expectThrows under a kernel budget, leaking nothing. */
async function expectBoundedThrow(fn: () => unknown, ...patterns: RegExp[]) {
  const before = tf.memory().numTensors;
  await bounded(() => tf.tidy(() => expectThrows(fn, ...patterns)));
  expect(tf.memory().numTensors).toBe(before);
}

const S = 32;  // image size
const map = (n: number, h: number, w: number, c: number, seed: number, first = false) =>
  tf.tensor4d(seededUniform(n * h * w * c, -1, 1, seed), first ? [n, c, h, w] : [n, h, w, c]);
const boxList = () => [tf.tensor2d([[0, 0, 8, 8], [2, 2, 30, 30]]), tf.tensor2d([[1, 1, 5, 9]])];
const pooler = (args: Partial<vision.MultiScaleRoIAlignArgs> = {}) => new vision.MultiScaleRoIAlign(
    {featmapNames: ['p2', 'p3'], outputSize: 2, samplingRatio: 2, canonicalScale: 16, canonicalLevel: 3, ...args});

describe('MultiScaleRoIAlign: sizes of 0 and empty image lists are Errors, never a loop', () => {
  it('constructor imageShape [0, 0] (and other sizes <= 0) is an Error naming the argument', async () => {
    for (const imageShape of [[0, 0], [32, 0], [-1, 32], [NaN, 32], [32]] as any[]) {
      await expectBoundedThrow(() => pooler({imageShape}), /MultiScaleRoIAlign/, /'imageShape'/, /> 0/);
    }
  });

  it('forward: an image height or width of 0 is an Error naming imageShapes[i]', async () => {
    for (const bad of [[0, S], [S, 0], [Infinity, S]]) {
      await expectBoundedThrow(() => pooler().forward({p2: map(2, 8, 8, 3, 1) as Tensor4D,
        p3: map(2, 4, 4, 3, 2) as Tensor4D}, boxList(), [[S, S], bad as [number, number]]),
      /MultiScaleRoIAlign/, /'imageShapes\[1\]'/, /> 0/);
    }
  });

  it('forward: imageShapes [] is an Error (torchvision: "images list should not be empty")', async () => {
    await expectBoundedThrow(() => pooler().forward({p2: map(2, 8, 8, 3, 1) as Tensor4D,
      p3: map(2, 4, 4, 3, 2) as Tensor4D}, boxList(), []), /MultiScaleRoIAlign/, /'imageShapes'/, /empty/);
  });

  it('forward: a feature map of height (or width) 0 is an Error naming the map', async () => {
    for (const [h, w] of [[0, 4], [4, 0], [0, 0]]) {
      await expectBoundedThrow(() => pooler().forward({p2: map(2, 8, 8, 3, 1) as Tensor4D,
        p3: tf.zeros([2, h, w, 3]) as Tensor4D}, boxList(), [[S, S], [S, S]]),
      /MultiScaleRoIAlign/, /'features\[1\]'/, /empty spatial size/);
      await expectBoundedThrow(() => pooler().forward({p2: tf.zeros([2, h, w, 3]) as Tensor4D,
        p3: map(2, 4, 4, 3, 2) as Tensor4D}, boxList(), [[S, S], [S, S]]),
      /MultiScaleRoIAlign/, /'features\[0\]'/, /empty spatial size/);
    }
  });

  it('call: image sizes of 0 and maps of height 0 are Errors too', async () => {
    const boxes = () => tf.tensor3d([[[0, 0, 8, 8]], [[1, 1, 5, 9]]]);
    await expectBoundedThrow(() => pooler().apply([map(2, 8, 8, 3, 1), map(2, 4, 4, 3, 2), boxes()],
        {imageShapes: [[0, 0], [0, 0]]}), /MultiScaleRoIAlign/, /'imageShapes\[0\]'/);
    await expectBoundedThrow(() => pooler({imageShape: [S, S]}).apply(
        [map(2, 8, 8, 3, 1), tf.zeros([2, 0, 4, 3]), boxes()]), /MultiScaleRoIAlign/, /'inputs\[1\]'/, /empty/);
  });

  it('inferScales and mapLevels reject empty lists, scales of 0 and over-long pyramids', async () => {
    const layer = pooler();
    await expectBoundedThrow(() => layer.inferScales([map(1, 8, 8, 3, 1) as Tensor4D], []), /'imageShapes'/, /empty/);
    const boxes = () => tf.tensor2d([[0, 0, 10, 10]]);
    await expectBoundedThrow(() => layer.mapLevels(boxes(), [1 / 4, 0]), /MultiScaleRoIAlign/, /'scales'/);
    await expectBoundedThrow(() => layer.mapLevels(boxes(), [Infinity, 1 / 4]), /MultiScaleRoIAlign/, /'scales'/);
    await expectBoundedThrow(() => layer.mapLevels(boxes(), [1, 2 ** -100]), /MultiScaleRoIAlign/, /'scales'/, /64/);
    await expectBoundedThrow(() => layer.mapLevels(boxes(), []), /MultiScaleRoIAlign/, /'scales'/);
  });
});

describe('boxes for another number of images than x holds are Errors naming both counts', () => {
  const layers: Array<[string, () => tfl.layers.Layer, number]> = [
    ['RoIAlign', () => new vision.RoIAlign({outputSize: 2, samplingRatio: 2}), 3],
    ['RoIPool', () => new vision.RoIPool({outputSize: 2}), 3],
    ['PSRoIAlign', () => new vision.PSRoIAlign({outputSize: 2, samplingRatio: 1}), 8],
    ['PSRoIPool', () => new vision.PSRoIPool({outputSize: 2}), 8],
  ];
  for (const [name, make, c] of layers) {
    it(`${name}: [N, K, 4] boxes for N + 1 or N - 1 images`, async () => {
      const layer = make();
      for (const n of [3, 1]) {
        await expectBoundedThrow(() => layer.apply([map(2, 6, 6, c, 3), tf.zeros([n, 2, 4])]),
            new RegExp(name), /'boxes'/, new RegExp(`${n} image`), /x holds 2/);
      }
    });

    it(`${name}: [K, 5] batch indices outside [0, N), negative or not integers`, async () => {
      const layer = make();
      for (const index of [2, 7, -1, 0.5, NaN]) {
        await expectBoundedThrow(() => layer.apply([map(2, 6, 6, c, 3), tf.tensor2d([[0, 0, 0, 3, 3], [index, 1, 1, 4, 4]])]),
            new RegExp(name), /'boxes'/, new RegExp(`batch index ${index}`), /2 image/, /\[0, 2\)/);
      }
      // In-range indices still pool (int32 RoIs too).
      await expectNoLeak(() => bounded(() => tf.tidy(() => layer.apply([map(2, 6, 6, c, 3),
        tf.tensor2d([[1, 0, 0, 3, 3], [0, 1, 1, 4, 4]], undefined, 'int32')]) as Tensor)),
      out => expect(out.shape[0]).toBe(2));
    });
  }

  it('MultiScaleRoIAlign.forward: boxes for more or fewer images than the maps hold', async () => {
    const feats = () => ({p2: map(2, 8, 8, 3, 1) as Tensor4D, p3: map(2, 4, 4, 3, 2) as Tensor4D});
    await expectBoundedThrow(() => pooler().forward(feats(), [...boxList(), tf.zeros([1, 4]) as Tensor2D],
        [[S, S], [S, S], [S, S]]), /MultiScaleRoIAlign/, /'boxes'/, /3 image/, /hold 2/);
    await expectBoundedThrow(() => pooler().forward(feats(), boxList().slice(0, 1), [[S, S]]),
        /MultiScaleRoIAlign/, /'boxes'/, /1 image/, /hold 2/);
    await expectBoundedThrow(() => pooler().forward(feats(), boxList(), [[S, S]]),
        /MultiScaleRoIAlign/, /'imageShapes'/, /1 image size/, /2 image/);
    await expectBoundedThrow(() => pooler().forward({p2: map(2, 8, 8, 3, 1) as Tensor4D,
      p3: map(3, 4, 4, 3, 2) as Tensor4D}, boxList(), [[S, S], [S, S]]), /MultiScaleRoIAlign/, /'features\[1\]'/, /3 image/);
  });

  it('MultiScaleRoIAlign.call: [N, K, 4] boxes for another N than the maps', async () => {
    for (const n of [3, 1]) {
      await expectBoundedThrow(() => pooler({imageShape: [S, S]}).apply([map(2, 8, 8, 3, 1), map(2, 4, 4, 3, 2),
        tf.zeros([n, 2, 4])]), /MultiScaleRoIAlign/, /'boxes'/, new RegExp(`${n} image`), /hold 2/);
    }
    await expectBoundedThrow(() => pooler().apply([map(2, 8, 8, 3, 1), map(2, 4, 4, 3, 2), tf.zeros([2, 2, 4])],
        {imageShapes: [[S, S]]}), /MultiScaleRoIAlign/, /'imageShapes'/, /1 image size/);
  });
});

describe('MultiScaleRoIAlign with no boxes; mixed channel counts', () => {
  for (const dataFormat of DATA_FORMATS) {
    const first = dataFormat === 'channelsFirst';
    for (const names of [['p2'], ['p2', 'p3']]) {
      it(`no boxes in any image -> an empty result, ${names.length} level(s), ${dataFormat}`, async () => {
        const layer = pooler({featmapNames: names, dataFormat, outputSize: [2, 3]});
        const [p2, p3] = [map(2, 8, 8, 5, 1, first), map(2, 4, 4, 5, 2, first)];
        const expected = first ? [0, 5, 2, 3] : [0, 2, 3, 5];
        await expectNoLeak(() => bounded(() => tf.tidy(() => layer.forward({p2, p3} as Record<string, Tensor4D>,
            [tf.zeros([0, 4]), tf.zeros([0, 4])] as Tensor2D[], [[S, S], [S, S]]))),
        out => expect(out.shape).toEqual(expected));
        const applied = tf.zeros([2, 0, 4]);
        await expectNoLeak(() => bounded(() => layer.apply([...(names.length === 1 ? [p2] : [p2, p3]), applied],
            {imageShapes: [[S, S], [S, S]]}) as Tensor), out => expect(out.shape).toEqual([2, ...expected]));
        tf.dispose([p2, p3, applied]);
      });
    }

    it(`mixed channel counts across the maps are an Error, ${dataFormat}`, async () => {
      await expectBoundedThrow(() => pooler({dataFormat}).forward({p2: map(2, 8, 8, 3, 1, first) as Tensor4D,
        p3: map(2, 4, 4, 5, 2, first) as Tensor4D}, boxList(), [[S, S], [S, S]]),
      /MultiScaleRoIAlign/, /'features\[1\]'/, /5 channels/, /has 3/);
    });
  }
});

describe('clipBoxesToImage keeps NaN on every backend (torch.clamp)', () => {
  it('NaN stays NaN, infinities clip, ordinary values clip', async () => {
    const boxes = [[NaN, -1, 50, NaN], [Infinity, -Infinity, 3, 4], [-5, 10, 5, 25]];
    await expectNoLeak(() => bounded(() => vision.clipBoxesToImage(boxes, [20, 10])), async out => {
      expect(out.shape).toEqual([3, 4]);
      expectClose(await out.data(), [NaN, 0, 10, NaN, 10, 0, 3, 4, 0, 10, 5, 20], {atol: 0, rtol: 0});
    });
  });
});

describe('dropBlock on a batch of 0: the empty input back, nothing leaked', () => {
  const cases: Array<[string, number[], (x: Tensor, args: vision.DropBlockArgs) => Tensor]> = [
    ['dropBlock2d', [0, 5, 5, 2], (x, args) => vision.dropBlock2d(x, 0.5, 3, args)],
    ['dropBlock3d', [0, 5, 5, 5, 2], (x, args) => vision.dropBlock3d(x, 0.5, 3, args)],
  ];
  for (const [name, shape, op] of cases) {
    for (const dataFormat of DATA_FORMATS) {
      it(`${name} ${dataFormat}, training and not`, async () => {
        const x = tf.zeros(dataFormat === 'channelsFirst' ? [0, shape[shape.length - 1], ...shape.slice(1, -1)] : shape);
        for (const training of [true, false]) {
          const buffers = tf.memory().numDataBuffers;
          await expectNoLeak(() => bounded(() => op(x, {training, dataFormat, seed: 1})),
              out => expect(out.shape).toEqual(x.shape));
          expect(tf.memory().numDataBuffers).toBe(buffers);
        }
        const Layer = name === 'dropBlock2d' ? vision.DropBlock2d : vision.DropBlock3d;
        const layer = new Layer({p: 0.5, blockSize: 3, dataFormat, seed: 2});
        await expectNoLeak(() => bounded(() => layer.apply(x, {training: true}) as Tensor),
            out => expect(out.shape).toEqual(x.shape));
        x.dispose();
      });
    }
  }
});

describe('FeaturePyramidNetwork on empty maps leaves the backend working', () => {
  for (const dataFormat of DATA_FORMATS) {
    const first = dataFormat === 'channelsFirst';
    const make = () => new vision.FeaturePyramidNetwork({inChannelsList: [2, 3], outChannels: 4,
      extraBlocks: 'lastLevelMaxPool', dataFormat});
    const inputs = () => [map(1, 8, 8, 2, 11, first), map(1, 4, 4, 3, 12, first)];
    const shaped = (n: number, h: number, w: number, c: number) => first ? [n, c, h, w] : [n, h, w, c];

    it(`0x0 maps are an Error; the next call equals a fresh run, ${dataFormat}`, async () => {
      const fpn = make();
      const xs = inputs();
      const before = fpn.apply(xs) as Tensor[];
      for (const [h, w] of [[0, 0], [0, 4], [4, 0]]) {
        await expectBoundedThrow(() => fpn.apply([tf.zeros(shaped(1, h, w, 2)), tf.zeros(shaped(1, 2, 2, 3))]),
            /FeaturePyramidNetwork/, /'inputs'/, /map 0/, /empty spatial size/);
      }
      // An unbuilt layer fails the same way (before any weight is made), then builds.
      const fresh = make();
      await expectBoundedThrow(() => fresh.apply([tf.zeros(shaped(1, 0, 0, 2)), tf.zeros(shaped(1, 0, 0, 3))]),
          /FeaturePyramidNetwork/, /empty spatial size/);
      const after = await bounded(() => fpn.apply(xs) as Tensor[]);
      fresh.apply(xs);
      fresh.setWeights(fpn.getWeights());
      const rerun = fresh.apply(xs) as Tensor[];
      for (let i = 0; i < before.length; i++) {
        await expectTensorClose(after[i], before[i], {atol: 0, rtol: 0}, `output ${i} after the empty call`);
        await expectTensorClose(rerun[i], before[i], {atol: 0, rtol: 0}, `output ${i} of a fresh layer`);
      }
      tf.dispose([...xs, ...before, ...after, ...rerun]);
      fpn.dispose();
      fresh.dispose();
    });

    it(`int32 maps are an Error naming the layer; NaN reaches P7 through relu (torch), ${dataFormat}`, async () => {
      const before = tf.memory().numTensors;
      const bad = make();  // built (its weights made) before call() sees the dtype
      await bounded(() => tf.tidy(() => expectThrows(() => bad.apply([tf.zeros(shaped(1, 4, 4, 2), 'int32'),
        tf.zeros(shaped(1, 2, 2, 3))]), /FeaturePyramidNetwork/, /'inputs'/, /map 0/, /float32/, /int32/)));
      bad.dispose();
      expect(tf.memory().numTensors).toBe(before);
      const fpn = new vision.FeaturePyramidNetwork({inChannelsList: [2], outChannels: 2, dataFormat,
        extraBlocks: {type: 'lastLevelP6P7', inChannels: 2, outChannels: 2}});
      const x = tf.tensor4d([NaN, 1], first ? [1, 2, 1, 1] : [1, 1, 1, 2]);
      tf.dispose(fpn.apply([x]));  // builds the weights
      await expectNoLeak(() => bounded(() => fpn.apply([x]) as Tensor[]), async outs => {
        expect(outs.length).toBe(3);
        // P5, P6 and P7 are 1x1: the NaN reaches every value (relu(NaN) is NaN in torch).
        for (const o of outs) expect(Array.from(await o.data()).every(Number.isNaN)).toBe(true);
      });
      x.dispose();
      fpn.dispose();
    });

    it(`a batch of 0 gives empty outputs of the right shapes; the next call is unchanged, ${dataFormat}`, async () => {
      const fpn = make();
      const xs = inputs();
      const before = fpn.apply(xs) as Tensor[];
      const empty = [tf.zeros(shaped(0, 8, 8, 2)), tf.zeros(shaped(0, 4, 4, 3))];
      await expectNoLeak(() => bounded(() => fpn.apply(empty) as Tensor[]), outs => {
        expect(outs.map(o => o.shape)).toEqual([shaped(0, 8, 8, 4), shaped(0, 4, 4, 4), shaped(0, 2, 2, 4)]);
      });
      const after = fpn.apply(xs) as Tensor[];
      for (let i = 0; i < before.length; i++) await expectTensorClose(after[i], before[i], {atol: 0, rtol: 0});
      tf.dispose([...xs, ...before, ...after, ...empty]);
      fpn.dispose();
    });
  }
});

describe('layer weights beyond the tensor size limit are Errors before anything is allocated', () => {
  const cases: Array<[string, () => tfl.layers.Layer, number[]]> = [
    ['SqueezeExcitation', () => new vision.SqueezeExcitation({inputChannels: 4, squeezeChannels: 2 ** 31}), [1, 2, 2, 4]],
    ['FeaturePyramidNetwork', () => new vision.FeaturePyramidNetwork({inChannelsList: [2], outChannels: 2 ** 31}), [1, 2, 2, 2]],
    ['MLP', () => new vision.MLP({inChannels: 3, hiddenChannels: [2 ** 30, 2]}), [2, 3]],
    ['Conv2dNormActivation', () => new vision.Conv2dNormActivation({inChannels: 2, outChannels: 2 ** 30}), [1, 4, 4, 2]],
  ];
  for (const [name, make, shape] of cases) {
    it(name, () => {
      const x = tf.ones(shape);
      const before = tf.memory().numTensors;
      const layer = make();
      expectThrows(() => layer.apply(x), new RegExp(`^${name}: `), /over the limit of 536870911 elements/);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    });
  }
});
