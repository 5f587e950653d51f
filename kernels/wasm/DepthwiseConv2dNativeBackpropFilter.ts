import {DepthwiseConv2dNativeBackpropFilter} from '@tensorflow/tfjs-core';
import {depthwiseGradModule} from './depthwise_grad.ts';

/** tfjs's DepthwiseConv2dNativeBackpropFilter (the filter gradient of depthwiseConv2d), missing in tfjs-backend-wasm 4.22. */
export const depthwiseConv2dNativeBackpropFilterModule = depthwiseGradModule(DepthwiseConv2dNativeBackpropFilter, 'filter');
