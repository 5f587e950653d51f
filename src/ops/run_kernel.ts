import {engine, getBackend, getKernel, NamedAttrMap, NamedTensorMap, Tensor} from '@tensorflow/tfjs-core';

/** The import that registers this package's kernels for each backend. */
export const BACKEND_IMPORTS: Record<string, string> = {
  cpu: 'tfjs-vision-ops',
  wasm: 'tfjs-vision-ops/wasm',
  webgl: 'tfjs-vision-ops/webgl',
  webgpu: 'tfjs-vision-ops/webgpu',
  tensorflow: 'tfjs-vision-ops/node',
};

/**
 * Runs one of this package's kernels on the active backend. A backend without
 * the kernel is an error naming the import that registers it: there is no
 * silent host fallback.
 */
export function runVisionKernel<T extends Tensor|Tensor[]>(
    opName: string, kernelName: string, inputs: NamedTensorMap,
    attrs: NamedAttrMap = {}): T {
  const backend = getBackend();
  if (getKernel(kernelName, backend) == null) {
    const fix = BACKEND_IMPORTS[backend] != null ?
        `Add \`import '${BACKEND_IMPORTS[backend]}';\` to register it.` :
        `tfjs-vision-ops has no kernels for backend '${backend}'; ` +
            `use one of ${Object.keys(BACKEND_IMPORTS).join(', ')}.`;
    throw new Error(
        `${opName}: kernel '${kernelName}' is not registered for backend ` +
        `'${backend}'. ${fix}`);
  }
  return engine().runKernel(kernelName, inputs as {}, attrs) as T;
}
