import {KernelConfig, KernelFunc, util} from '@tensorflow/tfjs-core';
import {PsRoiPool, PsRoiPoolAttrs, PsRoiPoolInputs} from '../../src/kernel_names';
import {allocOutput, assertFloat32, heapOffset, visionOpsWasm, WasmBackendLike} from './module';

export const psRoiPoolWasm: KernelFunc = ({inputs, backend, attrs}) => {
  const b = backend as unknown as WasmBackendLike;
  const {x, boxes} = inputs as PsRoiPoolInputs;
  const p = attrs as unknown as PsRoiPoolAttrs;
  assertFloat32(PsRoiPool, 'x', x);
  assertFloat32(PsRoiPool, 'boxes', boxes);
  const outShape = [boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3] / (p.pooledHeight * p.pooledWidth)];
  if (util.sizeFromShape(outShape) === 0) return b.makeOutput(outShape, 'float32');
  const mod = visionOpsWasm(b);
  const out = allocOutput(b, outShape);
  const [batch, height, width, channels] = x.shape;
  mod.ps_roi_pool(heapOffset(b, x), heapOffset(b, boxes), out.offset, batch, height, width, channels,
      boxes.shape[0], p.pooledHeight, p.pooledWidth, p.spatialScale);
  return out.info;
};

export const psRoiPoolConfig: KernelConfig = {
  kernelName: PsRoiPool,
  backendName: 'wasm',
  kernelFunc: psRoiPoolWasm,
};
