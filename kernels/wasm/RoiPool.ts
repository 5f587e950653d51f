import {TensorInfo, util} from '@tensorflow/tfjs-core';
import {PsRoiPool, psRoiPoolKernel, RoiPool, RoiPoolAttrs, RoiPoolInputs, roiPoolKernel} from '../../src/kernel_names.ts';
import {attrArgs} from './args.ts';
import {assertFloat32, int32Fields, ModuleKernel, ModuleRunner} from './call.ts';

/** roi_pool or ps_roi_pool of our module into a new output of outShape. */
export function runRoiPool(
    run: ModuleRunner, kernelName: typeof RoiPool|typeof PsRoiPool, x: TensorInfo, boxes: TensorInfo,
    outShape: number[], p: RoiPoolAttrs): TensorInfo {
  assertFloat32(run, kernelName, 'x', x);
  assertFloat32(run, kernelName, 'boxes', boxes);
  if (util.sizeFromShape(outShape) === 0) return run.zeros(outShape, 'float32');
  const kernel = kernelName === RoiPool ? 'roi_pool' : 'ps_roi_pool';
  const [batch, height, width, channels] = x.shape;
  const ints = int32Fields(kernel, {batch, height, width, channels, numBoxes: boxes.shape[0]});
  return run.run({
    fn: kernel,
    args: [{input: x}, {input: boxes}, {output: 0}, ...ints,
      ...attrArgs(kernelName, kernelName === RoiPool ? roiPoolKernel : psRoiPoolKernel, p)],
    outputs: [{shape: outShape, dtype: 'float32', what: `${kernel} output`}],
  }).outputs[0];
}

export const roiPoolModule: ModuleKernel = (run, {inputs, attrs}) => {
  const {x, boxes} = inputs as RoiPoolInputs;
  const p = attrs as unknown as RoiPoolAttrs;
  const outShape = [boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3]];
  return runRoiPool(run, RoiPool, x, boxes, outShape, p);
};
