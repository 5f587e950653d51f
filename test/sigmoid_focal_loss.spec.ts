/** The fused focal-loss kernel against the cpu reference math and finite differences. */
import * as tf from '@tensorflow/tfjs-core';
import * as vision from '../src/index';
import {sigmoidFocalLossGradValues, sigmoidFocalLossValues} from '../kernels/reference/sigmoid_focal_loss';
import {SigmoidFocalLoss, SigmoidFocalLossGrad} from '../src/kernel_names';
import {expectClose, expectGradMatchesFiniteDifferences, expectNoLeak, seededUniform} from './support/helpers';
import {FINITE_DIFFERENCE_TOLERANCE} from './support/tolerances';

describe('sigmoidFocalLoss kernel', () => {
  const n = 1027;  // not a multiple of 4 or of a workgroup
  const x = seededUniform(n, -30, 30, 1);
  x.set([0, 1e-5, -1e-5, 17, -17, 88, -88]);
  const hard = seededUniform(n, 0, 1, 2).map(v => v < 0.3 ? 1 : 0);
  const soft = seededUniform(n, 0, 1, 3);
  const dy = seededUniform(n, -1, 1, 4);

  for (const [alpha, gamma] of [[0.25, 2], [0.5, 0], [-1, 1.5], [1, 2]]) {
    for (const [kind, t] of [['hard', hard], ['soft', soft]] as const) {
      it(`matches the reference math (alpha ${alpha}, gamma ${gamma}, ${kind} targets)`, async () => {
        const expected = new Float32Array(n), dx = new Float32Array(n), dt = new Float32Array(n);
        sigmoidFocalLossValues(x, t, alpha, gamma, expected);
        sigmoidFocalLossGradValues(dy, x, t, alpha, gamma, dx, dt);
        const [xt, tt, dyt] = [tf.tensor1d(x), tf.tensor1d(t), tf.tensor1d(dy)];
        const attrs = {alpha, gamma};
        await expectNoLeak(() => tf.engine().runKernel(SigmoidFocalLoss, {inputs: xt, targets: tt}, attrs) as tf.Tensor,
            async out => expectClose(await out.data(), expected, undefined, 'loss'));
        await expectNoLeak(
            () => tf.engine().runKernel(SigmoidFocalLossGrad, {dy: dyt, inputs: xt, targets: tt}, attrs) as tf.Tensor[],
            async ([gx, gt]) => {
              expectClose(await gx.data(), dx, undefined, 'dInputs');
              expectClose(await gt.data(), dt, undefined, 'dTargets');
            });
        tf.dispose([xt, tt, dyt]);
      });
    }
  }

  it('handles empty tensors', async () => {
    await expectNoLeak(() => tf.tidy(() => vision.sigmoidFocalLoss(tf.zeros([0, 4]), tf.zeros([0, 4]))),
        out => expect(out.shape).toEqual([0, 4]));
  });

  for (const reduction of ['none', 'sum', 'mean'] as const) {
    it(`gradients match finite differences (reduction '${reduction}')`, async () => {
      const logits = tf.tensor2d([[-2.1, 0.3, 1.7], [0.9, -0.4, 2.5]]);
      const targets = tf.tensor2d([[0, 1, 1], [0.3, 0.8, 0]]);
      await expectGradMatchesFiniteDifferences(
          (a, b) => vision.sigmoidFocalLoss(a, b, {alpha: 0.25, gamma: 2, reduction}), [logits, targets],
          FINITE_DIFFERENCE_TOLERANCE);
      tf.dispose([logits, targets]);
    });
  }
});

/** The float32 bits of a tensor's values (the sign of zero included; every NaN as one: JS does not keep payloads). */
async function bitsOf(t: tf.Tensor): Promise<number[]> {
  const bits = new Uint32Array(Float32Array.from(await t.data()).buffer);
  return Array.from(bits, b => (b & 0x7fffffff) > 0x7f800000 ? 0x7fc00000 : b);
}

