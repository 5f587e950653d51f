import {KernelFunc} from '@tensorflow/tfjs-core';
import {PsRoiPool, PsRoiPoolAttrs, PsRoiPoolInputs} from '../../src/kernel_names.ts';
import {WasmBackendLike} from './module.ts';
import {runRoiPoolWasm} from './RoiPool.ts';

export const psRoiPoolWasm: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as PsRoiPoolInputs;
  const p = attrs as unknown as PsRoiPoolAttrs;
  const outShape = [boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3] / (p.pooledHeight * p.pooledWidth)];
  return runRoiPoolWasm(backend as unknown as WasmBackendLike, PsRoiPool, x, boxes, outShape, p);
};
