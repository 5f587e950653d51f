/**
 * The per-backend kernel tables and their registration. A table has one
 * kernel function per declared kernel (src/kernel_names.ts), so a backend
 * that lacks one does not compile.
 */
import {getKernel, KernelFunc, registerKernel} from '@tensorflow/tfjs-core';
import type {KernelName} from '../src/kernel_names.ts';
import {AsyncKernelFunc, registerAsyncKernel} from '../src/ops/run_kernel.ts';

export type KernelTable = {readonly [N in KernelName]: KernelFunc};
/** Kernels whose result a backend computes best with an awaited readback (webgl, webgpu NMS). */
export type AsyncKernelTable = {readonly [N in KernelName]?: AsyncKernelFunc};

/** Registers a table once (importing a backend entry twice is harmless). */
export function registerKernels(backendName: string, table: KernelTable, asyncTable: AsyncKernelTable = {}) {
  registerTfjsKernels(backendName, table);
  for (const [kernelName, kernelFunc] of Object.entries(asyncTable)) {
    registerAsyncKernel(kernelName, backendName, kernelFunc!);
  }
}

/** Registers kernels by name, tfjs's own ones included, unless already registered. */
export function registerTfjsKernels(backendName: string, table: Readonly<Record<string, KernelFunc>>) {
  for (const [kernelName, kernelFunc] of Object.entries(table)) {
    if (getKernel(kernelName, backendName) == null) registerKernel({kernelName, backendName, kernelFunc});
  }
}

