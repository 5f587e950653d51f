import {TensorInfo, util} from '@tensorflow/tfjs-core';
import {PsRoiAlignAttrs, psRoiAlignKernel, RoiAlignAttrs, RoiAlignInputs, roiAlignKernel} from '../../src/kernel_names.ts';
import {attrArgs} from './args.ts';
import {assertFloat32, int32Fields, ModuleKernel, ModuleRunner} from './call.ts';

/**
 * roi_align(_grad) or ps_roi_align(_grad) of our module, with a scratch
 * buffer for the per-RoI taps (allocated by the runner: the module itself
 * never allocates). Layout in kernels/c/roi_align.c.
 */
export function runRoiAlign(
    run: ModuleRunner, kernel: 'roi_align'|'roi_align_grad'|'ps_roi_align'|'ps_roi_align_grad',
    decl: typeof roiAlignKernel | typeof psRoiAlignKernel, input: TensorInfo, boxes: TensorInfo,
    outShape: number[], xShape: number[], p: PsRoiAlignAttrs): TensorInfo {
  const grad = kernel.endsWith('_grad');
  assertFloat32(run, kernel, grad ? 'dy' : 'x', input);
  assertFloat32(run, kernel, 'boxes', boxes);
  if (util.sizeFromShape(outShape) === 0) return run.zeros(outShape, 'float32');
  const [batch, height, width, channels] = xShape;
  const {pooledHeight, pooledWidth, samplingRatio: sr} = p;
  const maxRowTaps = Math.max(1, sr > 0 ? Math.min(height, 2 * sr) : height);
  const maxColTaps = Math.max(1, sr > 0 ? Math.min(width, 2 * sr) : width);
  const scratchWords = height + width + pooledHeight * (1 + 2 * maxRowTaps) +
      pooledWidth * (1 + 2 * maxColTaps) + 2 * maxRowTaps * maxColTaps;
  const ints = int32Fields(kernel, {batch, height, width, channels, numBoxes: boxes.shape[0], maxRowTaps, maxColTaps});
  return run.run({
    fn: kernel,
    args: [{input}, {input: boxes}, {output: 0}, {scratch: 0}, ...ints, ...attrArgs(kernel, decl, p)],
    outputs: [{shape: outShape, dtype: 'float32', what: `${kernel} output`}],
    scratchWords,
  }).outputs[0];
}

export const roiAlignModule: ModuleKernel = (run, {inputs, attrs}) => {
  const {x, boxes} = inputs as RoiAlignInputs;
  const p = attrs as unknown as RoiAlignAttrs;
  const outShape = [boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3]];
  return runRoiAlign(run, 'roi_align', roiAlignKernel, x, boxes, outShape, x.shape, p);
};
