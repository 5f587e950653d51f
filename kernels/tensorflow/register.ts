/**
 * `import 'tfjs-vision-ops/node'`: registers this package's kernels for
 * tfjs-node (the 'tensorflow' backend): the kernels of kernels/c, written
 * once as ModuleKernels (kernels/wasm/*.ts), run by one of two runners
 * (./runners.ts), chosen at the first call:
 *  - 'native': the package's TensorFlow op library, the kernels as TensorFlow
 *    ops (data never leaves TensorFlow);
 *  - 'wasm on host copies', where the library cannot be loaded (not built
 *    for this tfjs-node: `npm run build:native`), or with the environment
 *    variable TFJS_VISION_OPS_TENSORFLOW=wasm: the wasm module on copies of
 *    the tensors, announced once with console.warn.
 *
 * @module tfjs-vision-ops/node
 */
import {KernelFunc} from '@tensorflow/tfjs-core';
import {ModuleKernel, ModuleRunner} from '../wasm/call.ts';
import {wasmKernelModules} from '../wasm/kernels.ts';
import {KernelTable, registerKernels} from '../register_all.ts';
import {hostCopiesRunner, nativeRunner, NodeBackendLike, VisionOpsAddon} from './runners.ts';
import {loadNativeAddon} from './native_addon.ts';

export type {KernelTable} from '../register_all.ts';

export type TensorflowImplementation = 'native' | 'wasm on host copies';

let chosen: {implementation: TensorflowImplementation, runner: ModuleRunner, backend: object}|null = null;

function runnerFor(backend: NodeBackendLike): ModuleRunner {
  if (chosen?.backend === backend) return chosen.runner;
  let addon: VisionOpsAddon|null = null;
  let why = 'TFJS_VISION_OPS_TENSORFLOW=wasm';
  if (process.env.TFJS_VISION_OPS_TENSORFLOW !== 'wasm') {
    try {
      addon = loadNativeAddon();
    } catch (e) {
      why = (e as Error).message;
    }
  }
  if (addon != null) {
    chosen = {implementation: 'native', runner: nativeRunner(backend, addon), backend};
  } else {
    if (chosen == null) {
      console.warn(`tfjs-vision-ops/node: the TensorFlow op library is not loaded (${why}); the 'tensorflow' ` +
          'backend runs the wasm kernels on host copies of the tensors');
    }
    chosen = {implementation: 'wasm on host copies', runner: hostCopiesRunner(backend), backend};
  }
  return chosen.runner;
}

/**
 * Which implementation runs this package's kernels on the 'tensorflow'
 * backend: 'native' (the TensorFlow op library) or 'wasm on host copies';
 * null before the first kernel ran.
 */
export function tensorflowImplementation(): TensorflowImplementation|null {
  return chosen?.implementation ?? null;
}

const onTensorflow = (kernel: ModuleKernel): KernelFunc => ({inputs, backend, attrs}) =>
  kernel(runnerFor(backend as unknown as NodeBackendLike), {inputs, attrs});

export const tensorflowKernelTable: KernelTable = Object.fromEntries(
    Object.entries(wasmKernelModules).map(([name, kernel]) => [name, onTensorflow(kernel)])) as KernelTable;
/** tfjs kernel configs of the table, registered on import. */
export const tensorflowKernels = registerKernels('tensorflow', tensorflowKernelTable);
