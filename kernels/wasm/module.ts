/**
 * tfjs-vision-ops' own WebAssembly module (kernels/wasm/assembly/, built by
 * tools/build-wasm.mjs), instantiated against the tfjs wasm backend's OWN
 * WebAssembly.Memory: kernels work in place on the tensors' heap bytes, with
 * no copies in or out.
 *
 * Where tfjs-backend-wasm 4.22 keeps its memory (`backend.wasm` is the
 * Emscripten module object):
 * - non-threaded builds (tfjs-backend-wasm.wasm, tfjs-backend-wasm-simd.wasm;
 *   Node always): the wasm binary exports its memory, reachable as
 *   `backend.wasm.asm.memory` (Emscripten's `Module["asm"]` = the instance's
 *   exports). Newer Emscripten names that object `wasmExports`.
 * - threaded build (tfjs-backend-wasm-threaded-simd.wasm, browsers with
 *   cross-origin isolation): the memory is created in JS and imported,
 *   `backend.wasm.wasmMemory`, shared (buffer is a SharedArrayBuffer), declared
 *   {maximum: 65536 pages, shared: true}. Our module then needs its shared
 *   variant, derived at load time from the one embedded binary (WASM_SIMD) by
 *   rewriting its memory import (./shared_memory_variant.ts).
 * `backend.wasm.HEAPU8.buffer` is the current buffer (views only; it cannot
 * be imported).
 *
 * Memory growth (any `_malloc`, e.g. `backend.makeOutput`) DETACHES every
 * typed-array view on the old buffer: take heap offsets (numbers) and re-create
 * views after the last allocation, never keep views across one.
 * Our instance imports the Memory object itself, so growth never invalidates it.
 *
 * These are tfjs-backend-wasm internals, not API: checkWasmBackend() checks
 * all that we use the first time a backend gets our module (wasmReady() or the
 * first kernel), and throws an Error naming the tfjs-backend-wasm version and
 * the missing internal, instead of a TypeError deep inside a kernel.
 *
 * Instantiation: in Node synchronous `new WebAssembly.Module/Instance` is fine
 * and happens on first use. Browsers forbid synchronous compilation of modules
 * over 4 KB on the main thread: there, `await wasmReady()` after
 * `await tf.setBackend('wasm')`.
 */
import {version_wasm} from '@tensorflow/tfjs-backend-wasm';
import {DataType, findBackend, ready, TensorInfo, util} from '@tensorflow/tfjs-core';
import {MAX_TENSOR_BYTES} from '../../src/ops/limits.ts';
import {compiledModule, compiledModuleAsync, isShared, VisionOpsWasm} from './instance.ts';

/**
 * Exports of our module. Pointers are byte offsets into the backend heap, n
 * element counts; the kernel's scalar attributes come last, in declared order
 * (`...attrs`, ./args.ts).
 */

interface EmscriptenModuleLike {
  HEAPU8?: Uint8Array;
  /** Threaded build: the shared memory created in JS. */
  wasmMemory?: WebAssembly.Memory;
  /** Non-threaded builds (Emscripten of tfjs 4.22): the instance exports. */
  asm?: {memory?: WebAssembly.Memory};
  /** Same, under newer Emscripten's name. */
  wasmExports?: {memory?: WebAssembly.Memory};
}

/** What these kernels use of tfjs-backend-wasm's BackendWasm. */
export type {VisionOpsWasm} from './instance.ts';
export {int32Fields} from './call.ts';

export interface WasmBackendLike {
  wasm: EmscriptenModuleLike|null;
  dataIdMap: {get(dataId: object): {memoryOffset: number|null}|undefined};
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number): TensorInfo;
  disposeData(dataId: object): boolean;
}

export const NOT_READY_MESSAGE = 'tfjs-vision-ops/wasm: the WebAssembly module is not ready; ' +
    'call `await wasmReady()` after tf.setBackend(\'wasm\')';

const MEMORY_PLACES = 'backend.wasm.asm.memory (non-threaded builds), backend.wasm.wasmMemory ' +
    '(threaded build) or backend.wasm.wasmExports.memory';

function findMemory(w: EmscriptenModuleLike): WebAssembly.Memory|null {
  for (const m of [w.wasmMemory, w.asm?.memory, w.wasmExports?.memory]) {
    if (m instanceof WebAssembly.Memory) return m;
  }
  return null;
}

