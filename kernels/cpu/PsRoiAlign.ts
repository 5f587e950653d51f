import {KernelFunc} from '@tensorflow/tfjs-core';
import {PsRoiAlignAttrs, PsRoiAlignInputs} from '../../src/kernel_names.ts';
import {psRoiAlignValues} from '../reference/ps_roi.ts';
import {runRoiHost} from './RoiAlign.ts';

export const psRoiAlignHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as PsRoiAlignInputs;
  const params = attrs as unknown as PsRoiAlignAttrs;
  const outChannels = x.shape[3] / (params.pooledHeight * params.pooledWidth);
  return runRoiHost(backend, x, boxes, params, outChannels, psRoiAlignValues);
};
