import {DepthwiseConv2dNativeBackpropInput} from '@tensorflow/tfjs-core';
import {depthwiseGradModule} from './depthwise_grad.ts';

/** tfjs's DepthwiseConv2dNativeBackpropInput (the input gradient of depthwiseConv2d), missing in tfjs-backend-wasm 4.22. */
export const depthwiseConv2dNativeBackpropInputModule = depthwiseGradModule(DepthwiseConv2dNativeBackpropInput, 'input');
