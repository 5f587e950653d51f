/**
 * The RoI kernels of both GPU backends, written once: each builds its
 * program's output shape and values the program's uniform block by name. A
 * backend supplies its programs and how it runs one (webgl/roi_kernels.ts,
 * webgpu/roi_kernels.ts); the shading-language code lives in those programs.
 *
 * The backward kernels are gathers bounded by what the RoIs cover (not H W C
 * K), deterministic (each dx value a sum in a fixed order, no atomics) and
 * without read-back (every size from shapes alone):
 *  - tile lists (roi_tiles_gpu.ts / roi_tiles_webgpu.ts): the map cut into
 *    tiles of T x T pixels; per RoI its reach (image, pixel rows and columns
 *    its samples or bins can touch); a [tiles, K] 0/1 cover matrix; its
 *    prefix sums along K (a radix-8 scan of our own: tfjs's Cumsum compiles
 *    per shape on webgl); per tile, by binary search, its RoIs in increasing
 *    k. The matrices stay within TILE_MATRIX_BUDGET (T grows; past N K
 *    entries the RoIs go in chunks, whose gathers add up in chunk order);
 *  - roi_align's weights (the bilinear weights of a bin's samples at a pixel
 *    row or column) do not depend on the channel: on SwiftShader computing
 *    them per dx value took most of the gather's time, so RoiAlignWeights
 *    writes them once per RoI and pixel row (column) into tables within
 *    WEIGHT_TABLE_BUDGET, which the gather reads;
 *  - an invocation sums a block of 2 columns x 2 channels (one packed texel
 *    on webgl), so an RoI's list entry, bins and row weights serve 4 values.
 * On SwiftShader this makes roi_align's backward about as costly as its
 * forward (it was 60 to 100 times).
 */
import {Add, KernelFunc, NamedAttrMap, Slice, TensorInfo, util} from '@tensorflow/tfjs-core';
import {
  PsRoiAlign, PsRoiAlignAttrs, PsRoiAlignGrad, PsRoiAlignGradAttrs, PsRoiAlignGradInputs, PsRoiAlignInputs,
  PsRoiPool, PsRoiPoolAttrs, PsRoiPoolGrad, PsRoiPoolGradAttrs, PsRoiPoolGradInputs, PsRoiPoolInputs, RoiAlign,
  RoiAlignAttrs, RoiAlignGrad, RoiAlignGradAttrs, RoiAlignGradInputs, RoiAlignInputs, RoiPool, RoiPoolAttrs,
  RoiPoolGrad, RoiPoolGradAttrs, RoiPoolGradInputs, RoiPoolInputs,
} from '../../src/kernel_names.ts';
import {roiShape, UniformValues} from './uniforms.ts';

type RoiKernelName = typeof RoiAlign | typeof RoiAlignGrad | typeof RoiPool | typeof RoiPoolGrad |
  typeof PsRoiAlign | typeof PsRoiAlignGrad | typeof PsRoiPool | typeof PsRoiPoolGrad;

/** Entries of a chunk's [tiles, K] matrices (cover, prefix sums, tile lists). */
export const TILE_MATRIX_BUDGET = 2 ** 20;
/** Entries of each of a chunk's roi_align weight tables. */
export const WEIGHT_TABLE_BUDGET = 2 ** 22;
/** The smallest tile side, in pixels. */
const MIN_TILE = 4;
/** Entries each pass of the tile lists' prefix sum adds (TilePrefixProgram). */
export const ROI_PREFIX_RADIX = 8;

/** Bins per side up to which a weight table holds a pixel's first and last bin in one float32 (exactly). */
const MAX_TABLE_POOLED = 2 ** 12 - 1;

/**
 * The tiles of a backward gather over dx of shape xShape and the RoIs per
 * chunk, with roi_align's weight tables where `pooled` (PH, PW) is given.
 * weightTables: false where one RoI's table alone is over budget or the bins
 * too many (the gather then computes the weights).
 */
