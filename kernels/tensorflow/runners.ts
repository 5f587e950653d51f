/**
 * The two runners of the 'tensorflow' backend (tfjs-node) for the kernels of
 * kernels/c written once as ModuleKernels (kernels/wasm/*.ts):
 *  - native: the TensorFlow op library of this package (kernels/tensorflow/
 *    native, built by tools/build-native.mjs) registers every export of
 *    kernels/c as a TensorFlow op (roi_align -> VisionRoiAlign); a call is one
 *    op run through tfjs-node, so tensors never leave TensorFlow and tf.grad,
 *    the tape and model.fit work as with tfjs-node's own ops;
 *  - wasm on host copies (the fallback, where the library cannot be loaded):
 *    our wasm module on a memory of its own, inputs copied in and outputs out.
 */
import {DataType, TensorInfo, util} from '@tensorflow/tfjs-core';
import {CallArg, ExportCall, ExportName, ModuleRunner} from '../wasm/call.ts';
import {moduleOnMemory, VisionOpsWasm} from '../wasm/module.ts';

/** What of tfjs-node's backend (NodeJSKernelBackend) the runners use. */
export interface NodeBackendLike {
  binding: Record<string, number>;
  readSync(dataId: object): ArrayLike<number>;
  write(values: Float32Array|Int32Array, shape: number[], dtype: DataType): object;
  disposeData(dataId: object): boolean;
  executeMultipleOutputs(name: string, attrs: unknown[], inputs: TensorInfo[], numOutputs: number): TensorInfo[];
}

/** The N-API addon of the op library. */
export interface VisionOpsAddon {
  /** The TensorFlow op names it registered. */
  ops: string[];
  /** Per export, its parameters: p pointer, i int32, f float, d double. */
  signatures: Record<string, string>;
  /** Calls an export of int32 parameters returning int32 (sizes). */
  pure(name: string, ...args: number[]): number;
}

/** roi_align -> VisionRoiAlign. */
export function opName(fn: string): string {
  return 'Vision' + fn.split('_').map(w => w[0].toUpperCase() + w.slice(1)).join('');
}

const KIND = {input: 0, output: 1, scratch: 2, int32: 3, float32: 4, float64: 5};
const scalar = new DataView(new ArrayBuffer(8));

/**
 * A number argument as the op's (kind, value) pair for parameter type `type`
 * (i, f or d); a double as (kind, high word, low word): list(int) attributes
 * come from JavaScript numbers, exact only below 2^53.
 */
function numberArg(fn: string, index: number, type: string, v: number): number[] {
  if (type === 'i') return [KIND.int32, v | 0];
  if (type === 'f') {
    scalar.setFloat32(0, v);
    return [KIND.float32, scalar.getUint32(0)];
  }
  if (type === 'd') {
    scalar.setFloat64(0, v);
    return [KIND.float64, scalar.getInt32(0), scalar.getUint32(4)];
  }
  throw new Error(`${opName(fn)}: argument ${index} is a number, the C parameter a pointer`);
}

export function nativeRunner(backend: NodeBackendLike, addon: VisionOpsAddon): ModuleRunner {
  const b = backend.binding;
  const tfType = (dtype: DataType) => dtype === 'int32' ? b.TF_INT32 : b.TF_FLOAT;
  return {
    backendName: 'tensorflow',
    run(call) {
      const signature = addon.signatures[call.fn];
      if (signature == null || signature.length !== call.args.length) {
        throw new Error(`${opName(call.fn)}: the op library does not match this package's kernels ` +
            `(${call.args.length} arguments, library: ${signature ?? 'no such op'}); rebuild it`);
      }
      const inputs: TensorInfo[] = [];
      const args = call.args.flatMap((a: CallArg, i) => {
        if (typeof a === 'number') return numberArg(call.fn, i, signature[i], a);
        if ('input' in a) return [KIND.input, inputs.push(a.input) - 1];
        return 'output' in a ? [KIND.output, a.output] : [KIND.scratch, a.scratch];
      });
      const returns = call.returns === true;
      const outputs = call.outputs.map(o => o.shape);
      const attrs = [
        {name: 'Tin', type: b.TF_ATTR_TYPE, value: inputs.map(t => tfType(t.dtype))},
        {name: 'Tout', type: b.TF_ATTR_TYPE, value: [...call.outputs.map(o => tfType(o.dtype)), ...(returns ? [b.TF_INT32] : [])]},
        {name: 'args', type: b.TF_ATTR_INT, value: args},
        {name: 'output_shapes', type: b.TF_ATTR_INT, value: outputs.flat()},
        {name: 'output_ranks', type: b.TF_ATTR_INT, value: outputs.map(s => s.length)},
        {name: 'scratch_words', type: b.TF_ATTR_INT, value: call.scratchWords ?? 0},
        {name: 'scratch_header', type: b.TF_ATTR_INT, value: call.scratchHeader ?? []},
        {name: 'returns', type: b.TF_ATTR_BOOL, value: returns},
      ];
      const results = backend.executeMultipleOutputs(opName(call.fn), attrs, inputs, call.outputs.length + (returns ? 1 : 0));
      let returned = 0;
      if (returns) {
        const count = results.pop()!;
        returned = backend.readSync(count.dataId)[0];
        backend.disposeData(count.dataId);
      }
      return {outputs: results, returned};
    },
    size: (fn, ...args) => addon.pure(fn, ...args),
    head(t, count) {
      const values = backend.readSync(t.dataId) as Int32Array|Float32Array;
      return {dataId: backend.write(values.slice(0, count), [count], t.dtype), shape: [count], dtype: t.dtype};
    },
    zeros(shape, dtype) {
      const n = util.sizeFromShape(shape);
      return {dataId: backend.write(dtype === 'int32' ? new Int32Array(n) : new Float32Array(n), shape, dtype), shape, dtype};
    },
    dispose: t => backend.disposeData(t.dataId),
  };
}

