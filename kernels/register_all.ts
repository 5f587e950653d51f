/**
 * The per-backend kernel tables and their registration. A table has one
 * kernel function per declared kernel (src/kernel_names.ts), so a backend
 * that lacks one does not compile.
 */
import {getKernel, KernelConfig, KernelFunc, registerKernel} from '@tensorflow/tfjs-core';
import type {KernelName} from '../src/kernel_names.ts';
import {AsyncKernelFunc, registerAsyncKernel} from '../src/ops/run_kernel.ts';

export type KernelTable = {readonly [N in KernelName]: KernelFunc};
/** Kernels whose result a backend computes best with an awaited readback (webgl, webgpu NMS). */
export type AsyncKernelTable = {readonly [N in KernelName]?: AsyncKernelFunc};

/**
 * Registers a table once (importing a backend entry twice is harmless) and
 * returns its tfjs kernel configs (each backend entry exports them).
 */
export function registerKernels(backendName: string, table: KernelTable, asyncTable: AsyncKernelTable = {}):
    KernelConfig[] {
  for (const [kernelName, kernelFunc] of Object.entries(asyncTable)) {
    registerAsyncKernel(kernelName, backendName, kernelFunc!);
  }
  return registerTfjsKernels(backendName, table);
}

/** Registers kernels by name, tfjs's own ones included, unless already registered; returns their configs. */
export function registerTfjsKernels(backendName: string, table: Readonly<Record<string, KernelFunc>>):
    KernelConfig[] {
  const configs = Object.entries(table).map(([kernelName, kernelFunc]) => ({kernelName, backendName, kernelFunc}));
  for (const config of configs) {
    if (getKernel(config.kernelName, backendName) == null) registerKernel(config);
  }
  return configs;
}