export function tileGrid(xShape: readonly number[], numBoxes: number, pooled?: readonly number[]) {
  const [batch, height, width] = xShape;
  const most = pooled == null ? 0 : Math.max(...pooled);
  const tableChunk = Math.floor(WEIGHT_TABLE_BUDGET / (Math.max(height, width) * (most + 1)));
  const weightTables = pooled != null && most <= MAX_TABLE_POOLED && tableChunk >= 1;
  const chunk = Math.max(1, Math.min(numBoxes, Math.floor(TILE_MATRIX_BUDGET / batch), weightTables ? tableChunk : Infinity));
  const tiles = (side: number) => batch * Math.ceil(height / side) * Math.ceil(width / side);
  let tileSize = MIN_TILE;
  while (tiles(tileSize) * chunk > TILE_MATRIX_BUDGET && tileSize < Math.max(height, width)) tileSize *= 2;
  return {chunk, weightTables, tileSize, tilesY: Math.ceil(height / tileSize), tilesX: Math.ceil(width / tileSize)};
}

/** What a GPU backend gives: a program per kernel (built for its output shape) and how to run one. */
export interface GpuRoiBackend<P extends {outputShape: number[]}> {
  /** weightTables: the roi_align family's backward reads its weights from RoiAlignWeights' tables. */
  programs: Record<RoiKernelName, new (outputShape: number[], weightTables?: boolean) => P>;
  /** The programs of the tile lists, and roi_align's weight tables. */
  tiles: {
    RoiAlignWeights: new (outputShape: number[]) => P;
    RoiAlignReach: new (outputShape: number[]) => P;
    RoiPoolReach: new (outputShape: number[], plusOne: '1.0'|'0.0') => P;
    TileCover: new (outputShape: number[]) => P;
    TilePrefix: new (outputShape: number[]) => P;
    TileBoxes: new (outputShape: number[]) => P;
  };
  /** Runs one of the backend's own kernels (Slice, Add). */
  kernel(backend: unknown, name: string, inputs: Record<string, TensorInfo>, attrs?: NamedAttrMap): TensorInfo;
  /** Throws where the backend cannot run the programs (before anything else, empty outputs included). */
  check(kernelName: string): void;
  /** Runs `program` with its uniforms valued from `values`. */
  run(backend: unknown, kernelName: string, program: P, inputs: TensorInfo[], values: UniformValues): TensorInfo;
  zeros(backend: unknown, shape: number[]): TensorInfo;
  dispose(backend: unknown, t: TensorInfo): void;
}