function internalsError(version: string, missing: string): Error {
  return new Error(
      `tfjs-vision-ops/wasm: @tensorflow/tfjs-backend-wasm ${version} lacks an internal this package ` +
      `relies on: ${missing}. Use a tfjs-backend-wasm version within tfjs-vision-ops' peerDependencies.`);
}

/**
 * Throws an Error naming the tfjs-backend-wasm version (default: the one
 * installed) and the internal that is missing or changed, unless `backend`
 * has everything module.ts and the kernels use: backend.wasm with its
 * WebAssembly.Memory (MEMORY_PLACES), backend.dataIdMap.get(dataId).memoryOffset
 * (a heap byte offset), backend.makeOutput and backend.disposeData (which
 * _malloc and _free on that heap; probed with a 1-element tensor).
 */
export function checkWasmBackend(backend: unknown, version: string = version_wasm): void {
  const b = backend as Partial<WasmBackendLike>|null;
  if (b == null || typeof b !== 'object') throw internalsError(version, `a backend object (got ${b})`);
  if (b.wasm == null || typeof b.wasm !== 'object') {
    throw internalsError(version, 'backend.wasm, the Emscripten module (disposed or not initialised?)');
  }
  const memory = findMemory(b.wasm);
  if (memory == null) throw internalsError(version, `a WebAssembly.Memory at ${MEMORY_PLACES}`);
  if (typeof b.dataIdMap?.get !== 'function') throw internalsError(version, 'backend.dataIdMap.get()');
  if (typeof b.makeOutput !== 'function') throw internalsError(version, 'backend.makeOutput()');
  if (typeof b.disposeData !== 'function') throw internalsError(version, 'backend.disposeData()');
  const info = b.makeOutput([1], 'float32');
  try {
    const offset = b.dataIdMap.get(info.dataId)?.memoryOffset;
    if (typeof offset !== 'number' || !(offset > 0 && offset + 4 <= memory.buffer.byteLength)) {
      throw internalsError(version,
          `backend.dataIdMap.get(dataId).memoryOffset as a byte offset into that memory (got ${offset} ` +
          `for a tensor from backend.makeOutput, heap ${memory.buffer.byteLength} bytes)`);
    }
  } finally {
    b.disposeData(info.dataId);
  }
}

/** The backend's WebAssembly.Memory (see the file comment for where it lives). */
export function backendMemory(backend: WasmBackendLike): WebAssembly.Memory {
  const w = backend.wasm;
  if (w == null) throw new Error('tfjs-vision-ops/wasm: the wasm backend has been disposed');
  const m = findMemory(w);
  if (m == null) throw internalsError(version_wasm, `a WebAssembly.Memory at ${MEMORY_PLACES}`);
  return m;
}



/** Compiled modules, one per variant (independent of any memory). */
/** Instances per backend object, with the memory they import. */
const instances = new WeakMap<object, {memory: WebAssembly.Memory, exports: VisionOpsWasm}>();
const pending = new WeakMap<object, Promise<VisionOpsWasm>>();



function cachedExports(backend: WasmBackendLike, memory: WebAssembly.Memory): VisionOpsWasm|null {
  const c = instances.get(backend);
  return c != null && c.memory === memory ? c.exports : null;
}

function remember(backend: WasmBackendLike, memory: WebAssembly.Memory, instance: WebAssembly.Instance) {
  const exports = instance.exports as unknown as VisionOpsWasm;
  instances.set(backend, {memory, exports});
  return exports;
}

function instantiateSync(backend: WasmBackendLike, memory: WebAssembly.Memory): VisionOpsWasm {
  return remember(backend, memory, new WebAssembly.Instance(compiledModule(isShared(memory)), {env: {memory}}));
}

async function instantiateAsync(
    backend: WasmBackendLike, memory: WebAssembly.Memory): Promise<VisionOpsWasm> {
  const cached = cachedExports(backend, memory);
  if (cached != null) return cached;
  let p = pending.get(backend);
  if (p == null) {
    p = (async () => {
      const instance = await WebAssembly.instantiate(await compiledModuleAsync(isShared(memory)), {env: {memory}});
      return remember(backend, memory, instance);
    })();
    pending.set(backend, p);
    p.then(() => pending.delete(backend), () => pending.delete(backend));
  }
  return p;
}

