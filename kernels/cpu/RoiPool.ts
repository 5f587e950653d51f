import {KernelFunc} from '@tensorflow/tfjs-core';
import {RoiPoolAttrs, RoiPoolInputs} from '../../src/kernel_names.ts';
import {roiPoolValues} from '../reference/roi_pool.ts';
import {runRoiHost} from './RoiAlign.ts';

export const roiPoolHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as RoiPoolInputs;
  return runRoiHost(backend, x, boxes, attrs as unknown as RoiPoolAttrs, x.shape[3], roiPoolValues);
};