export function roiKernels<P extends {outputShape: number[]}>(gpu: GpuRoiBackend<P>):
    Record<RoiKernelName, KernelFunc> {
  const make = gpu.programs;
  /** Zeros without running where the output or the sampled map (`sourceShape`) is empty. */
  const run = (backend: unknown, kernelName: string, program: P, inputs: TensorInfo[], sourceShape: number[],
      values: UniformValues) => {
    gpu.check(kernelName);
    if (util.sizeFromShape(program.outputShape) === 0 || util.sizeFromShape(sourceShape) === 0) {
      return gpu.zeros(backend, program.outputShape);
    }
    return gpu.run(backend, kernelName, program, inputs, values);
  };
  /** [K, PH, PW, channels] of a forward op, channels of x per bin for the position-sensitive ones. */
  const pooled = (x: TensorInfo, boxes: TensorInfo, p: {pooledHeight: number, pooledWidth: number}, ps: boolean) =>
    [boxes.shape[0], p.pooledHeight, p.pooledWidth, ps ? x.shape[3] / (p.pooledHeight * p.pooledWidth) : x.shape[3]];
  /**
   * dx [N, H, W, C] (xShape) of the gather program `gather` over the tile
   * lists of chunks of RoIs. Its inputs: `perBox` (tensors with a row per RoI:
   * dy, argmax), then the boxes, the tile lists, or with `alignTables` the
   * tile lists and roi_align's weight tables; `reach` builds its reach program.
   */
  const tiledGather = (backend: unknown, kernelName: string, xShape: number[], boxes: TensorInfo,
      perBox: TensorInfo[], reach: (outputShape: number[]) => P, gather: (weightTables: boolean) => P,
      values: UniformValues, alignTables = false) => {
    const numBoxes = boxes.shape[0];
    const [, height, width] = xShape;
    const pooled = [values.pooledHeight, values.pooledWidth] as number[];
    const grid = tileGrid(xShape, numBoxes, alignTables ? pooled : undefined);
    const tiles = xShape[0] * grid.tilesY * grid.tilesX;
    const program = gather(grid.weightTables);
    let dx: TensorInfo | null = null;
    for (let first = 0; first < numBoxes; first += grid.chunk) {
      const count = Math.min(grid.chunk, numBoxes - first);
      const rows = (t: TensorInfo) => count === numBoxes ? t : gpu.kernel(backend, Slice, {x: t},
          {begin: t.shape.map((_, i) => i === 0 ? first : 0), size: [count, ...t.shape.slice(1)]});
      const [chunkBoxes, ...chunkRows] = [boxes, ...perBox].map(rows);
      const chunkValues = {...values, ...roiShape(xShape, count), ...grid, channels: xShape[3]};
      const runTiles = (p: P, inputs: TensorInfo[], more: UniformValues = chunkValues) =>
        gpu.run(backend, kernelName, p, inputs, more);
      const reached = runTiles(reach([count, 5]), [chunkBoxes]);
      let prefix = runTiles(new gpu.tiles.TileCover([tiles, count]), [reached]);
      for (let stride = 1; stride < count; stride *= ROI_PREFIX_RADIX) {
        const next = runTiles(new gpu.tiles.TilePrefix([tiles, count]), [prefix], {stride});
        gpu.dispose(backend, prefix);
        prefix = next;
      }
      const lists = runTiles(new gpu.tiles.TileBoxes([tiles, count + 1]), [prefix]);
      const tables = !grid.weightTables ? [] : [[height, 0], [width, 1]].map(([size, columns], axis) =>
        runTiles(new gpu.tiles.RoiAlignWeights([count, size, pooled[axis] + 1]), [chunkBoxes],
            {...chunkValues, columns}));
      const part = runTiles(program, tables.length > 0 ? [...chunkRows, lists, ...tables] :
          [...chunkRows, chunkBoxes, lists]);
      for (const t of [reached, prefix, lists, ...tables]) gpu.dispose(backend, t);
      if (count !== numBoxes) [chunkBoxes, ...chunkRows].forEach(t => gpu.dispose(backend, t));
      if (dx == null) {
        dx = part;
      } else {
        const sum: TensorInfo = gpu.kernel(backend, Add, {a: dx, b: part});
        gpu.dispose(backend, dx);
        gpu.dispose(backend, part);
        dx = sum;
      }
    }
    return dx!;
  };
  /**
   * A backward gather: zeros without running where dx or dy is empty, else
   * tiledGather on dy and `argmax()` (roi_pool's, disposed after).
   */
  const backward = (backend: unknown, kernelName: string, dy: TensorInfo, xShape: number[], boxes: TensorInfo,
      reach: (outputShape: number[]) => P, gather: (weightTables: boolean) => P, values: UniformValues,
      alignTables: boolean, argmax?: () => TensorInfo) => {
    gpu.check(kernelName);
    if (util.sizeFromShape(xShape) === 0 || util.sizeFromShape(dy.shape) === 0) return gpu.zeros(backend, xShape);
    const arg = argmax?.();
    const dx = tiledGather(backend, kernelName, xShape, boxes, arg == null ? [dy] : [dy, arg], reach, gather, values,
        alignTables);
    if (arg != null) gpu.dispose(backend, arg);
    return dx;
  };
  const alignReach = (shape: number[]) => new gpu.tiles.RoiAlignReach(shape);
  const poolReach = (plusOne: '1.0'|'0.0') => (shape: number[]) => new gpu.tiles.RoiPoolReach(shape, plusOne);
  const roiPoolForward = (backend: unknown, kernelName: string, x: TensorInfo, boxes: TensorInfo, p: RoiPoolAttrs,
      argmaxOut: boolean) => run(backend, kernelName, new make.RoiPool(pooled(x, boxes, p, false)), [x, boxes],
    x.shape, {...roiShape(x.shape, boxes.shape[0]), ...p, argmaxOut});

  return {
    RoiAlign: ({inputs, backend, attrs}) => {
      const {x, boxes} = inputs as RoiAlignInputs;
      const p = attrs as unknown as RoiAlignAttrs;
      return run(backend, RoiAlign, new make.RoiAlign(pooled(x, boxes, p, false)), [x, boxes], x.shape,
          {...roiShape(x.shape, boxes.shape[0]), ...p});
    },
    RoiAlignGrad: ({inputs, backend, attrs}) => {
      const {dy, boxes} = inputs as RoiAlignGradInputs;
      const p = attrs as unknown as RoiAlignGradAttrs;
      return backward(backend, RoiAlignGrad, dy, p.xShape, boxes, alignReach,
          tables => new make.RoiAlignGrad(p.xShape, tables), p, true);
    },
    RoiPool: ({inputs, backend, attrs}) => {
      const {x, boxes} = inputs as RoiPoolInputs;
      return roiPoolForward(backend, RoiPool, x, boxes, attrs as unknown as RoiPoolAttrs, false);
    },
    /** Each bin's argmax (h * W + w as float32, exact below 2^24), then a gather of dy per dx value. */
    RoiPoolGrad: ({inputs, backend, attrs}) => {
      const {dy, x, boxes} = inputs as RoiPoolGradInputs;
      const p = attrs as unknown as RoiPoolGradAttrs;
      return backward(backend, RoiPoolGrad, dy, x.shape, boxes, poolReach('1.0'), () => new make.RoiPoolGrad(x.shape),
          {...p, argmaxOut: false}, false, () => roiPoolForward(backend, RoiPoolGrad, x, boxes, p, true));
    },
    PsRoiAlign: ({inputs, backend, attrs}) => {
      const {x, boxes} = inputs as PsRoiAlignInputs;
      const p = attrs as unknown as PsRoiAlignAttrs;
      return run(backend, PsRoiAlign, new make.PsRoiAlign(pooled(x, boxes, p, true)), [x, boxes], x.shape,
          {...roiShape(x.shape, boxes.shape[0]), ...p, aligned: true});
    },
    /** Each dx value reads the one bin per RoI its channel maps to. */
    PsRoiAlignGrad: ({inputs, backend, attrs}) => {
      const {dy, boxes} = inputs as PsRoiAlignGradInputs;
      const p = attrs as unknown as PsRoiAlignGradAttrs;
      return backward(backend, PsRoiAlignGrad, dy, p.xShape, boxes, alignReach,
          tables => new make.PsRoiAlignGrad(p.xShape, tables), {...p, aligned: true}, true);
    },
    PsRoiPool: ({inputs, backend, attrs}) => {
      const {x, boxes} = inputs as PsRoiPoolInputs;
      const p = attrs as unknown as PsRoiPoolAttrs;
      return run(backend, PsRoiPool, new make.PsRoiPool(pooled(x, boxes, p, true)), [x, boxes], x.shape,
          {...roiShape(x.shape, boxes.shape[0]), ...p});
    },
    PsRoiPoolGrad: ({inputs, backend, attrs}) => {
      const {dy, boxes} = inputs as PsRoiPoolGradInputs;
      const p = attrs as unknown as PsRoiPoolGradAttrs;
      return backward(backend, PsRoiPoolGrad, dy, p.xShape, boxes, poolReach('0.0'),
          () => new make.PsRoiPoolGrad(p.xShape), p, false);
    },
  };
}
