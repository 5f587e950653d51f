/** Shared checks of the layer specs: torchvision layer fixtures, save/load round trips. */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor} from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as vision from '../../src/index';
import {toChannelsFirst, toChannelsLast, TorchLayer} from '../../src/layers/torch_layer';
import {expectTensorClose, FixtureCase, FixtureTensor, fixtureTensor} from './helpers';
import {Tolerance} from './tolerances';

export type DataFormat = 'channelsFirst'|'channelsLast';

/** A case of layers.json (see tools/fixtures_layers.py). */
export interface LayerCase extends FixtureCase {
  args: {config: Record<string, unknown>, training: boolean, trainable: number, non_trainable: number,
    trainable_count: number, non_trainable_count: number};
  outputs: FixtureTensor[];
  dys?: FixtureTensor[];
  state_after?: Record<string, FixtureTensor>;
}

type LayerClass = new (args: any) => TorchLayer|tfl.layers.Layer;  // eslint-disable-line @typescript-eslint/no-explicit-any
export const LAYER_CLASSES: Record<string, LayerClass> = {
  FrozenBatchNorm2d: vision.FrozenBatchNorm2d,
  Conv2dNormActivation: vision.Conv2dNormActivation,
  Conv3dNormActivation: vision.Conv3dNormActivation,
  MLP: vision.MLP,
  Permute: vision.Permute,
  SqueezeExcitation: vision.SqueezeExcitation,
  FeaturePyramidNetwork: vision.FeaturePyramidNetwork,
};

/** Layers whose tensors have a channel axis (and a dataFormat option). */
export const SPATIAL = ['FrozenBatchNorm2d', 'Conv2dNormActivation', 'Conv3dNormActivation', 'SqueezeExcitation',
  'FeaturePyramidNetwork'];

export function formatsOf(op: string): DataFormat[] {
  return SPATIAL.includes(op) ? ['channelsLast', 'channelsFirst'] : ['channelsFirst'];
}

/** A fixture tensor (NCHW) in the layout of dataFormat. */
export function inFormat(t: FixtureTensor, dataFormat: DataFormat): Tensor {
  const x = fixtureTensor(t);
  if (dataFormat === 'channelsFirst' || x.rank < 3) return x;
  const last = toChannelsLast(x);
  x.dispose();
  return last;
}

export function inputsOf(c: FixtureCase): string[] {
  return Object.keys(c.inputs).filter(k => /^x\d+$/.test(k));
}

export function stateOf(c: FixtureCase): Record<string, Tensor> {
  return Object.fromEntries(Object.keys(c.inputs).filter(k => k.startsWith('state.'))
      .map(k => [k.slice('state.'.length), fixtureTensor(c.inputs[k])]));
}

/** A layer of the case, built for these inputs, with the torchvision weights loaded. */
export function makeLayer(c: LayerCase, dataFormat: DataFormat, xs: Tensor[]) {
  const config = SPATIAL.includes(c.op) ? {...c.args.config, dataFormat} : {...c.args.config};
  const layer = new LAYER_CLASSES[c.op](config);
  layer.build(xs.length === 1 ? xs[0].shape : xs.map(x => x.shape));
  const state = stateOf(c);
  try {
    if (layer.weights.length > 0) vision.loadTorchvisionWeights(layer, state);
  } finally {
    tf.dispose(Object.values(state));
  }
  return layer;
}

/** Layer.dispose() refuses layers never applied to symbolic tensors: free the weights. */
export function disposeLayer(layer: tfl.layers.Layer) {
  for (const w of layer.weights) w.dispose();
}

/** A torch gradient in the tfjs layout of the weight it belongs to. */
export function torchToTfjs(t: Tensor, layout: vision.TorchLayout): Tensor {
  if (layout === 'same') return t.clone();
  if (layout === 'linear') return tf.transpose(t);
  return tf.transpose(t, [...Array.from({length: t.rank - 2}, (_, i) => i + 2), 1, 0]);
}

export function outputsOf(layer: tfl.layers.Layer, xs: Tensor[], training: boolean): Tensor[] {
  const out = layer.apply(xs.length === 1 ? xs[0] : xs, {training}) as Tensor|Tensor[];
  return Array.isArray(out) ? out : [out];
}

/**
 * Forward outputs, running statistics after a training step, and the
 * gradients of sum(out * dy) w.r.t. the inputs and every trainable weight.
 */
export async function checkLayerCase(c: LayerCase, dataFormat: DataFormat, tol?: Tolerance) {
  const view = (t: FixtureTensor) => inFormat(t, dataFormat);
  const xs = inputsOf(c).map(k => view(c.inputs[k]));
  const layer = makeLayer(c, dataFormat, xs);
  const training = c.args.training;
  try {
    const before = tf.memory().numTensors;
    const outs = outputsOf(layer, xs, training);
    expect(outs.length).toBe(c.outputs.length);
    for (let i = 0; i < outs.length; i++) {
      const expected = view(c.outputs[i]);
      await expectTensorClose(outs[i], expected, tol, `${c.op} output ${i}`);
      expected.dispose();
    }
    tf.dispose(outs);
    expect(tf.memory().numTensors).toBe(before);
    if (c.state_after != null) {
      const byKey = new Map((layer as TorchLayer).torchWeights.map(w => [w.key, w.variable]));
      for (const [key, t] of Object.entries(c.state_after)) {
        const expected = fixtureTensor(t);
        await expectTensorClose(byKey.get(key)!.read(), expected, tol, `${c.op} ${key} after training`);
        expected.dispose();
      }
    }
    if (c.grads != null) await checkGrads(c, layer, xs, dataFormat, tol);
  } finally {
    tf.dispose(xs);
    disposeLayer(layer);
  }
}

async function checkGrads(
    c: LayerCase, layer: tfl.layers.Layer, xs: Tensor[], dataFormat: DataFormat, tol?: Tolerance) {
  const dys = c.dys!.map(d => inFormat(d, dataFormat));
  const xVars = xs.map(x => tf.variable(x));
  const weights = layer instanceof TorchLayer ? layer.torchWeights.filter(w => w.variable.trainable) : [];
  const wVars = weights.map(w => w.variable.read() as tf.Variable);
  try {
    const {value, grads} = tf.variableGrads(() => {
      const outs = outputsOf(layer, xVars, c.args.training);
      return tf.addN(outs.map((o, i) => tf.sum(tf.mul(o, dys[i])))) as tf.Scalar;
    }, [...xVars, ...wVars]);
    value.dispose();
    for (let i = 0; i < xVars.length; i++) {
      const expected = inFormat(c.grads![`x${i}`], dataFormat);
      await expectTensorClose(grads[xVars[i].name], expected, tol, `${c.op} d/dx${i}`);
      expected.dispose();
    }
    for (let i = 0; i < weights.length; i++) {
      const torchGrad = fixtureTensor(c.grads![`state.${weights[i].key}`]);
      const expected = torchToTfjs(torchGrad, weights[i].layout);
      await expectTensorClose(grads[wVars[i].name], expected, tol, `${c.op} d/d${weights[i].key}`);
      tf.dispose([torchGrad, expected]);
    }
    tf.dispose(Object.values(grads));
  } finally {
    tf.dispose([...dys, ...xVars]);
  }
}

/** Saves a model to memory and loads it back through tf.loadLayersModel. */
export async function roundTrip(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  let saved: tf.io.ModelArtifacts|null = null;
  await model.save(tf.io.withSaveHandler(async artifacts => {
    saved = artifacts;
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  }));
  return tfl.loadLayersModel(tf.io.fromMemory(saved!));
}

export {toChannelsFirst, toChannelsLast};
