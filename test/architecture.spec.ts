/** The op -> kernel -> gradient architecture itself, on the active backend (every environment runs it). */
import * as tf from '@tensorflow/tfjs-core';
import * as vision from '../src/index';
import {ALL_KERNELS, DIFFERENTIABLE_KERNELS, KERNELS, SigmoidFocalLoss} from '../src/kernel_names';
import {expectOptimizerLowersLoss, expectThrows} from './support/helpers';

/** One small differentiable call per differentiable kernel, its inputs first. */
const GRAD_CALLS: Record<string, () => {inputs: tf.Tensor[], f: (...xs: tf.Tensor[]) => tf.Tensor}> = {
  SigmoidFocalLoss: () => ({inputs: [tf.tensor1d([-1, 2])],
    f: x => vision.sigmoidFocalLoss(x, tf.tensor1d([0, 1]), {reduction: 'sum'})}),
  RoiAlign: () => ({inputs: [tf.ones([1, 4, 4, 2])],
    f: x => vision.roiAlign(x as tf.Tensor4D, tf.tensor2d([[0, 0, 0, 3, 3]]), {outputSize: 2, dataFormat: 'channelsLast'})}),
  RoiPool: () => ({inputs: [tf.tensor4d(Array.from({length: 32}, (_, i) => i), [1, 4, 4, 2])],
    f: x => vision.roiPool(x as tf.Tensor4D, tf.tensor2d([[0, 0, 0, 3, 3]]), {outputSize: 2, dataFormat: 'channelsLast'})}),
  PsRoiAlign: () => ({inputs: [tf.ones([1, 4, 4, 4])],
    f: x => vision.psRoiAlign(x as tf.Tensor4D, tf.tensor2d([[0, 0, 0, 3, 3]]), {outputSize: 2, dataFormat: 'channelsLast'})}),
  PsRoiPool: () => ({inputs: [tf.ones([1, 4, 4, 4])],
    f: x => vision.psRoiPool(x as tf.Tensor4D, tf.tensor2d([[0, 0, 0, 3, 3]]), {outputSize: 2, dataFormat: 'channelsLast'})}),
  DeformConv2d: () => ({inputs: [tf.ones([1, 3, 3, 2]), tf.fill([1, 2, 2, 8], 0.25), tf.ones([2, 2, 2, 2])],
    f: (x, offset, weight) => vision.deformConv2d(x as tf.Tensor4D, offset as tf.Tensor4D, weight as tf.Tensor4D)}),
  MsDeformAttn: () => ({inputs: [tf.ones([1, 5, 1, 2]), tf.fill([1, 2, 1, 2, 2, 2], 0.3), tf.ones([1, 2, 1, 2, 2])],
    f: (v, l, w) => vision.msDeformAttn(v as tf.Tensor4D, [[2, 2], [1, 1]], [0, 4], l, w)}),
};

describe('architecture', () => {
  it('every declared kernel is registered on the active backend, gradient kernels included', () => {
    expect(ALL_KERNELS).toEqual(KERNELS.map(k => k.name));
    const missing = ALL_KERNELS.filter(name => tf.getKernel(name, tf.getBackend()) == null);
    expect(missing).toEqual([]);
  });

  it('every differentiable kernel has its derived gradient, which runs its *Grad kernel', async () => {
    expect(Object.keys(GRAD_CALLS).sort()).toEqual(DIFFERENTIABLE_KERNELS.map(k => k.name).sort());
    for (const decl of DIFFERENTIABLE_KERNELS) {
      expect(tf.getGradient(decl.name)?.inputsToSave).toEqual(decl.inputs);
      const {inputs, f} = GRAD_CALLS[decl.name]();
      let grads: tf.Tensor[] = [];
      const info = await tf.profile(() => {
        grads = tf.keep(tf.grads(f)(inputs)) as tf.Tensor[];
      });
      expect(info.kernelNames).toContain(decl.grad.name);
      grads.forEach((g, i) => expect(g.shape).toEqual(inputs[i].shape));
      const sums = await Promise.all(grads.map(g => tf.tidy(() => tf.sum(tf.abs(g))).data()));
      expect(sums.some(v => v[0] > 0)).toBe(true);
      tf.dispose([...grads, ...inputs]);
    }
  });

  it('a backend without our kernel gets an Error naming the import to add', () => {
    const backend = tf.getBackend();
    const config = tf.getKernel(SigmoidFocalLoss, backend)!;
    tf.unregisterKernel(SigmoidFocalLoss, backend);
    try {
      const expectedImport = vision.BACKEND_IMPORTS[backend].replace('/', '\\/');
      tf.tidy(() => expectThrows(() => vision.sigmoidFocalLoss(tf.zeros([2]), tf.zeros([2])),
          /sigmoidFocalLoss/, /SigmoidFocalLoss/, new RegExp(`'${backend}'`), new RegExp(expectedImport)));
    } finally {
      tf.registerKernel(config);
    }
  });

  it('the kernel runs under tf.grad, tf.variableGrads and an optimizer', async () => {
    const logits = tf.variable(tf.tensor2d([[-2, 0.5], [1, 3]]));
    const targets = tf.tensor2d([[0, 1], [1, 0]]);
    await expectOptimizerLowersLoss(
        logits, () => vision.sigmoidFocalLoss(logits, targets, {reduction: 'sum'}) as tf.Scalar, 1);
    tf.dispose([logits, targets]);
  });
});
