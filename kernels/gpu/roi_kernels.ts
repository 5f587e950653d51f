/**
 * The RoI kernels of both GPU backends, written once: each builds its
 * program's output shape and values the program's uniform block by name. A
 * backend supplies its programs and how it runs one (webgl/roi_kernels.ts,
 * webgpu/roi_kernels.ts); the shading-language code lives in those programs.
 */
import {KernelFunc, TensorInfo, util} from '@tensorflow/tfjs-core';
import {
  PsRoiAlign, PsRoiAlignAttrs, PsRoiAlignGrad, PsRoiAlignGradAttrs, PsRoiAlignGradInputs, PsRoiAlignInputs,
  PsRoiPool, PsRoiPoolAttrs, PsRoiPoolGrad, PsRoiPoolGradAttrs, PsRoiPoolGradInputs, PsRoiPoolInputs, RoiAlign,
  RoiAlignAttrs, RoiAlignGrad, RoiAlignGradAttrs, RoiAlignGradInputs, RoiAlignInputs, RoiPool, RoiPoolAttrs,
  RoiPoolGrad, RoiPoolGradAttrs, RoiPoolGradInputs, RoiPoolInputs,
} from '../../src/kernel_names.ts';
import {roiShape, UniformValues} from './uniforms.ts';

type RoiKernelName = typeof RoiAlign | typeof RoiAlignGrad | typeof RoiPool | typeof RoiPoolGrad |
  typeof PsRoiAlign | typeof PsRoiAlignGrad | typeof PsRoiPool | typeof PsRoiPoolGrad;

/** What a GPU backend gives: a program per kernel (built for its output shape) and how to run one. */
export interface GpuRoiBackend<P extends {outputShape: number[]}> {
  programs: Record<RoiKernelName, new (outputShape: number[]) => P>;
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
    /** A gather over RoIs per dx value: no scatter, no read-back. */
    RoiAlignGrad: ({inputs, backend, attrs}) => {
      const {dy, boxes} = inputs as RoiAlignGradInputs;
      const p = attrs as unknown as RoiAlignGradAttrs;
      return run(backend, RoiAlignGrad, new make.RoiAlignGrad(p.xShape), [dy, boxes], dy.shape,
          {...roiShape(p.xShape, boxes.shape[0]), ...p});
    },
    RoiPool: ({inputs, backend, attrs}) => {
      const {x, boxes} = inputs as RoiPoolInputs;
      return roiPoolForward(backend, RoiPool, x, boxes, attrs as unknown as RoiPoolAttrs, false);
    },
    /** Two programs: each bin's argmax (h * W + w as float32, exact below 2^24), then a gather of dy per dx value. */
    RoiPoolGrad: ({inputs, backend, attrs}) => {
      const {dy, x, boxes} = inputs as RoiPoolGradInputs;
      const p = attrs as unknown as RoiPoolGradAttrs;
      gpu.check(RoiPoolGrad);
      if (util.sizeFromShape(x.shape) === 0 || util.sizeFromShape(dy.shape) === 0) return gpu.zeros(backend, x.shape);
      const arg = roiPoolForward(backend, RoiPoolGrad, x, boxes, p, true);
      const dx = run(backend, RoiPoolGrad, new make.RoiPoolGrad(x.shape), [dy, arg, boxes], dy.shape,
          {...roiShape(x.shape, boxes.shape[0]), ...p, argmaxOut: false});
      gpu.dispose(backend, arg);
      return dx;
    },
    PsRoiAlign: ({inputs, backend, attrs}) => {
      const {x, boxes} = inputs as PsRoiAlignInputs;
      const p = attrs as unknown as PsRoiAlignAttrs;
      return run(backend, PsRoiAlign, new make.PsRoiAlign(pooled(x, boxes, p, true)), [x, boxes], x.shape,
          {...roiShape(x.shape, boxes.shape[0]), ...p, aligned: true});
    },
    /** A gather: each dx value reads the one bin per RoI its channel maps to. */
    PsRoiAlignGrad: ({inputs, backend, attrs}) => {
      const {dy, boxes} = inputs as PsRoiAlignGradInputs;
      const p = attrs as unknown as PsRoiAlignGradAttrs;
      return run(backend, PsRoiAlignGrad, new make.PsRoiAlignGrad(p.xShape), [dy, boxes], dy.shape,
          {...roiShape(p.xShape, boxes.shape[0]), ...p, aligned: true});
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
      return run(backend, PsRoiPoolGrad, new make.PsRoiPoolGrad(p.xShape), [dy, boxes], dy.shape,
          {...roiShape(p.xShape, boxes.shape[0]), ...p});
    },
  };
}
