// peers-lowest / peers-latest: the umbrella @tensorflow/tfjs at a supported version, with wasm.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import * as vision from 'tfjs-vision-ops';
import * as layers from 'tfjs-vision-ops/layers';
import {wasmReady} from 'tfjs-vision-ops/wasm';
import job from './job.cjs';

tf.env().set('IS_TEST', true);
const r = await job.run(tf, vision, {backends: ['cpu', 'wasm'], layers, wasmReady});
console.log('RESULT ' + JSON.stringify(r));
