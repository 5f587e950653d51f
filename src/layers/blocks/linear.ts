/** torch.nn.Linear as weights of a TorchLayer: y = x W^T + b on the last axis. */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor} from '@tensorflow/tfjs-core';
import {LayerVariable} from '@tensorflow/tfjs-layers';
import {channelVector, TorchLayer} from '../torch_layer.ts';
import {fanInBias, kaimingUniform} from './init.ts';

export class TorchLinear {
  weight!: LayerVariable;
  bias: LayerVariable|null = null;

  constructor(readonly prefix: string, readonly inFeatures: number, readonly outFeatures: number,
              readonly useBias: boolean) {}

  build(layer: TorchLayer) {
    this.weight = layer.addTorchWeight(`${this.prefix}weight`, [this.inFeatures, this.outFeatures], 'linear',
        kaimingUniform(Math.sqrt(5)));
    if (this.useBias) {
      this.bias = layer.addTorchWeight(`${this.prefix}bias`, [this.outFeatures], 'same', fanInBias(this.inFeatures));
    }
  }

  /** x: [..., in] -> [..., out]. */
  apply(x: Tensor): Tensor {
    const lead = x.shape.slice(0, -1);
    const y = tf.matMul(tf.reshape(x, [-1, this.inFeatures]), this.weight.read());
    const out = tf.reshape(y, [...lead, this.outFeatures]);
    return this.bias != null ? tf.add(out, channelVector(this.bias.read(), out.rank)) : out;
  }
}
