import {
  engine, getBackend, getKernel, KernelBackend, NamedAttrMap, NamedTensorMap, Tensor, TensorInfo,
} from '@tensorflow/tfjs-core';

/** The import that registers this package's kernels for each backend. */
export const BACKEND_IMPORTS: Record<string, string> = {
  cpu: 'tfjs-vision-ops',
  wasm: 'tfjs-vision-ops/wasm',
  webgl: 'tfjs-vision-ops/webgl',
  webgpu: 'tfjs-vision-ops/webgpu',
  tensorflow: 'tfjs-vision-ops/node',
};

/** A kernel that awaits its own readback (tfjs kernels are synchronous). */
export type AsyncKernelFunc = (params: {inputs: Record<string, TensorInfo>, backend: KernelBackend,
  attrs: NamedAttrMap}) => Promise<TensorInfo>;

const asyncKernels = new Map<string, AsyncKernelFunc>();
const asyncKey = (kernelName: string, backendName: string) => `${backendName}_${kernelName}`;

/** Registered by a backend entry (kernels/register_all.ts) next to the synchronous kernel of that name. */
export function registerAsyncKernel(kernelName: string, backendName: string, kernelFunc: AsyncKernelFunc) {
  asyncKernels.set(asyncKey(kernelName, backendName), kernelFunc);
}

function checkRegistered(opName: string, kernelName: string, backend: string) {
  if (getKernel(kernelName, backend) != null) return;
  const fix = BACKEND_IMPORTS[backend] != null ?
      `Add \`import '${BACKEND_IMPORTS[backend]}';\` to register it.` :
      `tfjs-vision-ops has no kernels for backend '${backend}'; ` +
          `use one of ${Object.keys(BACKEND_IMPORTS).join(', ')}.`;
  throw new Error(
      `${opName}: kernel '${kernelName}' is not registered for backend '${backend}'. ${fix}`);
}

/**
 * Runs one of this package's kernels on the active backend. A backend without
 * the kernel is an error naming the import that registers it: there is no
 * silent host fallback.
 */
export function runVisionKernel<T extends Tensor|Tensor[]>(
    opName: string, kernelName: string, inputs: NamedTensorMap, attrs: NamedAttrMap = {}): T {
  checkRegistered(opName, kernelName, getBackend());
  return engine().runKernel(kernelName, inputs as {}, attrs) as T;
}

/**
 * The kernel's async form where the backend registered one (it awaits its
 * readback instead of blocking), else the synchronous kernel. The result is
 * kept: a caller's tidy (`tidy(() => { p = op(...); })`) does not own it.
 */
export async function runVisionKernelAsync<T extends Tensor>(
    opName: string, kernelName: string, inputs: NamedTensorMap, attrs: NamedAttrMap = {}): Promise<T> {
  const backendName = getBackend();
  checkRegistered(opName, kernelName, backendName);
  const kernelFunc = asyncKernels.get(asyncKey(kernelName, backendName));
  if (kernelFunc == null) return engine().keep(runVisionKernel<T>(opName, kernelName, inputs, attrs));
  const backend = engine().findBackend(backendName);
  const info = await kernelFunc({inputs, backend, attrs});
  return engine().keep(engine().makeTensorFromTensorInfo(info, backend) as T);
}
