import * as tf from '@tensorflow/tfjs-core';
import {serialization, Tensor, Tensor2D, Tensor3D, Tensor4D} from '@tensorflow/tfjs-core';
import {initializers, Shape} from '@tensorflow/tfjs-layers';
import {LevelStartIndex, msDeformAttn, SpatialShapes} from '../ops/ms_deform_attn.ts';
import {assertRank, assertTensor, describe, fail} from '../ops/validate.ts';
import {TorchLinear} from './blocks/linear.ts';
import {zeros} from './blocks/init.ts';
import {checkPositiveInt, Initializer, Kwargs, LayerArgs, layerArgs, TorchLayer} from './torch_layer.ts';

/** Arguments of the {@link MultiScaleDeformableAttention} layer. */
export interface MultiScaleDeformableAttentionArgs extends LayerArgs {
  /** Channels of the query, the input and the output. Default 256; divisible by nHeads. */
  dModel?: number;
  /** Feature levels. Default 4. */
  nLevels?: number;
  /** Attention heads. Default 8. */
  nHeads?: number;
  /** Sampling points per head and level. Default 4. */
  nPoints?: number;
  /**
   * [[H, W], ...] of the nLevels levels, for call() inside a model whose input
   * size is fixed; default null: given per call (forward's inputSpatialShapes,
   * or call kwargs.spatialShapes).
   */
  spatialShapes?: Array<[number, number]>|null;
}

/** Level tables of one call, as call() takes them in kwargs (overriding the spatialShapes argument). */
export interface MultiScaleDeformableAttentionKwargs extends Kwargs {
  spatialShapes?: SpatialShapes;
  /** Needed with a spatialShapes tensor; derived from spatialShapes arrays. */
  levelStartIndex?: LevelStartIndex;
}

const NAME = 'MultiScaleDeformableAttention';

function checkLevelShapes(arg: string, value: unknown, levels: number): Array<[number, number]> {
  if (!Array.isArray(value) || value.length !== levels || !value.every(s => Array.isArray(s) && s.length === 2 &&
      s.every(d => Number.isInteger(d) && d >= 1))) {
    fail(NAME, arg, `must be [[H, W], ...] of nLevels = ${levels} levels of integers >= 1, got ${describe(value)}`);
  }
  return value.map(([h, w]) => [h, w]);
}

/** Each level's first position in the flattened input: [0, H0 W0, H0 W0 + H1 W1, ...]. */
function startsOf(shapes: Array<[number, number]>): number[] {
  return shapes.map((_, l) => shapes.slice(0, l).reduce((s, [h, w]) => s + h * w, 0));
}

/**
 * Deformable DETR's sampling_offsets bias: head m's unit direction at angle
 * 2 pi m / nHeads scaled so its larger coordinate is 1, times (point + 1),
 * repeated over the levels; float32 as torch computes it.
 */
function samplingOffsetGrid(nHeads: number, nLevels: number, nPoints: number): Float32Array {
  const grid = new Float32Array(nHeads * nLevels * nPoints * 2);
  const step = Math.fround(2 * Math.PI / nHeads);
  for (let m = 0; m < nHeads; m++) {
    const theta = Math.fround(m * step);
    const [x, y] = [Math.fround(Math.cos(theta)), Math.fround(Math.sin(theta))];
    const max = Math.max(Math.abs(x), Math.abs(y));
    const unit = [Math.fround(x / max), Math.fround(y / max)];
    for (let l = 0; l < nLevels; l++) {
      for (let p = 0; p < nPoints; p++) {
        const at = ((m * nLevels + l) * nPoints + p) * 2;
        grid[at] = unit[0] * (p + 1);
        grid[at + 1] = unit[1] * (p + 1);
      }
    }
  }
  return grid;
}

