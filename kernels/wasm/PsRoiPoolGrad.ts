import {KernelConfig, KernelFunc, TensorInfo, util} from '@tensorflow/tfjs-core';
import {PsRoiPoolGrad, PsRoiPoolGradAttrs, PsRoiPoolGradInputs} from '../../src/kernel_names.ts';
import {allocOutput, assertFloat32, heapOffset, visionOpsWasm, WasmBackendLike} from './module.ts';

export const psRoiPoolGradWasm: KernelFunc = ({inputs, backend, attrs}) => {
  const b = backend as unknown as WasmBackendLike;
  const {dy, boxes} = inputs as PsRoiPoolGradInputs;
  const p = attrs as unknown as PsRoiPoolGradAttrs;
  assertFloat32(PsRoiPoolGrad, 'dy', dy);
  assertFloat32(PsRoiPoolGrad, 'boxes', boxes);
  if (util.sizeFromShape(p.xShape) === 0) return b.makeOutput(p.xShape, 'float32');
  const mod = visionOpsWasm(b);
  const dx = allocOutput(b, p.xShape);
  const [batch, height, width, channels] = p.xShape;
  // With no boxes, dy and boxes have no heap data; nothing reads them then.
  const offset = (t: TensorInfo) => util.sizeFromShape(t.shape) === 0 ? 0 : heapOffset(b, t);
  mod.ps_roi_pool_grad(offset(dy), offset(boxes), dx.offset, batch, height, width, channels, boxes.shape[0],
      p.pooledHeight, p.pooledWidth, p.spatialScale);
  return dx.info;
};

export const psRoiPoolGradConfig: KernelConfig = {
  kernelName: PsRoiPoolGrad,
  backendName: 'wasm',
  kernelFunc: psRoiPoolGradWasm,
};
