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
import {DataType, Tensor, TensorInfo, util} from '@tensorflow/tfjs-core';
import {CallArg, ExportCall, ExportName, ModuleRunner} from '../wasm/call.ts';
import {moduleOnMemory, VisionOpsWasm} from '../wasm/instance.ts';

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
  /** Per export, its parameters: p const pointer, P pointer, i int32, u uint32, f float, d double. */
  signatures: Record<string, string>;
  /** Calls an export of int32 parameters returning int32 (sizes). */
  pure(name: string, ...args: number[]): number;
}

/** roi_align -> VisionRoiAlign. */
export function opName(fn: string): string {
  return 'Vision' + fn.split('_').map(w => w[0].toUpperCase() + w.slice(1)).join('');
}

/** The (kind, value) pairs of an op's `args` (kernels/tensorflow/native/vision_call.cc). */
const KIND = {input: 0, output: 1, scratch: 2, int32: 3, float32: 4, float64Low: 5, float64High: 6};
const scalar = new DataView(new ArrayBuffer(8));

/**
 * A number argument as the op's pairs for parameter type `type` (a null
 * pointer where the parameter is one); list(int) attributes reach
 * TensorFlow as int32, so a float goes as its bits and a double as two words.
 */
function numberArg(type: string, v: number): number[] {
  if (type === 'f') {
    scalar.setFloat32(0, v);
    return [KIND.float32, scalar.getInt32(0)];
  }
  if (type === 'd') {
    scalar.setFloat64(0, v);
    return [KIND.float64Low, scalar.getInt32(4), KIND.float64High, scalar.getInt32(0)];
  }
  return [KIND.int32, v | 0];
}

/** What both runners do on the host (tfjs-node keeps tensors in host memory). */
function hostTensors(backend: NodeBackendLike) {
  const tensor = (values: Float32Array|Int32Array, shape: number[], dtype: DataType): TensorInfo =>
    ({dataId: backend.write(values, shape, dtype), shape, dtype});
  return {
    tensor,
    head: (t: TensorInfo, count: number) =>
      tensor((backend.readSync(t.dataId) as Float32Array|Int32Array).slice(0, count), [count], t.dtype),
    zeros(shape: number[], dtype: DataType) {
      const n = util.sizeFromShape(shape);
      return tensor(dtype === 'int32' ? new Int32Array(n) : new Float32Array(n), shape, dtype);
    },
    // tfjs-node returns its op outputs as Tensors the engine tracks: those are disposed through the engine.
    dispose: (t: TensorInfo) => t instanceof Tensor ? t.dispose() : backend.disposeData(t.dataId),
  };
}

