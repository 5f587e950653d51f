// Control for the tsc cases: the same @tensorflow packages without tfjs-vision-ops. Errors that
// tsc reports inside their own .d.ts here (tfjs-layers 4.x is not written for strictNullChecks)
// are tfjs's, and the tsc cases accept exactly those.
import * as tf from '@tensorflow/tfjs';
import * as tfc from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import {setWasmPaths} from '@tensorflow/tfjs-backend-wasm';

export {tf, tfc, tfl, setWasmPaths};
