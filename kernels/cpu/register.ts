import {registerKernels} from '../register_all';
import {sigmoidFocalLossConfig} from './SigmoidFocalLoss';
import {sigmoidFocalLossGradConfig} from './SigmoidFocalLossGrad';

export const cpuKernels = [sigmoidFocalLossConfig, sigmoidFocalLossGradConfig];
registerKernels(cpuKernels);