/**
 * Multi-scale deformable attention as a tf.layers layer: each query attends
 * to nPoints points per head and level around its reference point, at
 * offsets and with softmax weights predicted from the query, over value =
 * valueProj(inputFlatten) with padded positions zeroed; the
 * {@link msDeformAttn} result goes through outputProj. Reference points are
 * [N, Lq, nLevels, 2] normalised (x, y) (offsets in pixels of each level:
 * divided by its (W, H)) or [N, Lq, nLevels, 4] boxes (cx, cy, w, h) (offsets
 * scaled by w / 2 nPoints, h / 2 nPoints).
 *
 * forward(query, referencePoints, inputFlatten, inputSpatialShapes,
 * inputLevelStartIndex, inputPaddingMask?) is Deformable DETR's: query [N,
 * Lq, dModel], inputFlatten [N, S, dModel] (the levels' maps flattened and
 * concatenated, S = sum of H W), the level tables as arrays or int32 tensors
 * (as {@link msDeformAttn}), inputPaddingMask [N, S] (true: padding) or null
 * -> [N, Lq, dModel]. In a model, apply([query, referencePoints,
 * inputFlatten]) or with inputPaddingMask fourth (bool, or numbers: nonzero is
 * padding) takes the level tables from call kwargs {spatialShapes,
 * levelStartIndex}, else from the spatialShapes argument (fixed input size;
 * serialized with the layer). Weights keep Deformable DETR's state_dict keys
 * (sampling_offsets, attention_weights, value_proj, output_proj .weight /
 * .bias), initialised as its _reset_parameters: sampling_offsets weight 0 and
 * bias a grid (head m points at angle 2 pi m / nHeads, scaled so its larger
 * coordinate is 1, times point + 1, on every level), attention_weights 0,
 * value_proj and output_proj xavier_uniform weights and zero biases.
 * Defaults: dModel 256, nLevels 4, nHeads 8, nPoints 4, spatialShapes null.
 * Deformable DETR: `MSDeformAttn(d_model=256, n_levels=4, n_heads=8,
 * n_points=4)` (models/ops/modules/ms_deform_attn.py); no torchvision
 * counterpart.
 *
 * ```js
 * const attn = new MultiScaleDeformableAttention({dModel: 256, nLevels: 2});  // = new MultiScaleDeformableAttention(256, 2)
 * // two levels of 32x32 and 16x16: inputFlatten [N, 1280, 256], referencePoints [N, Lq, 2, 2]
 * attn.forward(query, referencePoints, inputFlatten, [[32, 32], [16, 16]], [0, 1024])  // [N, Lq, 256]
 * loadTorchvisionWeights(attn, stateDict, {prefixes: {[attn.name]: 'transformer.encoder.layers.0.self_attn'}});
 * ```
 */
export class MultiScaleDeformableAttention extends TorchLayer {
  static className = NAME;
  readonly dModel: number;
  readonly nLevels: number;
  readonly nHeads: number;
  readonly nPoints: number;
  readonly spatialShapes: Array<[number, number]>|null;
  private readonly samplingOffsets: TorchLinear;
  private readonly attentionWeights: TorchLinear;
  private readonly valueProj: TorchLinear;
  private readonly outputProj: TorchLinear;

  /** One arguments object (also what deserialization passes); none: Deformable DETR's defaults. */
  constructor(args?: MultiScaleDeformableAttentionArgs);
  /** Deformable DETR's positional arguments (dModel, nLevels, nHeads, nPoints), then optionally an object of the other options. */
  constructor(dModel: number, nLevels?: number, nHeads?: number, nPoints?: number,
              options?: Omit<MultiScaleDeformableAttentionArgs, 'dModel'|'nLevels'|'nHeads'|'nPoints'>);
  constructor(...values: unknown[]) {
    const args = layerArgs<MultiScaleDeformableAttentionArgs>(NAME, values.length === 0 ? [{}] : values,
        ['dModel', 'nLevels', 'nHeads', 'nPoints']);
    super(args);
    this.dModel = checkPositiveInt(NAME, 'dModel', args.dModel ?? 256);
    this.nLevels = checkPositiveInt(NAME, 'nLevels', args.nLevels ?? 4);
    this.nHeads = checkPositiveInt(NAME, 'nHeads', args.nHeads ?? 8);
    this.nPoints = checkPositiveInt(NAME, 'nPoints', args.nPoints ?? 4);
    if (this.dModel % this.nHeads !== 0) {
      fail(NAME, 'dModel', `(${this.dModel}) must be divisible by nHeads (${this.nHeads})`);
    }
    this.spatialShapes = args.spatialShapes == null ? null :
      checkLevelShapes('spatialShapes', args.spatialShapes, this.nLevels);
    const samples = this.nHeads * this.nLevels * this.nPoints;
    this.samplingOffsets = new TorchLinear('sampling_offsets.', this.dModel, samples * 2, true);
    this.attentionWeights = new TorchLinear('attention_weights.', this.dModel, samples, true);
    this.valueProj = new TorchLinear('value_proj.', this.dModel, this.dModel, true);
    this.outputProj = new TorchLinear('output_proj.', this.dModel, this.dModel, true);
  }

