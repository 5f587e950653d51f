import {KernelFunc} from '@tensorflow/tfjs-core';
import {PsRoiPoolAttrs, PsRoiPoolInputs} from '../../src/kernel_names.ts';
import {psRoiPoolValues} from '../reference/ps_roi.ts';
import {runRoiHost} from './RoiAlign.ts';

export const psRoiPoolHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as PsRoiPoolInputs;
  const params = attrs as unknown as PsRoiPoolAttrs;
  const outChannels = x.shape[3] / (params.pooledHeight * params.pooledWidth);
  return runRoiHost(backend, x, boxes, params, outChannels, psRoiPoolValues);
};