/** Bytes rounded up to 16 (f32x4 loads never straddle two regions). */
const align = (n: number) => Math.ceil(n / 16) * 16;
const WASM_PAGE = 65536;

/**
 * The fallback: our wasm module on a memory of its own, inputs copied in,
 * outputs copied out (the memory grows to the largest call and stays).
 */
export function hostCopiesRunner(backend: NodeBackendLike): ModuleRunner {
  const memory = new WebAssembly.Memory({initial: 1});
  const mod: VisionOpsWasm = moduleOnMemory(memory);
  const tensor = (values: Float32Array|Int32Array, shape: number[], dtype: DataType): TensorInfo =>
    ({dataId: backend.write(values, shape, dtype), shape, dtype});
  const runner: ModuleRunner = {
    backendName: 'tensorflow',
    run(call: ExportCall) {
      // Regions: inputs, outputs, scratch; offset 0 stays unused (a null pointer: an empty tensor).
      let end = 16;
      const place = (bytes: number) => {
        const at = end;
        end += align(bytes);
        return at;
      };
      const inputs = call.args.filter((a): a is {input: TensorInfo} => typeof a === 'object' && 'input' in a)
          .map(a => ({t: a.input, at: util.sizeFromShape(a.input.shape) === 0 ? 0 : place(4 * util.sizeFromShape(a.input.shape))}));
      const outputs = call.outputs.map(o => util.sizeFromShape(o.shape) === 0 ? 0 : place(4 * util.sizeFromShape(o.shape)));
      const scratch = call.scratchWords ? place(4 * call.scratchWords) : 0;
      if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / WASM_PAGE));
      for (const {t, at} of inputs) {
        if (at === 0) continue;
        const values = backend.readSync(t.dataId) as Float32Array|Int32Array;
        (t.dtype === 'int32' ? new Int32Array(memory.buffer, at, values.length) : new Float32Array(memory.buffer, at, values.length)).set(values);
      }
      if (scratch !== 0 && call.scratchHeader) new Int32Array(memory.buffer, scratch, call.scratchHeader.length).set(call.scratchHeader);
      let next = 0;
      const args = call.args.map(a => typeof a === 'number' ? a : 'input' in a ? inputs[next++].at :
        'output' in a ? outputs[a.output] : scratch + 4 * a.scratch);
      const returned = (mod[call.fn] as (...a: number[]) => number|undefined)(...args) ?? 0;
      return {
        outputs: call.outputs.map((o, i) => {
          const n = util.sizeFromShape(o.shape);
          const View = o.dtype === 'int32' ? Int32Array : Float32Array;
          return tensor(n === 0 ? new View(0) : new View(memory.buffer, outputs[i], n).slice(), o.shape, o.dtype);
        }),
        returned,
      };
    },
    size: (fn: ExportName, ...args: number[]) => (mod[fn] as (...a: number[]) => number)(...args),
    head(t, count) {
      const values = backend.readSync(t.dataId) as Int32Array|Float32Array;
      return tensor(values.slice(0, count), [count], t.dtype);
    },
    zeros(shape, dtype) {
      const n = util.sizeFromShape(shape);
      return tensor(dtype === 'int32' ? new Int32Array(n) : new Float32Array(n), shape, dtype);
    },
    dispose: t => backend.disposeData(t.dataId),
  };
  return runner;
}
