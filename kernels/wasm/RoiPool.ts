import {KernelConfig, KernelFunc, util} from '@tensorflow/tfjs-core';
import {RoiPool, RoiPoolAttrs, RoiPoolInputs} from '../../src/kernel_names';
import {allocOutput, assertFloat32, heapOffset, visionOpsWasm, WasmBackendLike} from './module';

/** Zero copy: four channels per f32x4, max and first argmax per lane. */
export const roiPoolWasm: KernelFunc = ({inputs, backend, attrs}) => {
  const b = backend as unknown as WasmBackendLike;
  const {x, boxes} = inputs as RoiPoolInputs;
  const p = attrs as unknown as RoiPoolAttrs;
  assertFloat32(RoiPool, 'x', x);
  assertFloat32(RoiPool, 'boxes', boxes);
  const outShape = [boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3]];
  if (util.sizeFromShape(outShape) === 0) return b.makeOutput(outShape, 'float32');
  const mod = visionOpsWasm(b);
  const out = allocOutput(b, outShape);
  const [batch, height, width, channels] = x.shape;
  mod.roi_pool(heapOffset(b, x), heapOffset(b, boxes), out.offset, batch, height, width, channels,
      boxes.shape[0], p.pooledHeight, p.pooledWidth, p.spatialScale);
  return out.info;
};

export const roiPoolConfig: KernelConfig = {
  kernelName: RoiPool,
  backendName: 'wasm',
  kernelFunc: roiPoolWasm,
};
