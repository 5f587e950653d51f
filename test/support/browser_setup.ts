/**
 * Chromium test setup: the backend karma names. tools/test-all.mjs bundles
 * this with every test/*.spec.ts into one file.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import {setWasmPaths, version_wasm} from '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import {version_core} from '@tensorflow/tfjs-core';
import '../../src/index';
import '../../kernels/wasm/register';
import '../../kernels/webgl/register';
import '../../kernels/webgpu/register';
import {useBackend} from './backend';

const [name, wasmPath, expectedVersion, isolated] = (window as any).__karma__.config.args as string[];
setWasmPaths(wasmPath);
// The spec set against another tfjs version (tools/test-all.mjs): prove it is that version.
if (expectedVersion && (version_core !== expectedVersion || version_wasm !== expectedVersion)) {
  throw new Error(`expected tfjs ${expectedVersion}, bundled tfjs-core ${version_core}, tfjs-backend-wasm ${version_wasm}`);
}

beforeAll(async () => {
  await useBackend(name);
  // A cross-origin isolated page must run tfjs-backend-wasm's threaded build on a shared memory.
  if (isolated && name === 'wasm') {
    const memory: WebAssembly.Memory | undefined = (tf.backend() as any).wasm.wasmMemory;
    if (!crossOriginIsolated || !(memory?.buffer instanceof SharedArrayBuffer)) {
      throw new Error('expected the threaded wasm build on a shared memory in a cross-origin isolated page');
    }
  }
}, 120000);