  private addLinear(linear: TorchLinear, weight: Initializer, bias: Initializer) {
    const {prefix, inFeatures, outFeatures} = linear;
    linear.weight = this.addTorchWeight(`${prefix}weight`, [inFeatures, outFeatures], 'linear', weight);
    linear.bias = this.addTorchWeight(`${prefix}bias`, [outFeatures], 'same', bias);
  }

  build(inputShape: Shape|Shape[]) {
    const shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as Shape[];
    if (shapes.length !== 3 && shapes.length !== 4) {
      fail(NAME, 'inputs', `must be [query, referencePoints, inputFlatten] or with inputPaddingMask fourth, ` +
          `got ${shapes.length} input(s)`);
    }
    for (const [arg, shape] of [['query', shapes[0]], ['inputFlatten', shapes[2]]] as const) {
      if (shape.length !== 3 || (shape[2] != null && shape[2] !== this.dModel)) {
        fail(NAME, arg, `must be [N, L, dModel = ${this.dModel}], got shape [${shape}]`);
      }
    }
    this.addLinear(this.samplingOffsets, zeros(), zeros());
    const grid = tf.tensor1d(samplingOffsetGrid(this.nHeads, this.nLevels, this.nPoints));
    this.samplingOffsets.bias!.write(grid);
    grid.dispose();
    this.addLinear(this.attentionWeights, zeros(), zeros());
    this.addLinear(this.valueProj, initializers.glorotUniform({}), zeros());
    this.addLinear(this.outputProj, initializers.glorotUniform({}), zeros());
    this.built = true;
  }

  computeOutputShape(inputShape: Shape|Shape[]): Shape {
    const query = (inputShape as Shape[])[0];
    return [query[0], query[1], this.dModel];
  }

  /**
   * Deformable DETR's forward(query, reference_points, input_flatten,
   * input_spatial_shapes, input_level_start_index, input_padding_mask=None);
   * builds the layer on its first call. Returns [N, Lq, dModel].
   */
  forward(query: Tensor3D, referencePoints: Tensor4D, inputFlatten: Tensor3D, inputSpatialShapes: SpatialShapes,
          inputLevelStartIndex: LevelStartIndex, inputPaddingMask: Tensor2D|null = null): Tensor3D {
    const inputs = [query, referencePoints, inputFlatten, ...(inputPaddingMask == null ? [] : [inputPaddingMask])];
    inputs.forEach((t, i) => assertTensor(NAME, ['query', 'referencePoints', 'inputFlatten', 'inputPaddingMask'][i], t));
    return this.apply(inputs, {spatialShapes: inputSpatialShapes, levelStartIndex: inputLevelStartIndex}) as Tensor3D;
  }

  /** The level tables of a call and each level's (W, H) as float32 [L, 2], the offsets' normaliser. */
  private levelTables(kwargs: MultiScaleDeformableAttentionKwargs): [SpatialShapes, LevelStartIndex, Tensor2D] {
    const shapes = kwargs.spatialShapes ?? this.spatialShapes;
    if (shapes == null) {
      fail(NAME, 'spatialShapes', 'is needed: give the layer argument or call kwargs.spatialShapes ' +
          '(forward\'s inputSpatialShapes)');
    }
    if (shapes instanceof Tensor) {
      if (kwargs.levelStartIndex == null) fail(NAME, 'levelStartIndex', 'is needed with a spatialShapes tensor');
      assertRank(NAME, 'spatialShapes', shapes, [2]);
      return [shapes, kwargs.levelStartIndex, tf.cast(tf.reverse(shapes, 1), 'float32')];
    }
    const levels = checkLevelShapes('spatialShapes', shapes, this.nLevels);
    const normaliser = tf.tensor2d(levels.map(([h, w]) => [w, h]), [this.nLevels, 2], 'float32');
    return [levels, kwargs.levelStartIndex ?? startsOf(levels), normaliser];
  }

