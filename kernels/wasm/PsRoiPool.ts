import {PsRoiPool, PsRoiPoolAttrs, PsRoiPoolInputs} from '../../src/kernel_names.ts';
import {ModuleKernel} from './call.ts';
import {runRoiPool} from './RoiPool.ts';

export const psRoiPoolModule: ModuleKernel = (run, {inputs, attrs}) => {
  const {x, boxes} = inputs as PsRoiPoolInputs;
  const p = attrs as unknown as PsRoiPoolAttrs;
  const outShape = [boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3] / (p.pooledHeight * p.pooledWidth)];
  return runRoiPool(run, PsRoiPool, x, boxes, outShape, p);
};
