/**
 * Our WebAssembly module (built from kernels/c by tools/build-wasm.mjs): its
 * exports, and its compilation for a plain or a shared memory. Imports no
 * tfjs backend: the wasm backend (./module.ts) and the 'tensorflow' backend's
 * fallback (../tensorflow/runners.ts) both use it.
 */
import {WASM_SIMD} from './generated/module_bytes.ts';
import {sharedMemoryVariant} from './shared_memory_variant.ts';

export interface VisionOpsWasm {
  /** (x, t, out, n, ...attrs) */
  sigmoid_focal_loss(...args: number[]): void;
  /** (dy, x, t, dx, dt, n, ...attrs) */
  sigmoid_focal_loss_grad(...args: number[]): void;
  /**
   * (x or dy, boxes, out or dx, scratch, batch, height, width, channels,
   * numBoxes, maxRowTaps, maxColTaps, ...attrs); ps_roi_align(_grad) alike.
   */
  roi_align(...args: number[]): void;
  roi_align_grad(...args: number[]): void;
  ps_roi_align(...args: number[]): void;
  ps_roi_align_grad(...args: number[]): void;
  /** (x, boxes, out, batch, height, width, channels, numBoxes, ...attrs); ps_roi_pool alike. */
  roi_pool(...args: number[]): void;
  /** (dy, x, boxes, dx, then as roi_pool); ps_roi_pool_grad takes (dy, boxes, dx, ...), no x. */
  roi_pool_grad(...args: number[]): void;
  ps_roi_pool(...args: number[]): void;
  ps_roi_pool_grad(...args: number[]): void;
  /**
   * (boxes, scores, idxs, batched, n, scratch, out, ...attrs): kept indices
   * into out (n i32), returns their count; scratch of nms_scratch_words(n) words.
   */
  nms(...args: number[]): number;
  nms_scratch_words(n: number): number;
  /** Scratch layout and header in assembly/deform_conv2d.ts (see ../DeformConv2d.ts). */
  deform_conv2d(x: number, offset: number, mask: number, weight: number, out: number, scratch: number): void;
  deform_conv2d_grad(
      dy: number, x: number, offset: number, mask: number, weight: number, dx: number, dOffset: number,
      dMask: number, dWeight: number, scratch: number): void;
  /**
   * (x, dy, dw, batch, inH, inW, inC, outH, outW, outC, strideH, strideW, padTop, padLeft,
   * filterH, filterW, then element strides of x and of dy: batch, row, column, channel).
   */
  conv2d_backprop_filter(...args: number[]): void;
  /** (dy, w, dx, batch, inD, inH, inW, inC, outD, outH, outW, outC, strides D H W, pads front top left, filter D H W). */
  conv3d_backprop_input(...args: number[]): void;
  /** (x, dy, dw, then as conv3d_backprop_input). */
  conv3d_backprop_filter(...args: number[]): void;
  /**
   * (dy, w, dx, batch, inH, inW, inC, outH, outW, channelMultiplier, strideH, strideW, padTop, padLeft,
   * filterH, filterW); all NHWC, w [filterH, filterW, inC, channelMultiplier].
   */
  depthwise_conv2d_backprop_input(...args: number[]): void;
  /** (x, dy, dw, then as depthwise_conv2d_backprop_input). */
  depthwise_conv2d_backprop_filter(...args: number[]): void;
  unsorted_segment_sum(
      x: number, ids: number, out: number, rows: number, inner: number, numSegments: number, isInt: number): void;
  /**
   * (value, spatialShapes, levelStartIndex, samplingLocations, attentionWeights, out, batch, spatialSize,
   * heads, channels, queries, levels, points)
   */
  ms_deform_attn(...args: number[]): void;
  /** (dy, value, the tables, samplingLocations, attentionWeights, dValue, dLocations, dWeights, then as ms_deform_attn). */
  ms_deform_attn_grad(...args: number[]): void;
}

export function isShared(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

function variantBytes(shared: boolean): Uint8Array {
  const plain = decodeBase64(WASM_SIMD);
  return shared ? sharedMemoryVariant(plain) : plain;
}

const compiled = new Map<boolean, WebAssembly.Module>();

/** The module compiled for a plain or a shared memory, synchronously (once each). */
export function compiledModule(shared: boolean): WebAssembly.Module {
  let module = compiled.get(shared);
  if (module == null) {
    module = new WebAssembly.Module(variantBytes(shared) as BufferSource);
    compiled.set(shared, module);
  }
  return module;
}

/** compiledModule without blocking (browsers refuse to compile modules over 4 KB synchronously). */
export async function compiledModuleAsync(shared: boolean): Promise<WebAssembly.Module> {
  let module = compiled.get(shared);
  if (module == null) {
    module = await WebAssembly.compile(variantBytes(shared) as BufferSource);
    compiled.set(shared, module);
  }
  return module;
}

/**
 * Our module on a memory of the caller's (not a tfjs backend's): the
 * 'tensorflow' backend's fallback runs it on host copies
 * (kernels/tensorflow/runners.ts).
 */
export function moduleOnMemory(memory: WebAssembly.Memory): VisionOpsWasm {
  return new WebAssembly.Instance(compiledModule(false), {env: {memory}}).exports as unknown as VisionOpsWasm;
}
