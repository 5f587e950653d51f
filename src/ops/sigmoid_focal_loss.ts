import * as tf from '@tensorflow/tfjs-core';
import {Tensor, TensorLike} from '@tensorflow/tfjs-core';
import {SigmoidFocalLoss, SigmoidFocalLossAttrs, SigmoidFocalLossGrad} from '../kernel_names.ts';
import {reduce, Reduction, REDUCTIONS} from './box_iou_losses.ts';
import {runVisionKernel} from './run_kernel.ts';
import {assertDtype, assertFiniteNumber, assertOneOf, assertSameShape, checkOptions, fail, toTensor} from './validate.ts';

/** Options of {@link sigmoidFocalLoss}. */
export interface SigmoidFocalLossArgs {
  /** Weight of positive examples in [0, 1], or -1 for no weighting. Default 0.25. */
  alpha?: number;
  /** Focusing exponent, >= 0. Default 2. */
  gamma?: number;
  /** Default 'none': the elementwise loss, shaped as inputs; 'mean' / 'sum' give a scalar. */
  reduction?: Reduction;
}

/**
 * Focal loss of RetinaNet on logits and same-shaped targets (0/1 or soft;
 * tensors or TensorLike), elementwise or reduced. Options {alpha, gamma,
 * reduction} (a non-object options argument is an Error); defaults: alpha
 * 0.25, gamma 2, reduction 'none'. Non-float inputs are computed in float32;
 * 'mean' of an empty input is 0. Runs as one fused kernel forward and backward.
 * torchvision: `sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2, reduction='none')`.
 *
 * ```js
 * sigmoidFocalLoss(tf.tensor1d([-2, 0, 3]), tf.tensor1d([0, 1, 1]))
 * // [1.352672e-3, 4.332170e-2, 2.732081e-5]
 * sigmoidFocalLoss([-2, 0, 3], [0, 1, 1], {alpha: 0.25, gamma: 2, reduction: 'sum'})  // 0.0447
 * ```
 */
export function sigmoidFocalLoss(
    inputs: Tensor|TensorLike, targets: Tensor|TensorLike, options: SigmoidFocalLossArgs = {}): Tensor {
  const op = 'sigmoidFocalLoss';
  const {alpha = 0.25, gamma = 2, reduction = 'none'} =
      checkOptions<SigmoidFocalLossArgs>(op, 'options', options, ['alpha', 'gamma', 'reduction']);
  return tf.tidy(() => focalLoss(op, toTensor(op, 'inputs', inputs), toTensor(op, 'targets', targets),
      alpha, gamma, reduction));
}

function focalLoss(op: string, inputs: Tensor, targets: Tensor, alpha: number, gamma: number, reduction: Reduction) {
  assertDtype(op, 'inputs', inputs, ['float32', 'int32', 'bool']);
  assertDtype(op, 'targets', targets, ['float32', 'int32', 'bool']);
  assertSameShape(op, 'targets', targets, inputs, 'inputs');
  assertFiniteNumber(op, 'alpha', alpha);
  if (alpha !== -1 && (alpha < 0 || alpha > 1)) {
    fail(op, 'alpha', `must be in [0, 1] or exactly -1 (no weighting), got ${alpha}`);
  }
  assertFiniteNumber(op, 'gamma', gamma);
  if (gamma < 0) fail(op, 'gamma', `must be >= 0, got ${gamma}`);
  assertOneOf(op, 'reduction', reduction, REDUCTIONS);
  return tf.tidy(() => {
    const focalAttrs: SigmoidFocalLossAttrs = {alpha, gamma};
    const attrs = focalAttrs as unknown as tf.NamedAttrMap;
    const x = tf.cast(inputs, 'float32'), t = tf.cast(targets, 'float32');
    if (reduction === 'none' || x.size === 0) {
      // The kernel's registered gradient (gradients/) backs 'none'; reduce() gives an empty input its zero.
      const loss = runVisionKernel<Tensor>(op, SigmoidFocalLoss, {inputs: x, targets: t}, attrs);
      return reduce(loss, reduction, [inputs, targets]);
    }
    return reducedFocalLoss(op, reduction, attrs)(x, t);
  });
}

/**
 * 'sum' or 'mean' of the loss with a gradient of its own: the grad kernel
 * runs once on the scalar dy (over the size for 'mean'), broadcast to every
 * element, instead of on tfjs's full-size gradient of Sum/Mean (a tensor of
 * ones of the inputs' shape, multiplied, divided, then read by the kernel).
 * x and t are this op's own float32 casts: the forward disposes them once
 * used. save() clones them inside the engine's leak-checked scope, and the
 * wasm backend's clone is a copy (new data), which the engine's test mode
 * would report as a leak; the casts are dead from here on (their gradient,
 * Cast's, needs no values), so disposing them keeps the count and frees
 * their memory early.
 */
function reducedFocalLoss(op: string, reduction: 'sum'|'mean', attrs: tf.NamedAttrMap) {
  return tf.customGrad((...args: Array<Tensor|tf.GradSaveFunc>) => {
    const [x, t, save] = args as [Tensor, Tensor, tf.GradSaveFunc];
    save([x, t]);
    const loss = runVisionKernel<Tensor>(op, SigmoidFocalLoss, {inputs: x, targets: t}, attrs);
    tf.dispose([x, t]);
    return {
      value: reduction === 'sum' ? tf.sum(loss) : tf.mean(loss),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sx, st] = saved;
        const g = reduction === 'sum' ? dy : tf.div(dy, sx.size);
        return runVisionKernel<Tensor[]>(op, SigmoidFocalLossGrad, {dy: g, inputs: sx, targets: st}, attrs);
      },
    };
  });
}