describe('sigmoidFocalLoss grad kernel: a one-element dy is one value for every element', () => {
  const g = -0.37;
  // 1027: vector tails; 1024: webgpu's vec4 variant; rank 5: webgl's flat view.
  for (const shape of [[1027], [4, 256], [2, 2, 2, 2, 64]]) {
    for (const [alpha, gamma] of [[0.25, 2], [0.5, 0], [-1, 1.5], [1, 1], [0.25, 3]]) {
      it(`gives the bits of a full dy of that value (shape [${shape}], alpha ${alpha}, gamma ${gamma})`, async () => {
        const n = tf.util.sizeFromShape(shape);
        const x = seededUniform(n, -30, 30, 5);
        x.set([0, 1e-5, -1e-5, 17, -17, 88, -88, Infinity, -Infinity, NaN]);
        const t = seededUniform(n, 0, 1, 6).map((v, i) => i % 3 === 0 ? (v < 0.3 ? 1 : 0) : v);
        const [xt, tt, full] = [tf.tensor(x, shape), tf.tensor(t, shape), tf.fill(shape, g)];
        const attrs = {alpha, gamma};
        const grad = (dy: tf.Tensor) =>
          tf.engine().runKernel(SigmoidFocalLossGrad, {dy, inputs: xt, targets: tt}, attrs) as tf.Tensor[];
        // The reference math broadcasts alike.
        const [rx, rt, bx, bt] = [0, 1, 2, 3].map(() => new Float32Array(n));
        sigmoidFocalLossGradValues(new Float32Array(n).fill(g), x, t, alpha, gamma, rx, rt);
        sigmoidFocalLossGradValues(Float32Array.of(g), x, t, alpha, gamma, bx, bt);
        expect(Array.from(bx)).toEqual(Array.from(rx));
        expect(Array.from(bt)).toEqual(Array.from(rt));
        const expected = grad(full);
        try {
          const [ex, et] = await Promise.all(expected.map(bitsOf));
          for (const dyShape of [[], [1], [1, 1, 1]]) {
            const dy = tf.fill(dyShape, g);
            await expectNoLeak(() => grad(dy), async ([gx, gt]) => {
              expect(gx.shape).toEqual(shape);
              expect(gt.shape).toEqual(shape);
              expect(await bitsOf(gx)).toEqual(ex);
              expect(await bitsOf(gt)).toEqual(et);
            });
            dy.dispose();
          }
        } finally {
          tf.dispose([xt, tt, full, ...expected]);
        }
      });
    }
  }

  it('refuses a dy of neither the inputs\' size nor one element; takes one element over empty inputs', async () => {
    const [x, t, dy2, dy1] = [tf.zeros([2, 3]), tf.zeros([2, 3]), tf.zeros([2]), tf.scalar(2)];
    expect(() => tf.engine().runKernel(SigmoidFocalLossGrad, {dy: dy2, inputs: x, targets: t},
        {alpha: 0.25, gamma: 2})).toThrow();
    const [e, et] = [tf.zeros([0, 3]), tf.zeros([0, 3])];
    await expectNoLeak(
        () => tf.engine().runKernel(SigmoidFocalLossGrad, {dy: dy1, inputs: e, targets: et},
            {alpha: 0.25, gamma: 2}) as tf.Tensor[],
        ([gx, gt]) => {
          expect(gx.shape).toEqual([0, 3]);
          expect(gt.shape).toEqual([0, 3]);
        });
    tf.dispose([x, t, dy2, dy1, e, et]);
  });
});

