/**
 * Loads a PyTorch state_dict (from parseSafetensors, or tf.Tensors by name)
 * into these layers and into tfjs-layers' Dense, Conv2D, Conv3D and
 * BatchNormalization. Layouts: conv weights OIHW / OIDHW -> HWIO / DHWIO,
 * Linear [out, in] -> [in, out]; the layers' own weights keep torchvision's
 * names, so 'inner_blocks.0.0.weight' under prefix 'backbone.fpn.' is
 * 'backbone.fpn.inner_blocks.0.0.weight'. Weights do not depend on
 * dataFormat, except a Linear after a flatten of a NCHW map (torchvision's
 * TwoMLPHead.fc6): in a channelsLast model its input is flattened as
 * (H, W, C), so name it in `linearFromNchw` with torch's [C, H, W].
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor} from '@tensorflow/tfjs-core';
import {layers, LayersModel, LayerVariable} from '@tensorflow/tfjs-layers';
import {TorchLayer, TorchLayout} from '../layers/torch_layer.ts';
import {HostTensor} from './safetensors.ts';

type Layer = layers.Layer;
/** A PyTorch state_dict: tensors by key, from {@link parseSafetensors} or as tf.Tensors. */
export type StateDict = Record<string, HostTensor|Tensor>;

/** Options of {@link loadTorchvisionWeights}. */
export interface LoadTorchvisionWeightsArgs {
  /**
   * state_dict prefix per layer name (a trailing '.' is added when missing).
   * Only these layers are loaded. Default: the layer itself, or every layer
   * of a model that has weights, with no prefix.
   */
  prefixes?: Record<string, string>;
  /**
   * Linear layers fed by a channelsLast flatten: layer name -> torch's
   * [C, H, W] of the flattened map. Default none.
   */
  linearFromNchw?: Record<string, [number, number, number]>;
}

/** What {@link loadTorchvisionWeights} used of the state_dict. */
export interface LoadReport {
  /** state_dict keys copied into weights. */
  loaded: string[];
  /** state_dict keys no weight took (e.g. num_batches_tracked, other modules). */
  unused: string[];
}

interface Target { key: string; layout: TorchLayout; variable: LayerVariable; }

const OP = 'loadTorchvisionWeights';

/** The variable of a tfjs-layers layer whose name ends with /suffix. */
function own(layer: Layer, suffix: string): LayerVariable|undefined {
  return layer.weights.find(w => w.originalName.endsWith(`/${suffix}`) || w.originalName === suffix);
}

function targetsOf(layer: Layer): Target[] {
  if (layer instanceof TorchLayer) return layer.torchWeights;
  const className = layer.getClassName();
  const map: Array<[string, string, TorchLayout]> =
      className === 'Dense' ? [['kernel', 'weight', 'linear'], ['bias', 'bias', 'same']] :
      className === 'Conv2D' || className === 'Conv3D' ? [['kernel', 'weight', 'conv'], ['bias', 'bias', 'same']] :
      className === 'BatchNormalization' ? [['gamma', 'weight', 'same'], ['beta', 'bias', 'same'],
        ['moving_mean', 'running_mean', 'same'], ['moving_variance', 'running_var', 'same']] : [];
  if (map.length === 0 && layer.weights.length > 0) {
    throw new Error(`${OP}: layer '${layer.name}' (${className}) has no torchvision mapping`);
  }
  const targets: Target[] = [];
  for (const [tfName, key, layout] of map) {
    const variable = own(layer, tfName);
    if (variable != null) targets.push({key, layout, variable});
  }
  return targets;
}

function toTensor(value: HostTensor|Tensor): Tensor {
  return value instanceof Tensor ? tf.cast(value, 'float32') : tf.tensor(value.values, value.shape, 'float32');
}

/** A torch tensor in tfjs layout for `layout`, with the flatten reorder of linearFromNchw. */
function convert(t: Tensor, layout: TorchLayout, nchw?: [number, number, number]): Tensor {
  if (layout === 'same') return t;
  if (layout === 'linear') {
    if (nchw == null) return tf.transpose(t);
    const out = t.shape[0];
    const hwc = tf.transpose(tf.reshape(t, [out, ...nchw]), [0, 2, 3, 1]);
    return tf.transpose(tf.reshape(hwc, [out, -1]));
  }
  return tf.transpose(t, [...Array.from({length: t.rank - 2}, (_, i) => i + 2), 1, 0]);
}

/**
 * Copies state_dict tensors into the weights of a layer or of a model's
 * layers (built), converting torch layouts (conv OIHW / OIDHW -> HWIO / DHWIO,
 * Linear [out, in] -> [in, out]); every weight of a loaded layer must be found,
 * with a matching shape, else an Error naming both. Handles this package's
 * layers and tfjs's Dense, Conv2D, Conv3D and BatchNormalization. Defaults:
 * prefixes: every layer with weights, no prefix; linearFromNchw: none.
 * Returns the keys loaded and unused. torchvision counterpart:
 * `module.load_state_dict(state_dict)`.
 *
 * ```js
 * const {tensors} = parseSafetensors(await (await fetch('faster_rcnn.safetensors')).arrayBuffer());
 * loadTorchvisionWeights(model, tensors, {prefixes: {fpn: 'backbone.fpn', fc6: 'roi_heads.box_head.fc6'}});
 * ```
 */
export function loadTorchvisionWeights(
    target: LayersModel|Layer, stateDict: StateDict, args: LoadTorchvisionWeightsArgs = {}): LoadReport {
  const isModel = target instanceof LayersModel;
  const all = isModel ? target.layers : [target];
  const prefixes = args.prefixes ??
      Object.fromEntries(all.filter(l => !isModel || l.weights.length > 0).map(l => [l.name, '']));
  const byName = new Map(all.map(l => [l.name, l]));
  const used = new Set<string>();
  for (const [name, rawPrefix] of Object.entries(prefixes)) {
    const layer = byName.get(name);
    if (layer == null) throw new Error(`${OP}: no layer named '${name}' (have ${[...byName.keys()].join(', ')})`);
    if (!layer.built) throw new Error(`${OP}: layer '${name}' is not built yet (call it or build the model first)`);
    const prefix = rawPrefix === '' || rawPrefix.endsWith('.') ? rawPrefix : `${rawPrefix}.`;
    const nchw = args.linearFromNchw?.[name];
    for (const {key, layout, variable} of targetsOf(layer)) {
      const full = prefix + key;
      const value = stateDict[full];
      if (value == null) throw new Error(`${OP}: the state_dict has no '${full}' for layer '${name}'`);
      const converted = tf.tidy(() => convert(toTensor(value), layout, layout === 'linear' ? nchw : undefined));
      if (!tf.util.arraysEqual(converted.shape, variable.shape as number[])) {
        const shape = value instanceof Tensor ? value.shape : value.shape;
        converted.dispose();
        throw new Error(`${OP}: '${full}' has torch shape [${shape}], which does not fit weight ` +
            `'${variable.originalName}' [${variable.shape}] (layout '${layout}')`);
      }
      variable.write(converted);
      converted.dispose();
      used.add(full);
    }
  }
  return {loaded: [...used], unused: Object.keys(stateDict).filter(k => !used.has(k))};
}
