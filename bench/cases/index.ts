/** Every benchmark case of `npm run bench`, in report order. */
import {BenchCase} from '../harness';
import {deformConv2dCase} from './deform_conv2d';
import {detectorCase} from './detector';
import {msDeformAttnCase} from './ms_deform_attn';
import {batchedNmsCase, nmsCase, nmsGrowthCase} from './nms';
import {psRoiAlignCase} from './ps_roi_align';
import {roiAlignCase} from './roi_align';
import {focalLossCase} from './sigmoid_focal_loss';
import {trainStepCase} from './train_step';

export const CASES: BenchCase[] = [roiAlignCase, psRoiAlignCase, nmsCase, batchedNmsCase, nmsGrowthCase,
  deformConv2dCase, msDeformAttnCase, trainStepCase, detectorCase,
  // Last: its tf-ops baseline can exhaust (and abort) tfjs-wasm's memory.
  focalLossCase];
