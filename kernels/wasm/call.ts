/**
 * One call of an export of kernels/c (our module), described once and run by
 * whichever runner the backend has: the wasm module on tfjs-wasm's heap
 * (wasmRunner here), the TensorFlow op library inside tfjs-node, or the wasm
 * module on host copies (kernels/tensorflow/runners.ts). Each kernel file of
 * this folder writes its checks, shapes, scratch size and argument list once
 * as a ModuleKernel; the backends' tables bind it to their runner.
 */
import {DataType, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo, util} from '@tensorflow/tfjs-core';
import {allocOutput, backendMemory, heapOffset, visionOpsWasm, VisionOpsWasm, WasmBackendLike} from './module.ts';

export type ExportName = keyof VisionOpsWasm;

/**
 * An argument of an export: a tensor it reads in place (a null pointer when
 * empty: nothing reads it then), one of the call's outputs, a word offset
 * into its scratch, or a number (converted as JavaScript converts an argument
 * of a wasm function: to the parameter's int32, float or double).
 */
export type CallArg = {input: TensorInfo} | {output: number} | {scratch: number} | number;

export interface ExportCall {
  fn: ExportName;
  args: CallArg[];
  outputs: Array<{shape: number[], dtype: DataType, what: string}>;
  /** 4-byte words of scratch (uninitialised), its first words `scratchHeader`. */
  scratchWords?: number;
  scratchHeader?: number[];
  /** The export's int32 return value is wanted (runners may skip reading it otherwise). */
  returns?: boolean;
}

/** What runs an ExportCall, and the few other things a kernel asks of its backend. */
export interface ModuleRunner {
  /** 'wasm' or 'tensorflow': error messages name it. */
  readonly backendName: string;
  /** The call's outputs and the export's return value (0 for void exports). */
  run(call: ExportCall): {outputs: TensorInfo[], returned: number};
  /** An export that computes a size from int32 arguments (nms_scratch_words). */
  size(fn: ExportName, ...args: number[]): number;
  /** A new 1-D tensor of the first `count` values of `t` (t stays). */
  head(t: TensorInfo, count: number): TensorInfo;
  /** A tensor of zeros (empty shapes included). */
  zeros(shape: number[], dtype: DataType): TensorInfo;
  dispose(t: TensorInfo): void;
}

/** A kernel written once over a runner. */
export type ModuleKernel =
    (run: ModuleRunner, args: {inputs: NamedTensorInfoMap, attrs?: NamedAttrMap}) => TensorInfo|TensorInfo[];

/** Our module on the tfjs wasm backend's heap, zero copy. */
export function wasmRunner(b: WasmBackendLike): ModuleRunner {
  const at = (t: TensorInfo) => util.sizeFromShape(t.shape) === 0 ? 0 : heapOffset(b, t);
  return {
    backendName: 'wasm',
    run(call) {
      // Instantiate before allocating, so that a not-ready error leaks nothing.
      const mod = visionOpsWasm(b);
      const outputs: Array<ReturnType<typeof allocOutput>> = [];
      let scratch: ReturnType<typeof allocOutput>|null = null;
      const release = () => outputs.forEach(o => b.disposeData(o.info.dataId));
      try {
        for (const o of call.outputs) outputs.push(allocOutput(b, o.shape, o.dtype, o.what));
        if (call.scratchWords) scratch = allocOutput(b, [call.scratchWords], 'float32', `${call.fn} scratch`);
      } catch (e) {
        release();
        throw e;
      }
      try {
        // Offsets only (numbers), taken after the last allocation: a malloc may grow the heap.
        if (scratch != null && call.scratchHeader) {
          new Int32Array(backendMemory(b).buffer, scratch.offset, call.scratchHeader.length).set(call.scratchHeader);
        }
        const args = call.args.map(a => typeof a === 'number' ? a : 'input' in a ? at(a.input) :
          'output' in a ? (util.sizeFromShape(call.outputs[a.output].shape) === 0 ? 0 : outputs[a.output].offset) :
          scratch!.offset + 4 * a.scratch);
        const returned = (mod[call.fn] as (...a: number[]) => number|undefined)(...args) ?? 0;
        return {outputs: outputs.map(o => o.info), returned};
      } catch (e) {
        release();
        throw e;
      } finally {
        if (scratch != null) b.disposeData(scratch.info.dataId);
      }
    },
    size: (fn, ...args) => (visionOpsWasm(b)[fn] as (...a: number[]) => number)(...args),
    head(t, count) {
      const result = allocOutput(b, [count], t.dtype);
      if (count > 0) {
        const words = new Int32Array(backendMemory(b).buffer);
        const from = heapOffset(b, t) >> 2;
        words.copyWithin(result.offset >> 2, from, from + count);
      }
      return result.info;
    },
    zeros(shape, dtype) {
      const out = allocOutput(b, shape, dtype);
      const n = util.sizeFromShape(shape);
      if (n > 0) new Int32Array(backendMemory(b).buffer, out.offset, n).fill(0);
      return out.info;
    },
    dispose: t => b.disposeData(t.dataId),
  };
}

/** A ModuleKernel as the wasm backend's kernel function. */
export function onWasm(kernel: ModuleKernel): KernelFunc {
  return ({inputs, backend, attrs}) => kernel(wasmRunner(backend as unknown as WasmBackendLike), {inputs, attrs});
}

/** Kernel input check: our kernels read raw float32 bytes. */
export function assertFloat32(run: ModuleRunner, kernel: string, name: string, t: TensorInfo) {
  if (t.dtype !== 'float32') {
    throw new Error(`${kernel} (${run.backendName}): '${name}' must be float32, got ${t.dtype}`);
  }
}
