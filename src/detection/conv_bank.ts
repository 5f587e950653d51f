/**
 * The convolutions of a backbone body (eval mode), by torchvision's
 * state_dict names: each a conv (groups 1 or depthwise) with either a bias
 * or a BatchNorm / FrozenBatchNorm2d (both x * scale + shift at inference:
 * scale = weight * rsqrt(running_var + eps), shift = bias - running_mean *
 * scale, computed once at load). Tensors are channelsLast [N, H, W, C].
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor, Tensor1D, Tensor4D} from '@tensorflow/tfjs-core';
import {activate, ActivationName} from '../layers/blocks/activation.ts';
import {everyNth} from '../layers/feature_pyramid_network.ts';
import {StateDict, takeWeight, withDot} from './state_dict.ts';
import {asVariable, toTorchLayout} from './trainable.ts';

/** One conv of a body: its key and its norm's key (relative to the body), sizes and stride. */
export interface ConvDef {
  /** e.g. 'layer1.0.conv1' (keys '<conv>.weight' [, '<conv>.bias']). */
  conv: string;
  /** e.g. 'layer1.0.bn1' (keys '<norm>.weight', '.bias', '.running_mean', '.running_var'); null: a conv bias. */
  norm: string|null;
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  stride: number;
  /** 1, or inChannels (= outChannels): depthwise. */
  groups: number;
}

interface Loaded { kernel: Tensor4D; scale: Tensor1D|null; add: Tensor1D; }

/** The convolutions (and their folded norms) of a backbone body, by state_dict name. */
export class ConvBank {
  private readonly defs = new Map<string, ConvDef>();
  private weights = new Map<string, Loaded>();

  constructor(readonly op: string, readonly normEps: number) {}

  /** Registers a conv; returns its name (the conv key). */
  add(def: ConvDef): string {
    if (this.defs.has(def.conv)) throw new Error(`${this.op}: conv '${def.conv}' registered twice`);
    if (def.groups !== 1 && !(def.groups === def.inChannels && def.inChannels === def.outChannels)) {
      throw new Error(`${this.op}: conv '${def.conv}' must have groups 1 or be depthwise`);
    }
    this.defs.set(def.conv, {...def});
    return def.conv;
  }

  /** Keeps only the convs whose name passes `keep` (before loading). */
  retain(keep: (conv: string) => boolean) {
    for (const name of [...this.defs.keys()]) if (!keep(name)) this.defs.delete(name);
  }

  /** Every state_dict key the convs take under prefix, with torch's shape. */
  expectedShapes(prefix: string): Record<string, number[]> {
    const p = withDot(prefix);
    const out: Record<string, number[]> = {};
    for (const d of this.defs.values()) {
      out[`${p}${d.conv}.weight`] = [d.outChannels, d.inChannels / d.groups, d.kernelSize, d.kernelSize];
      if (d.norm == null) {
        out[`${p}${d.conv}.bias`] = [d.outChannels];
      } else {
        for (const k of ['weight', 'bias', 'running_mean', 'running_var']) out[`${p}${d.norm}.${k}`] = [d.outChannels];
      }
    }
    return out;
  }

  /** Takes every conv's weights under prefix (replacing the held ones only when all load); returns the keys used. */
  loadStateDict(stateDict: StateDict, prefix: string): string[] {
    const p = withDot(prefix);
    const loaded = new Map<string, Loaded>();
    try {
      for (const d of this.defs.values()) {
        const shape = [d.outChannels, d.inChannels / d.groups, d.kernelSize, d.kernelSize];
        const raw = takeWeight(this.op, stateDict, `${p}${d.conv}.weight`, shape, 'same');
        // depthwise: [C, 1, k, k] -> [k, k, C, 1]; else OIHW -> HWIO
        const kernel = tf.tidy(() => tf.transpose(raw, d.groups === 1 ? [2, 3, 1, 0] : [2, 3, 0, 1]) as Tensor4D);
        raw.dispose();
        if (d.norm == null) {
          let bias: Tensor1D;
          try {
            bias = takeWeight(this.op, stateDict, `${p}${d.conv}.bias`, [d.outChannels], 'same') as Tensor1D;
          } catch (e) {
            kernel.dispose();
            throw e;
          }
          loaded.set(d.conv, {kernel, scale: null, add: bias});
          continue;
        }
        const parts: Tensor[] = [];
        try {
          for (const k of ['weight', 'bias', 'running_mean', 'running_var']) {
            parts.push(takeWeight(this.op, stateDict, `${p}${d.norm}.${k}`, [d.outChannels], 'same'));
          }
        } catch (e) {
          tf.dispose([kernel, ...parts]);
          throw e;
        }
        const [w, b, mean, variance] = parts;
        const {scale, add} = tf.tidy(() => {
          const s = tf.mul(w, tf.rsqrt(tf.add(variance, this.normEps)));
          return {scale: s as Tensor1D, add: tf.sub(b, tf.mul(mean, s)) as Tensor1D};
        });
        tf.dispose(parts);
        loaded.set(d.conv, {kernel, scale, add});
      }
    } catch (e) {
      for (const l of loaded.values()) tf.dispose([l.kernel, l.scale, l.add].filter(t => t != null) as Tensor[]);
      throw e;
    }
    this.dispose();
    this.weights = new Map([...loaded].map(([name, l]) => [name, {kernel: asVariable(l.kernel) as Tensor as Tensor4D,
      scale: l.scale == null ? null : asVariable(l.scale) as Tensor as Tensor1D, add: asVariable(l.add) as Tensor as Tensor1D}]));
    return Object.keys(this.expectedShapes(prefix));
  }

