/** The wasm backend's runner of the ModuleKernels (./call.ts). */
import {KernelFunc, TensorInfo, util} from '@tensorflow/tfjs-core';
import {ModuleKernel, ModuleRunner} from './call.ts';
import {allocOutput, backendMemory, heapOffset, visionOpsWasm, WasmBackendLike} from './module.ts';

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

