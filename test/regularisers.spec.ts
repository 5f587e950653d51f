/**
 * dropBlock2d/3d and stochasticDepth, ops and layers: torchvision's own draws
 * replayed, drop rates, identity in inference, all-or-nothing blocks, seeds,
 * training through fit, serialisation, bad arguments.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor} from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as vision from '../src/index';
import {dropBlockWithNoise} from '../src/ops/drop_block';
import {stochasticDepthWithNoise} from '../src/ops/stochastic_depth';
import layersFixture from './fixtures/layers.json';
import {casesOf, expectNoLeak, expectTensorClose, expectThrows, Fixture, fixtureTensor, gradsOf} from './support/helpers';
import {roundTrip, toChannelsFirst, toChannelsLast} from './support/layers';

const fixture = layersFixture as Fixture;
type DataFormat = 'channelsFirst'|'channelsLast';

async function values(t: Tensor): Promise<Float32Array> {
  const v = await t.data() as Float32Array;
  t.dispose();
  return v;
}

describe('dropBlock: torchvision draws replayed', () => {
  for (const op of ['drop_block2d', 'drop_block3d']) {
    for (const c of casesOf(fixture, op)) {
      for (const dataFormat of ['channelsFirst', 'channelsLast'] as DataFormat[]) {
        it(`${op} ${c.name} ${dataFormat}`, async () => {
          const view = (t: Tensor) => {
            if (dataFormat === 'channelsFirst') return t;
            const last = toChannelsLast(t);
            t.dispose();
            return last;
          };
          const x = view(fixtureTensor(c.inputs.input));
          const noise = tf.tidy(() => tf.cast(fixtureTensor(c.inputs.noise), 'float32'));
          const [out, dy, gx] = [c.output!, c.dy!, c.grads!.input].map(t => view(fixtureTensor(t)));
          const args = c.args as {effective_block_size: number, eps: number};
          const run = (input: Tensor) => dropBlockWithNoise(input, noise, args.effective_block_size, args.eps, dataFormat);
          try {
            await expectNoLeak(() => run(x), o => expectTensorClose(o, out, undefined, `${op} output`));
            await expectNoLeak(() => gradsOf(run, [x], dy), ([g]) => expectTensorClose(g, gx, undefined, `${op} d/dx`));
          } finally {
            tf.dispose([x, noise, out, dy, gx]);
          }
        });
      }
    }
  }
});

describe('stochasticDepth: torchvision draws replayed', () => {
  for (const c of casesOf(fixture, 'stochastic_depth')) {
    it(c.name, async () => {
      const x = fixtureTensor(c.inputs.input);
      const noise = tf.tidy(() => tf.cast(fixtureTensor(c.inputs.noise), 'float32'));
      const [out, dy, gx] = [c.output!, c.dy!, c.grads!.input].map(fixtureTensor);
      const p = (c.args as {p: number}).p;
      try {
        await expectNoLeak(() => stochasticDepthWithNoise(x, noise, p), o => expectTensorClose(o, out));
        await expectNoLeak(() => gradsOf(v => stochasticDepthWithNoise(v, noise, p), [x], dy),
            ([g]) => expectTensorClose(g, gx));
      } finally {
        tf.dispose([x, noise, out, dy, gx]);
      }
    });
  }
});

describe('dropBlock: statistics and rules', () => {
  it('drops about p of a large map (2d and 3d), and rescales to keep the sum', async () => {
    for (const [fn, shape, p, bs] of [
      [vision.dropBlock2d, [4, 64, 64, 8], 0.1, 3], [vision.dropBlock2d, [4, 48, 48, 8], 0.25, 5],
      [vision.dropBlock3d, [2, 16, 16, 16, 4], 0.1, 3],
    ] as const) {
      const x = tf.ones(shape as unknown as number[]);
      const out = await values(fn(x, p, bs, {seed: 7}));
      const dropped = out.filter(v => v === 0).length / out.length;
      // Overlapping blocks and the borders make the rate an approximation of p (torchvision's gamma).
      expect(Math.abs(dropped - p)).toBeLessThan(0.35 * p);
      const sum = out.reduce((s, v) => s + v, 0);
      expect(Math.abs(sum / out.length - 1)).toBeLessThan(1e-3);
      x.dispose();
    }
  });

  it('zeroes whole blocks: every zero lies in a bs x bs square of zeros', async () => {
    const [h, w, bs] = [20, 17, 5];
    const out = await values(vision.dropBlock2d(tf.ones([1, h, w, 1]), 0.2, bs, {seed: 3}));
    const zero = (y: number, x: number) => y >= 0 && x >= 0 && y < h && x < w && out[y * w + x] === 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (!zero(y, x)) continue;
        let inBlock = false;
        for (let y0 = y - bs + 1; y0 <= y && !inBlock; y0++) {
          for (let x0 = x - bs + 1; x0 <= x && !inBlock; x0++) {
            let all = true;
            for (let i = 0; i < bs && all; i++) for (let j = 0; j < bs && all; j++) all = zero(y0 + i, x0 + j);
            inBlock = all;
          }
        }
        expect(inBlock).toBe(true);
      }
    }
  });

  it('block size = map size drops each (n, c) map all or nothing', async () => {
    for (const dataFormat of ['channelsLast', 'channelsFirst'] as DataFormat[]) {
      const [n, c, s] = [6, 5, 7];
      const shape = dataFormat === 'channelsLast' ? [n, s, s, c] : [n, c, s, s];
      const x = tf.tidy(() => tf.add(tf.randomUniform(shape, 0, 1, 'float32', 1), 1));
      const outT = vision.dropBlock2d(x, 0.5, 9, {seed: 11, dataFormat});
      const first = dataFormat === 'channelsLast' ? tf.tidy(() => toChannelsFirst(outT)) : outT.clone();
      const [out, xs] = [await values(first), await values(dataFormat === 'channelsLast' ? toChannelsFirst(x) : x.clone())];
      let kept = 0;
      for (let m = 0; m < n * c; m++) {
        const cells = out.subarray(m * s * s, (m + 1) * s * s);
        const zeros = cells.filter(v => v === 0).length;
        expect(zeros === 0 || zeros === s * s).toBe(true);
        if (zeros === 0) {
          kept++;
          const ratio = cells[0] / xs[m * s * s];
          cells.forEach((v, i) => expect(Math.abs(v / xs[m * s * s + i] - ratio)).toBeLessThan(1e-5));
        }
      }
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThan(n * c);
      tf.dispose([x, outT]);
    }
  });

  it('is the identity (a copy) when not training or p == 0', async () => {
    const x = tf.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 5);
    for (const out of [vision.dropBlock2d(x, 0.5, 3, {training: false}), vision.dropBlock2d(x, 0, 3),
      vision.dropBlock3d(tf.reshape(x, [2, 6, 2, 3, 3]), 0.9, 3, {training: false})]) {
      expect(Array.from(await out.data())).toEqual(Array.from(await x.data()));
      out.dispose();
    }
    x.dispose();
  });

  it('the same seed gives the same blocks in both data formats, another seed others', async () => {
    const x = tf.randomNormal([2, 3, 11, 9], 0, 1, 'float32', 5);
    const a = await values(vision.dropBlock2d(x, 0.3, 3, {seed: 42, dataFormat: 'channelsFirst'}));
    const xl = toChannelsLast(x);
    const b = await values(tf.tidy(() => toChannelsFirst(vision.dropBlock2d(xl, 0.3, 3, {seed: 42}))));
    const other = await values(vision.dropBlock2d(x, 0.3, 3, {seed: 43, dataFormat: 'channelsFirst'}));
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(other)).not.toEqual(Array.from(a));
    tf.dispose([x, xl]);
  });

  it('bad arguments', () => {
    const x = tf.zeros([1, 6, 6, 2]);
    expectThrows(() => vision.dropBlock2d(x, 1.5, 3), /dropBlock2d/, /'p'/, /\[0, 1\]/);
    expectThrows(() => vision.dropBlock2d(x, -0.1, 3), /dropBlock2d/, /'p'/);
    expectThrows(() => vision.dropBlock2d(x, 0.1, 0), /dropBlock2d/, /'blockSize'/);
    expectThrows(() => vision.dropBlock2d(x, 0.1, 4), /dropBlock2d/, /'blockSize'/, /odd/);
    expectThrows(() => vision.dropBlock2d(x, 0.1, 7), /dropBlock2d/, /'blockSize'/, /min\(7, 6, 6\) = 6/);
    expectThrows(() => vision.dropBlock2d(tf.zeros([2, 2, 2]), 0.1, 3), /dropBlock2d/, /'x'/, /rank 4/);
    expectThrows(() => vision.dropBlock3d(x, 0.1, 3), /dropBlock3d/, /'x'/, /rank 5/);
    expectThrows(() => vision.dropBlock2d(x, 0.1, 3, {dataFormat: 'NHWC' as any}), /dropBlock2d/, /'dataFormat'/);
    expectThrows(() => new vision.DropBlock2d({p: 0.1, blockSize: 4}), /DropBlock2d/, /'blockSize'/, /odd/);
    expectThrows(() => new vision.DropBlock3d({p: 2, blockSize: 3}), /DropBlock3d/, /'p'/);
    x.dispose();
  });
});

describe('stochasticDepth: statistics and rules', () => {
  it("'row' zeroes about p of the rows and scales the others by 1 / (1 - p)", async () => {
    const [n, p] = [4000, 0.3];
    const out = await values(vision.stochasticDepth(tf.ones([n, 2, 3]), p, 'row', {seed: 9}));
    let zeroRows = 0;
    for (let r = 0; r < n; r++) {
      const row = out.subarray(r * 6, r * 6 + 6);
      if (row[0] === 0) zeroRows++;
      else expect(Math.abs(row[0] - 1 / (1 - p))).toBeLessThan(1e-6);
      expect(row.every(v => v === row[0])).toBe(true);
    }
    // 4000 Bernoulli(0.3) draws: standard deviation 0.0072
    expect(Math.abs(zeroRows / n - p)).toBeLessThan(0.03);
  });

  it("'batch' zeroes all or nothing, about p of the time", async () => {
    let zeroed = 0;
    const x = tf.ones([3, 4]);
    for (let seed = 0; seed < 400; seed++) {
      const out = await values(vision.stochasticDepth(x, 0.25, 'batch', {seed}));
      expect(out.every(v => v === out[0])).toBe(true);
      if (out[0] === 0) zeroed++;
    }
    expect(Math.abs(zeroed / 400 - 0.25)).toBeLessThan(0.07);
    x.dispose();
  });

  it('identity when not training or p == 0; zeros when p == 1', async () => {
    const x = tf.randomNormal([5, 3], 0, 1, 'float32', 2);
    const xs = Array.from(await x.data());
    expect(Array.from(await values(vision.stochasticDepth(x, 0.7, 'row', {training: false})))).toEqual(xs);
    expect(Array.from(await values(vision.stochasticDepth(x, 0, 'batch')))).toEqual(xs);
    expect(Array.from(await values(vision.stochasticDepth(x, 1, 'row'))).every(v => v === 0)).toBe(true);
    x.dispose();
  });

  it('bad arguments', () => {
    const x = tf.zeros([2, 3]);
    expectThrows(() => vision.stochasticDepth(x, 1.2, 'row'), /stochasticDepth/, /'p'/);
    expectThrows(() => vision.stochasticDepth(x, 0.2, 'col' as any), /stochasticDepth/, /'mode'/);
    expectThrows(() => new vision.StochasticDepth({p: -1, mode: 'row'}), /StochasticDepth/, /'p'/);
    x.dispose();
  });
});

describe('regulariser layers', () => {
  const make = () => [
    new vision.StochasticDepth({p: 0.5, mode: 'row', seed: 1}),
    new vision.DropBlock2d({p: 0.3, blockSize: 3, seed: 2}),
    new vision.DropBlock3d({p: 0.3, blockSize: 3, seed: 3, dataFormat: 'channelsFirst'}),
  ];
  const shapes = [[8, 5, 5, 2], [2, 9, 9, 3], [2, 2, 5, 5, 5]];

  it('act only when kwargs.training, identity in inference (predict)', async () => {
    const layers = make();
    for (let i = 0; i < layers.length; i++) {
      const [layer, x] = [layers[i], tf.ones(shapes[i])];
      const inference = await values(layer.apply(x) as Tensor);
      expect(inference.every(v => v === 1)).toBe(true);
      const training = await values(layer.apply(x, {training: true}) as Tensor);
      expect(training.some(v => v === 0)).toBe(true);
      x.dispose();
    }
  });

  it('seeded layers draw a new mask on every training call', async () => {
    const layer = new vision.DropBlock2d({p: 0.3, blockSize: 3, seed: 2});
    const x = tf.ones([1, 12, 12, 1]);
    const a = await values(layer.apply(x, {training: true}) as Tensor);
    const b = await values(layer.apply(x, {training: true}) as Tensor);
    expect(Array.from(a)).not.toEqual(Array.from(b));
    const again = new vision.DropBlock2d({p: 0.3, blockSize: 3, seed: 2});
    expect(Array.from(await values(again.apply(x, {training: true}) as Tensor))).toEqual(Array.from(a));
    x.dispose();
  });

  it('round trip through model.save and tf.loadLayersModel, and train with fit', async () => {
    const input = tfl.input({shape: [6, 6, 2]});
    let y = new vision.DropBlock2d({p: 0.2, blockSize: 3, seed: 4}).apply(input) as tfl.SymbolicTensor;
    y = new vision.StochasticDepth({p: 0.2, mode: 'row', seed: 5}).apply(y) as tfl.SymbolicTensor;
    y = tfl.layers.flatten().apply(y) as tfl.SymbolicTensor;
    y = new vision.MLP({inChannels: 72, hiddenChannels: [1]}).apply(y) as tfl.SymbolicTensor;
    const model = tfl.model({inputs: input, outputs: y});
    const loaded = await roundTrip(model);
    expect(loaded.layers.map(l => l.getConfig())).toEqual(model.layers.map(l => l.getConfig()));
    const x = tf.randomNormal([4, 6, 6, 2], 0, 1, 'float32', 1);
    const [a, b] = [model.predict(x) as Tensor, loaded.predict(x) as Tensor];
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    loaded.compile({optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError'});
    const history = await loaded.fit(x, tf.zeros([4, 1]), {epochs: 2, batchSize: 4, verbose: 0});
    expect(history.history.loss.every(l => Number.isFinite(l as number))).toBe(true);
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });
});