  call(inputs: Tensor|Tensor[], kwargs: MultiScaleDeformableAttentionKwargs = {}): Tensor {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    if (list.length !== 3 && list.length !== 4) {
      fail(NAME, 'inputs', `must be [query, referencePoints, inputFlatten] or with inputPaddingMask fourth, ` +
          `got ${list.length} tensor(s)`);
    }
    const [query, ref, input, mask] = list;
    const [n, lq] = query.shape as number[];
    const s = (input.shape as number[])[1];
    if (query.rank !== 3 || query.shape[2] !== this.dModel) {
      fail(NAME, 'query', `must be [N, Lq, dModel = ${this.dModel}], got [${query.shape}]`);
    }
    if (input.rank !== 3 || input.shape[0] !== n || input.shape[2] !== this.dModel) {
      fail(NAME, 'inputFlatten', `must be [N = ${n}, S, dModel = ${this.dModel}], got [${input.shape}]`);
    }
    const refDim = ref.shape[3];
    if (ref.rank !== 4 || ref.shape[0] !== n || ref.shape[1] !== lq || ref.shape[2] !== this.nLevels ||
        (refDim !== 2 && refDim !== 4)) {
      fail(NAME, 'referencePoints', `must be [N = ${n}, Lq = ${lq}, nLevels = ${this.nLevels}, 2 or 4], ` +
          `got [${ref.shape}]`);
    }
    if (mask != null && (mask.rank !== 2 || mask.shape[0] !== n || mask.shape[1] !== s)) {
      fail(NAME, 'inputPaddingMask', `must be [N = ${n}, S = ${s}], got [${mask.shape}]`);
    }
    return tf.tidy(() => {
      const [shapes, starts, normaliser] = this.levelTables(kwargs);
      const [heads, levels, points] = [this.nHeads, this.nLevels, this.nPoints];
      let value = this.valueProj.apply(input);
      if (mask != null) {
        const padded = tf.reshape(mask.dtype === 'bool' ? mask : tf.notEqual(mask, 0), [n, s, 1]);
        value = tf.where(padded, tf.zerosLike(value), value);
      }
      value = tf.reshape(value, [n, s, heads, this.dModel / heads]);
      // [N Lq, M, L, P, 2]: broadcasts of equal rank (below rank 6) against the [N Lq, 1, L, 1, *] references.
      const offsets = tf.reshape(this.samplingOffsets.apply(query), [n * lq, heads, levels, points, 2]);
      const logits = tf.reshape(this.attentionWeights.apply(query), [n, lq, heads, levels * points]);
      const weights = tf.reshape(tf.softmax(logits), [n, lq, heads, levels, points]);
      const xy = tf.reshape(tf.slice(ref, [0, 0, 0, 0], [n, lq, levels, 2]), [n * lq, 1, levels, 1, 2]);
      let locations: Tensor;
      if (refDim === 2) {
        locations = tf.add(xy, tf.div(offsets, tf.reshape(normaliser, [1, 1, levels, 1, 2])));
      } else {
        const wh = tf.reshape(tf.slice(ref, [0, 0, 0, 2], [n, lq, levels, 2]), [n * lq, 1, levels, 1, 2]);
        locations = tf.add(xy, tf.mul(tf.mul(tf.div(offsets, points), wh), 0.5));
      }
      locations = tf.reshape(locations, [n, lq, heads, levels, points, 2]);
      return this.outputProj.apply(msDeformAttn(value as Tensor4D, shapes, starts, locations, weights));
    });
  }

  /** The layer's arguments, for serialization (model.save / tf.loadLayersModel). */
  getConfig(): serialization.ConfigDict {
    return {
      ...super.getConfig(),
      dModel: this.dModel,
      nLevels: this.nLevels,
      nHeads: this.nHeads,
      nPoints: this.nPoints,
      spatialShapes: this.spatialShapes,
    };
  }
}
serialization.registerClass(MultiScaleDeformableAttention);