  /**
   * The trainable variables under prefix by state_dict key: '<conv>.weight'
   * (the kernel, HWIO or depthwise [k, k, C, 1]), and '<norm>.weight' /
   * '<norm>.bias' for the folded scale and shift (or '<conv>.bias').
   */
  namedVariables(prefix: string): Record<string, tf.Variable> {
    const p = withDot(prefix);
    const out: Record<string, tf.Variable> = {};
    for (const d of this.defs.values()) {
      const w = this.weights.get(d.conv);
      if (w == null) throw new Error(`${this.op}: call loadStateDict first`);
      out[`${p}${d.conv}.weight`] = w.kernel as Tensor as tf.Variable;
      if (d.norm == null) {
        out[`${p}${d.conv}.bias`] = w.add as Tensor as tf.Variable;
      } else {
        out[`${p}${d.norm}.weight`] = w.scale as Tensor as tf.Variable;
        out[`${p}${d.norm}.bias`] = w.add as Tensor as tf.Variable;
      }
    }
    return out;
  }

  /**
   * The weights as a torchvision state_dict under prefix (new tensors the
   * caller owns). Norms come out folded: weight = scale, bias = shift,
   * running_mean = 0, running_var = 1 - eps, which loads back to the same
   * scale and shift.
   */
  stateDict(prefix: string): Record<string, Tensor> {
    const p = withDot(prefix);
    const out: Record<string, Tensor> = {};
    for (const d of this.defs.values()) {
      const w = this.weights.get(d.conv);
      if (w == null) throw new Error(`${this.op}: call loadStateDict first`);
      out[`${p}${d.conv}.weight`] = toTorchLayout(w.kernel, d.groups === 1 ? 'conv' : 'depthwise');
      if (d.norm == null) {
        out[`${p}${d.conv}.bias`] = tf.clone(w.add);
        continue;
      }
      out[`${p}${d.norm}.weight`] = tf.clone(w.scale!);
      out[`${p}${d.norm}.bias`] = tf.clone(w.add);
      out[`${p}${d.norm}.running_mean`] = tf.zeros([d.outChannels]);
      out[`${p}${d.norm}.running_var`] = tf.fill([d.outChannels], 1 - this.normEps);
    }
    return out;
  }

  get loaded(): boolean {
    return this.weights.size > 0;
  }

  /** conv, then its norm or bias, then the activation (null: none). */
  apply(name: string, x: Tensor4D, activation: ActivationName|null = null): Tensor4D {
    const d = this.defs.get(name);
    const w = this.weights.get(name);
    if (d == null) throw new Error(`${this.op}: no conv '${name}'`);
    if (w == null) throw new Error(`${this.op}: call loadStateDict first`);
    return tf.tidy(() => {
      const pad = (d.kernelSize - 1) >> 1;
      let y: Tensor4D;
      if (d.groups === 1 && d.kernelSize === 1) {
        // 1x1: a matMul over the pixels (of every stride-th row and column). tfjs-node 4.22 (oneDNN) dies
        // with SIGFPE on some 1x1 conv2d shapes (e.g. [2, 6, 6, 256] -> 1024 channels).
        const [n, , , c] = x.shape;
        const sub = d.stride === 1 ? x : everyNth(x, d.stride);
        const [, sh, sw] = sub.shape;
        const flat = tf.matMul(tf.reshape(sub, [-1, c]), tf.reshape(w.kernel, [c, d.outChannels]));
        y = tf.reshape(flat, [n, sh, sw, d.outChannels]) as Tensor4D;
      } else {
        // tf.pad + 'valid', not explicit padding: tfjs-node's conv gradients take only 'valid' and 'same'
        const padded = pad === 0 ? x : tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]);
        y = d.groups === 1 ? tf.conv2d(padded, w.kernel, d.stride, 'valid') :
            tf.depthwiseConv2d(padded, w.kernel, d.stride, 'valid');
      }
      const out = w.scale == null ? tf.add(y, w.add) : tf.add(tf.mul(y, w.scale), w.add);
      return activate(activation, out) as Tensor4D;
    });
  }

  /** Disposes the weight tensors. */
  dispose() {
    for (const l of this.weights.values()) tf.dispose([l.kernel, l.scale, l.add].filter(t => t != null) as Tensor[]);
    this.weights = new Map();
  }
}
