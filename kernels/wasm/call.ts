/**
 * One call of an export of kernels/c (our module), described once and run by
 * whichever runner the backend has: the wasm module on tfjs-wasm's heap
 * (./wasm_runner.ts), the TensorFlow op library inside tfjs-node, or the wasm
 * module on host copies (kernels/tensorflow/runners.ts). Each kernel file of
 * this folder writes its checks, shapes, scratch size and argument list once
 * as a ModuleKernel; the backends' tables bind it to their runner.
 */
import {DataType, NamedAttrMap, NamedTensorInfoMap, TensorInfo} from '@tensorflow/tfjs-core';
import type {VisionOpsWasm} from './instance.ts';

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

/** Kernel input check: our kernels read raw float32 bytes. */
export function assertFloat32(run: ModuleRunner, kernel: string, name: string, t: TensorInfo) {
  if (t.dtype !== 'float32') {
    throw new Error(`${kernel} (${run.backendName}): '${name}' must be float32, got ${t.dtype}`);
  }
}

/**
 * The values of `fields` (name: value) in order, each checked to be an
 * integer that fits an int32 kernel argument or header word: anything else
 * is an Error naming the kernel and the field, never a silent wrap.
 */
export function int32Fields(kernel: string, fields: Record<string, number>): number[] {
  return Object.entries(fields).map(([name, v]) => {
    if (!Number.isInteger(v) || v < -(2 ** 31) || v > 2 ** 31 - 1) {
      throw new Error(`${kernel} (wasm): int32 argument '${name}' = ${v} does not fit int32`);
    }
    return v;
  });
}

