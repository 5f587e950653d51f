/** torch.nn's default initialisations, on tfjs-layers initializers. */
import {initializers} from '@tensorflow/tfjs-layers';
import {Initializer} from '../torch_layer.ts';

/** kaiming_uniform_(a) of torch: U(+-sqrt(6 / ((1 + a^2) fan_in))); fan_in from the tfjs kernel shape. */
export function kaimingUniform(a: number): Initializer {
  return initializers.varianceScaling({scale: 2 / (1 + a * a), mode: 'fanIn', distribution: 'uniform'});
}

/** The bias of torch's Conv and Linear: U(+-1 / sqrt(fan_in)). */
export function fanInBias(fanIn: number): Initializer {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return initializers.randomUniform({minval: -bound, maxval: bound});
}

export const zeros = (): Initializer => initializers.zeros();
export const ones = (): Initializer => initializers.ones();
