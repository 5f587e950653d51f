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

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Tensor) return `a tf.Tensor`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v).slice(0, 40)}`;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v != null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Tensor);

/** The torch shape whose conversion for `layout` has the variable's shape. */
function torchShapeOf(shape: number[], layout: TorchLayout): number[] {
  if (layout === 'same') return shape;
  if (layout === 'linear') return shape.length === 2 ? [shape[1], shape[0]] : shape;
  const r = shape.length;
  return r < 2 ? shape : [shape[r - 1], shape[r - 2], ...shape.slice(0, r - 2)];
}

/**
 * The state_dict value checked: a float32 tf.Tensor (not disposed) or a
 * HostTensor whose values are a typed array of its shape's size. `where`
 * begins each error message (the op and the key).
 */
function checkValue(value: unknown, where: string): {shape: number[]} {
  if (value instanceof Tensor) {
    if (value.isDisposed) throw new Error(`${where} is a disposed tf.Tensor`);
    if (value.dtype !== 'float32') throw new Error(`${where} has dtype ${value.dtype}; weights take float32 tensors`);
    return {shape: value.shape};
  }
  if (!isRecord(value)) throw new Error(`${where} is ${describeValue(value)}, not a tf.Tensor or HostTensor`);
  const {shape, dtype, values} = value as Partial<HostTensor>;
  if (!Array.isArray(shape) || !shape.every(d => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`${where} has shape ${JSON.stringify(shape)}, not an array of non-negative integers`);
  }
  if (dtype !== 'float32') {
    const source = typeof value.sourceDtype === 'string' ? ` (stored as ${value.sourceDtype})` : '';
    throw new Error(`${where} has dtype ${JSON.stringify(dtype)}${source}; weights take float32 tensors`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (!ArrayBuffer.isView(values) || values instanceof DataView || (values as Float32Array).length !== count) {
    throw new Error(`${where} has values that are not a typed array of ${count} elements (shape [${shape}])`);
  }
  return {shape};
}

function toTensor(value: HostTensor|Tensor): Tensor {
  return value instanceof Tensor ? tf.cast(value, 'float32') : tf.tensor(value.values, value.shape, 'float32');
}

/** The axis order that takes a torch tensor of this rank to tfjs layout (no linearFromNchw). */
function permutation(rank: number, layout: TorchLayout): number[]|null {
  if (layout === 'same' || rank < 2) return null;
  if (layout === 'linear') return rank === 2 ? [1, 0] : null;
  return [...Array.from({length: rank - 2}, (_, i) => i + 2), 1, 0];
}

/** values of `shape` (row-major) with their axes permuted by perm, into a new Float32Array. */
function permuteHost(values: ArrayLike<number>, shape: number[], perm: number[]): Float32Array {
  const out = new Float32Array(values.length);
  const rank = shape.length;
  const strides = new Array<number>(rank);
  for (let a = rank - 1, s = 1; a >= 0; s *= shape[a], a--) strides[a] = s;
  const outShape = perm.map(a => shape[a]);
  const inStride = perm.map(a => strides[a]);
  if (rank === 2) {
    // [r, c] -> [c, r] in 64 x 64 tiles
    const [rows, cols] = shape;
    for (let r0 = 0; r0 < rows; r0 += 64) {
      for (let c0 = 0; c0 < cols; c0 += 64) {
        for (let c = c0; c < Math.min(c0 + 64, cols); c++) {
          for (let r = r0; r < Math.min(r0 + 64, rows); r++) out[c * rows + r] = values[r * cols + c];
        }
      }
    }
    return out;
  }
  const index = new Array<number>(rank).fill(0);
  let from = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = values[from];
    for (let a = rank - 1; a >= 0; a--) {
      index[a]++;
      from += inStride[a];
      if (index[a] < outShape[a]) break;
      from -= inStride[a] * outShape[a];
      index[a] = 0;
    }
  }
  return out;
}

/**
 * toTensor then convert, but a HostTensor (without linearFromNchw) is
 * permuted on the host: tfjs-backend-cpu's transpose of a 12.8M-element
 * Linear (Faster R-CNN's fc6) takes seconds.
 */
function toConverted(value: HostTensor|Tensor, layout: TorchLayout, nchw?: [number, number, number]): Tensor {
  const perm = value instanceof Tensor || nchw != null ? null : permutation(value.shape.length, layout);
  if (perm == null) return tf.tidy(() => convert(toTensor(value), layout, nchw));
  const {values, shape} = value as HostTensor;
  return tf.tensor(permuteHost(values, shape, perm), perm.map(a => shape[a]), 'float32');
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
 * The weight `key` of a torchvision state_dict as a new float32 tensor in
 * tfjs layout (the caller owns it and disposes it): the key must be there,
 * its value a float32 tf.Tensor that is not disposed or a HostTensor whose
 * values fit its shape, of torch shape `torchShape`; layout 'conv' turns
 * OIHW (OIDHW) into HWIO (DHWIO), 'linear' transposes [out, in] to [in, out],
 * 'same' copies. Anything else is an Error that begins with `op` and names
 * the key. The checks and conversion of {@link loadTorchvisionWeights}, for
 * one tensor.
 */
export function torchWeight(op: string, stateDict: StateDict, key: string, torchShape: number[],
    layout: TorchLayout): Tensor {
  if (!isRecord(stateDict)) {
    throw new Error(`${op}: stateDict must be an object of tensors by state_dict key, got ${describeValue(stateDict)}`);
  }
  const value = Object.prototype.hasOwnProperty.call(stateDict, key) ? stateDict[key] : undefined;
  if (value == null) throw new Error(`${op}: the state_dict has no '${key}'`);
  const {shape} = checkValue(value, `${op}: stateDict['${key}']`);
  if (!tf.util.arraysEqual(shape, torchShape)) {
    throw new Error(`${op}: '${key}' has shape [${shape}], expected [${torchShape}]`);
  }
  const out = toConverted(value, layout);
  // convert keeps 'same' tensors as they are: never hand back the state_dict's own tensor
  return out === value ? tf.clone(out) : out;
}

interface Planned { full: string; layout: TorchLayout; variable: LayerVariable; value: HostTensor|Tensor;
  nchw?: [number, number, number]; }

/**
 * Copies state_dict tensors into the weights of a layer or of a model's
 * layers (built), converting torch layouts (conv OIHW / OIDHW -> HWIO / DHWIO,
 * Linear [out, in] -> [in, out]). Handles this package's layers and tfjs's
 * Dense, Conv2D, Conv3D and BatchNormalization. Defaults: prefixes: every
 * layer with weights, no prefix; linearFromNchw: none. Returns the keys
 * loaded and unused. torchvision counterpart:
 * `module.load_state_dict(state_dict)`.
 *
 * Atomic: everything is checked first (every prefix names a built layer with
 * a torchvision mapping, every weight's key is in the state_dict as a float32
 * tf.Tensor or HostTensor whose torch shape fits the weight, every
 * linearFromNchw fits its Linear), and every tensor is converted, before any
 * weight is written. On an Error (naming the layer, the key and what is
 * wrong) no weight has changed and no tensor is left allocated.
 *
 * ```js
 * const {tensors} = parseSafetensors(await (await fetch('faster_rcnn.safetensors')).arrayBuffer());
 * loadTorchvisionWeights(model, tensors, {prefixes: {fpn: 'backbone.fpn', fc6: 'roi_heads.box_head.fc6'}});
 * ```
 */
export function loadTorchvisionWeights(
    target: LayersModel|Layer, stateDict: StateDict, args: LoadTorchvisionWeightsArgs = {}): LoadReport {
  const isModel = target instanceof LayersModel;
  if (!isModel && !(target instanceof layers.Layer)) {
    throw new Error(`${OP}: target must be a tf.LayersModel or a tf.layers.Layer, got ${describeValue(target)}`);
  }
  if (stateDict instanceof Map) {
    throw new Error(`${OP}: stateDict must be a plain object of tensors by key, got a Map (use Object.fromEntries)`);
  }
  if (!isRecord(stateDict)) {
    throw new Error(`${OP}: stateDict must be an object of tensors by state_dict key, got ${describeValue(stateDict)}`);
  }
  if (!isRecord(args)) throw new Error(`${OP}: args must be an object, got ${describeValue(args)}`);
  if (args.prefixes != null && !isRecord(args.prefixes)) {
    throw new Error(`${OP}: args.prefixes must be an object of layer name -> prefix, got ${describeValue(args.prefixes)}`);
  }
  if (args.linearFromNchw != null && !isRecord(args.linearFromNchw)) {
    throw new Error(`${OP}: args.linearFromNchw must be an object of layer name -> [C, H, W], ` +
        `got ${describeValue(args.linearFromNchw)}`);
  }
  const all = isModel ? target.layers : [target];
  const prefixes: Record<string, unknown> = args.prefixes ??
      Object.fromEntries(all.filter(l => !isModel || l.weights.length > 0).map(l => [l.name, '']));
  const byName = new Map(all.map(l => [l.name, l]));
  const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

  // 1. Check everything, writing nothing.
  const plan: Planned[] = [];
  for (const [name, rawPrefix] of Object.entries(prefixes)) {
    const layer = byName.get(name);
    if (layer == null) throw new Error(`${OP}: no layer named '${name}' (have ${[...byName.keys()].join(', ')})`);
    if (!layer.built) throw new Error(`${OP}: layer '${name}' is not built yet (call it or build the model first)`);
    if (typeof rawPrefix !== 'string') {
      throw new Error(`${OP}: args.prefixes['${name}'] must be a string, got ${describeValue(rawPrefix)}`);
    }
    const prefix = rawPrefix === '' || rawPrefix.endsWith('.') ? rawPrefix : `${rawPrefix}.`;
    const rawNchw = args.linearFromNchw != null && has(args.linearFromNchw, name) ? args.linearFromNchw[name] : undefined;
    if (rawNchw != null && !(Array.isArray(rawNchw) && rawNchw.length === 3 &&
        rawNchw.every(d => Number.isSafeInteger(d) && d > 0))) {
      throw new Error(`${OP}: args.linearFromNchw['${name}'] must be [C, H, W] of positive integers, ` +
          `got ${JSON.stringify(rawNchw)}`);
    }
    const nchw = rawNchw as [number, number, number]|undefined;
    for (const {key, layout, variable} of targetsOf(layer)) {
      const full = prefix + key;
      if (!has(stateDict, full) || stateDict[full] == null) {
        throw new Error(`${OP}: the state_dict has no '${full}' for layer '${name}'`);
      }
      const value = stateDict[full];
      const {shape} = checkValue(value, `${OP}: stateDict['${full}'] (for layer '${name}')`);
      const variableShape = variable.shape as number[];
      if (variable.dtype !== 'float32') {
        throw new Error(`${OP}: weight '${variable.originalName}' of layer '${name}' has dtype ${variable.dtype}, ` +
            'not float32');
      }
      const expected = torchShapeOf(variableShape, layout);
      if (!tf.util.arraysEqual(shape, expected)) {
        throw new Error(`${OP}: '${full}' has torch shape [${shape}], which does not fit weight ` +
            `'${variable.originalName}' [${variableShape}] (layout '${layout}': torch shape [${expected}])`);
      }
      const usesNchw = layout === 'linear' && nchw != null;
      if (usesNchw && nchw[0] * nchw[1] * nchw[2] !== shape[1]) {
        throw new Error(`${OP}: args.linearFromNchw['${name}'] = [${nchw}] has ${nchw[0] * nchw[1] * nchw[2]} ` +
            `elements, but '${full}' has ${shape[1]} inputs`);
      }
      plan.push({full, layout, variable, value, nchw: usesNchw ? nchw : undefined});
    }
  }

  // 2. Convert every tensor; on a failure free what was made.
  const converted: Tensor[] = [];
  try {
    for (const {layout, value, nchw} of plan) {
      converted.push(toConverted(value, layout, nchw));
    }
  } catch (e) {
    tf.dispose(converted);
    throw e;
  }

  // 3. Write them all.
  const used = new Set<string>();
  try {
    plan.forEach(({full, variable}, i) => {
      variable.write(converted[i]);
      used.add(full);
    });
  } finally {
    tf.dispose(converted);
  }
  return {loaded: [...used], unused: Object.keys(stateDict).filter(k => !used.has(k))};
}