/**
 * Compiles and instantiates this package's WebAssembly module asynchronously
 * for the initialised 'wasm' backend (or the `backend` object given, default:
 * the registered 'wasm' backend). Await it once after
 * `await tf.setBackend('wasm')`: required in browsers (which refuse to compile
 * modules over 4 KB synchronously on the main thread), optional in Node (the
 * module is instantiated on first use). Rejects when the 'wasm' backend is not
 * initialised. Not a torchvision function.
 *
 * ```js
 * import '@tensorflow/tfjs-backend-wasm';
 * import {wasmReady} from 'tfjs-vision-ops/wasm';
 * await tf.setBackend('wasm');
 * await wasmReady();
 * ```
 */
export async function wasmReady(backend?: object): Promise<void> {
  let b = backend as WasmBackendLike|undefined;
  if (b == null) {
    await ready();
    b = findBackend('wasm') as unknown as WasmBackendLike|undefined;
    if (b == null) {
      throw new Error(
          'tfjs-vision-ops/wasm: the \'wasm\' backend is not initialised; import ' +
          '\'@tensorflow/tfjs-backend-wasm\' and `await tf.setBackend(\'wasm\')` before wasmReady()');
    }
  }
  if (!instances.has(b)) checkWasmBackend(b);
  const memory = backendMemory(b);
  try {
    await instantiateAsync(b, memory);
  } catch (e) {
    throw new Error(
        `tfjs-vision-ops/wasm: could not instantiate the WebAssembly module (it needs ` +
        `WebAssembly SIMD): ${(e as Error).message ?? e}`);
  }
}

/**
 * Our module's exports for this backend. Instantiates synchronously when
 * wasmReady() has not run (fine in Node and in workers); where that is
 * refused, throws NOT_READY_MESSAGE.
 */
export function visionOpsWasm(backend: WasmBackendLike): VisionOpsWasm {
  const memory = backendMemory(backend);
  const cached = cachedExports(backend, memory);
  if (cached != null) return cached;
  // Once per backend (and memory): the hot path above costs no more than before.
  if (!instances.has(backend)) checkWasmBackend(backend);
  try {
    return instantiateSync(backend, memory);
  } catch (e) {
    throw new Error(`${NOT_READY_MESSAGE} (synchronous instantiation failed: ${(e as Error).message ?? e})`);
  }
}

/** Byte offset of a tensor's data in the heap (tfjs stores it unsigned). */
export function heapOffset(backend: WasmBackendLike, t: TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (data == null || data.memoryOffset == null) {
    throw new Error('tfjs-vision-ops/wasm: tensor has no data on the wasm backend');
  }
  return data.memoryOffset;
}

/**
 * A new output tensor on the heap (`backend.makeOutput`, which mallocs and may
 * GROW the memory: views taken before it are detached) and its byte offset.
 *
 * Defence in depth under the ops' validation (src/ops/limits.ts): the byte
 * size must be a safe integer of at most MAX_TENSOR_BYTES (2^31 - 1), else an
 * Error naming `what` (kernel and buffer) is thrown before anything is
 * allocated (tfjs hands the size to a 32-bit malloc, where 4 GiB wraps to 0
 * and the kernel then writes over other tensors); and the block malloc gave
 * must lie inside the heap (a failed malloc returns 0).
 */
export function allocOutput(
    backend: WasmBackendLike, shape: number[], dtype: DataType = 'float32', what = 'a kernel output') {
  const bytes = util.sizeFromShape(shape) * util.bytesPerElement(dtype);
  if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > MAX_TENSOR_BYTES) {
    throw new Error(`tfjs-vision-ops/wasm: ${what} of shape [${shape}] ${dtype} needs ${bytes} bytes, over the ` +
        `limit of ${MAX_TENSOR_BYTES} bytes (2^31 - 1) per allocation on the wasm heap`);
  }
  const info = backend.makeOutput(shape, dtype);
  const offset = heapOffset(backend, info);
  if (bytes > 0 && !(offset > 0 && offset + bytes <= backendMemory(backend).buffer.byteLength)) {
    backend.disposeData(info.dataId);
    throw new Error(`tfjs-vision-ops/wasm: could not allocate ${what} of ${bytes} bytes on the wasm heap ` +
        `(malloc returned ${offset}; out of memory?)`);
  }
  return {info, offset};
}