describe('sigmoidFocalLoss sum and mean: their own gradient', () => {
  /** Runs fn with the active backend's grad kernel wrapped to record each call's dy shape. */
  async function recordingGradKernel<T>(fn: () => Promise<T>): Promise<{result: T, dyShapes: number[][]}> {
    const backend = tf.getBackend();
    const config = tf.getKernel(SigmoidFocalLossGrad, backend)!;
    const dyShapes: number[][] = [];
    tf.unregisterKernel(SigmoidFocalLossGrad, backend);
    tf.registerKernel({...config, kernelFunc: args => {
      dyShapes.push((args.inputs as {dy: tf.TensorInfo}).dy.shape);
      return config.kernelFunc(args);
    }});
    try {
      return {result: await fn(), dyShapes};
    } finally {
      tf.unregisterKernel(SigmoidFocalLossGrad, backend);
      tf.registerKernel(config);
    }
  }

  const shape = [3, 7];
  const n = 21;
  const x = seededUniform(n, -6, 6, 11);
  const t = seededUniform(n, 0, 1, 12).map((v, i) => i % 2 === 0 ? (v < 0.4 ? 1 : 0) : v);
  const upstream = 1.7;

  for (const reduction of ['sum', 'mean'] as const) {
    for (const [alpha, gamma] of [[0.25, 2], [-1, 1.5], [0.5, 0]]) {
      it(`'${reduction}' backpropagates ONE grad kernel call on a one-element dy (alpha ${alpha}, gamma ${gamma})`,
          async () => {
            const scale = reduction === 'mean' ? 1 / n : 1;
            const [dx, dt, loss] = [0, 1, 2].map(() => new Float32Array(n));
            sigmoidFocalLossGradValues([upstream * scale], x, t, alpha, gamma, dx, dt);
            sigmoidFocalLossValues(x, t, alpha, gamma, loss);
            const value = loss.reduce((a, b) => a + b, 0) * scale;
            const [xt, tt, dy] = [tf.tensor(x, shape), tf.tensor(t, shape), tf.scalar(upstream)];
            const {dyShapes} = await recordingGradKernel(() => expectNoLeak(() => {
              const f = (a: tf.Tensor, b: tf.Tensor) => vision.sigmoidFocalLoss(a, b, {alpha, gamma, reduction});
              const {value: out, grads} = tf.valueAndGrads(f)([xt, tt], dy);
              return [out, ...grads];
            }, async ([out, gx, gt]) => {
              expect(out.shape).toEqual([]);
              expectClose(await out.data(), [value], undefined, 'value');
              expect(gx.shape).toEqual(shape);
              expect(gt.shape).toEqual(shape);
              expectClose(await gx.data(), dx, undefined, 'dInputs');
              expectClose(await gt.data(), dt, undefined, 'dTargets');
            }));
            expect(dyShapes).toEqual([[]]);
            tf.dispose([xt, tt, dy]);
          });
    }

    it(`'${reduction}' of int32 and bool inputs: float32 gradients of the inputs' shapes`, async () => {
      const a = tf.tensor2d([[-2, 0, 3], [1, -1, 4]], undefined, 'int32');
      const b = tf.tensor2d([[false, true, true], [true, false, false]], undefined, 'bool');
      const af = tf.cast(a, 'float32'), bf = tf.cast(b, 'float32');
      const f = (p: tf.Tensor, q: tf.Tensor) => vision.sigmoidFocalLoss(p, q, {reduction});
      const [ex, et] = tf.grads(f)([af, bf]);
      await expectNoLeak(() => tf.grads(f)([a, b]), async ([gx, gt]) => {
        expect(gx.shape).toEqual([2, 3]);
        expect(gt.shape).toEqual([2, 3]);
        expectClose(await gx.data(), await ex.data(), undefined, 'dInputs');
        expectClose(await gt.data(), await et.data(), undefined, 'dTargets');
      });
      tf.dispose([a, b, af, bf, ex, et]);
    });

    it(`'${reduction}' of empty inputs is 0, with empty gradients`, async () => {
      const [a, b] = [tf.zeros([0, 3]), tf.zeros([0, 3])];
      const f = (p: tf.Tensor, q: tf.Tensor) => vision.sigmoidFocalLoss(p, q, {reduction});
      await expectNoLeak(() => {
        const {value, grads} = tf.valueAndGrads(f)([a, b]);
        return [value, ...grads];
      }, async ([value, gx, gt]) => {
        expect(value.shape).toEqual([]);
        expect(Array.from(await value.data())).toEqual([0]);
        expect(gx.shape).toEqual([0, 3]);
        expect(gt.shape).toEqual([0, 3]);
      });
      tf.dispose([a, b]);
    });
  }

  const onNativeTensorflow = typeof process !== 'undefined' && process.env?.TFJS_BACKEND === 'tensorflow' &&
      process.env.TFJS_VISION_OPS_TENSORFLOW !== 'wasm';
  if (onNativeTensorflow) {
    it('a broadcast dy gives the same bits on 1 thread and on 4 (tensorflow op library)', async () => {
      const logits = tf.randomNormal([300000], 0, 3, 'float32', 7);
      const targets = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([300000], 0, 1, 'float32', 8), 0.9), 'float32'));
      const run = async (threads: string, dy: tf.Tensor) => {
        process.env.TFJS_VISION_OPS_THREADS = threads;
        const grads = tf.engine().runKernel(SigmoidFocalLossGrad, {dy, inputs: logits, targets},
            {alpha: 0.25, gamma: 2}) as tf.Tensor[];
        const bits = await Promise.all(grads.map(bitsOf));
        tf.dispose(grads);
        return bits;
      };
      const [one, full] = [tf.scalar(0.5), tf.fill([300000], 0.5)];
      try {
        const four = await run('4', one);
        const single = await run('1', one);
        const reference = await run('4', full);
        for (const i of [0, 1]) {
          expect(four[i]).toEqual(single[i]);
          expect(four[i]).toEqual(reference[i]);
        }
      } finally {
        delete process.env.TFJS_VISION_OPS_THREADS;
        tf.dispose([logits, targets, one, full]);
      }
    });
  }
});

describe('composite ops: finite-difference gradients', () => {
  const a = () => tf.tensor2d([[1, 2, 6, 7], [0.5, 0.2, 3, 4.1]]);
  const b = () => tf.tensor2d([[2, 1.5, 5, 9], [3.3, 2.2, 4.4, 6.6], [0, 0, 1.2, 1.1]]);
  const pairedB = () => tf.tensor2d([[2, 1.5, 5, 9], [3.3, 2.2, 4.4, 6.6]]);
  const rotated = () => tf.tensor2d([[4, 5, 3, 2, 30], [1, 2, 2.5, 1.5, -60]]);
  // completeBoxIou(Loss) hold alpha constant, unlike a finite difference: fixtures cover them.
  const fns: Array<[string, (...x: tf.Tensor[]) => tf.Tensor, () => tf.Tensor[]]> = [
    ['boxIou', vision.boxIou, () => [a(), b()]],
    ['generalizedBoxIou', vision.generalizedBoxIou, () => [a(), b()]],
    ['distanceBoxIou', vision.distanceBoxIou, () => [a(), b()]],
    ['distanceBoxIouLoss', vision.distanceBoxIouLoss, () => [a(), pairedB()]],
    ['generalizedBoxIouLoss', vision.generalizedBoxIouLoss, () => [a(), pairedB()]],
    ['boxConvert cxcywhr -> xyxyxyxy', x => vision.boxConvert(x, 'cxcywhr', 'xyxyxyxy'), () => [rotated()]],
  ];
  for (const [name, fn, inputs] of fns) {
    it(name, async () => {
      const xs = inputs();
      await expectGradMatchesFiniteDifferences(fn, xs, FINITE_DIFFERENCE_TOLERANCE);
      tf.dispose(xs);
    });
  }
});