export function nativeRunner(backend: NodeBackendLike, addon: VisionOpsAddon): ModuleRunner {
  const b = backend.binding;
  const host = hostTensors(backend);
  const int = (name: string, value: number|number[]) => ({name, type: b.TF_ATTR_INT, value});
  return {
    backendName: 'tensorflow',
    run(call) {
      const signature = addon.signatures[call.fn];
      if (signature == null || signature.length !== call.args.length) {
        throw new Error(`${opName(call.fn)}: the op library does not match this package's kernels ` +
            `(${call.args.length} arguments, library: ${signature ?? 'no such op'}); rebuild it`);
      }
      // The op takes float tensors, then int32 ones (inputs and outputs alike), numbered in that order.
      const inputs = call.args.filter((a): a is {input: TensorInfo} => typeof a === 'object' && 'input' in a)
          .map(a => a.input);
      const inputOrder = [...inputs.filter(t => t.dtype !== 'int32'), ...inputs.filter(t => t.dtype === 'int32')];
      const outputOrder = [...call.outputs.keys()].sort((i, j) =>
        Number(call.outputs[i].dtype === 'int32') - Number(call.outputs[j].dtype === 'int32') || i - j);
      let nextInput = 0;
      const args = call.args.flatMap((a: CallArg, i) => {
        if (typeof a === 'number') return numberArg(signature[i], a);
        if ('input' in a) return [KIND.input, inputOrder.indexOf(inputs[nextInput++])];
        return 'output' in a ? [KIND.output, outputOrder.indexOf(a.output)] : [KIND.scratch, a.scratch];
      });
      const shapes = outputOrder.map(j => call.outputs[j].shape);
      const intOutputs = call.outputs.filter(o => o.dtype === 'int32').length;
      // The per-call values travel in an int32 input, not in attrs: TensorFlow caches a kernel per
      // distinct attr set, and shapes that change every step (the boxes of a batch) would grow that cache.
      const header = call.scratchHeader ?? [];
      const flat = shapes.flat();
      const values = Int32Array.from([args.length, ...args, flat.length, ...flat, shapes.length,
        ...shapes.map(s => s.length), call.scratchWords ?? 0, header.length, ...header]);
      const described = host.tensor(values, [values.length], 'int32');
      const attrs = [
        int('n_inputs', inputs.length - inputs.filter(t => t.dtype === 'int32').length),
        int('n_int_inputs', inputs.filter(t => t.dtype === 'int32').length),
        int('n_outputs', call.outputs.length - intOutputs),
        int('n_int_outputs', intOutputs + (call.returns ? 1 : 0)),
        {name: 'returns', type: b.TF_ATTR_BOOL, value: call.returns === true},
      ];
      let results: TensorInfo[];
      try {
        results = backend.executeMultipleOutputs(opName(call.fn), attrs, [...inputOrder, described],
            call.outputs.length + (call.returns ? 1 : 0));
      } finally {
        host.dispose(described);
      }
      let returned = 0;
      if (call.returns) {
        const count = results.pop()!;
        returned = backend.readSync(count.dataId)[0];
        host.dispose(count);
      }
      const outputs: TensorInfo[] = [];
      outputOrder.forEach((j, at) => outputs[j] = results[at]);
      return {outputs, returned};
    },
    size: (fn, ...args) => addon.pure(fn, ...args),
    head: host.head,
    zeros: host.zeros,
    dispose: host.dispose,
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
  const host = hostTensors(backend);
  return {
    backendName: 'tensorflow',
    run(call: ExportCall) {
      // Regions: inputs, outputs, scratch; offset 0 stays unused (a null pointer: an empty tensor).
      let end = 16;
      const place = (bytes: number) => {
        const at = end;
        end += align(bytes);
        return at;
      };
      const at = (shape: number[]) => util.sizeFromShape(shape) === 0 ? 0 : place(4 * util.sizeFromShape(shape));
      const inputs = call.args.filter((a): a is {input: TensorInfo} => typeof a === 'object' && 'input' in a)
          .map(a => ({t: a.input, at: at(a.input.shape)}));
      const outputs = call.outputs.map(o => at(o.shape));
      const scratch = call.scratchWords ? place(4 * call.scratchWords) : 0;
      if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / WASM_PAGE));
      for (const input of inputs) {
        if (input.at === 0) continue;
        const values = backend.readSync(input.t.dataId) as Float32Array|Int32Array;
        const View = input.t.dtype === 'int32' ? Int32Array : Float32Array;
        new View(memory.buffer, input.at, values.length).set(values);
      }
      if (scratch !== 0 && call.scratchHeader) {
        new Int32Array(memory.buffer, scratch, call.scratchHeader.length).set(call.scratchHeader);
      }
      let next = 0;
      const args = call.args.map(a => typeof a === 'number' ? a : 'input' in a ? inputs[next++].at :
        'output' in a ? outputs[a.output] : scratch + 4 * a.scratch);
      const returned = (mod[call.fn] as (...a: number[]) => number|undefined)(...args) ?? 0;
      return {
        outputs: call.outputs.map((o, i) => {
          const n = util.sizeFromShape(o.shape);
          const View = o.dtype === 'int32' ? Int32Array : Float32Array;
          return host.tensor(n === 0 ? new View(0) : new View(memory.buffer, outputs[i], n).slice(), o.shape, o.dtype);
        }),
        returned,
      };
    },
    size: (fn: ExportName, ...args: number[]) => (mod[fn] as (...a: number[]) => number)(...args),
    head: host.head,
    zeros: host.zeros,
    dispose: host.dispose,
  };
}
