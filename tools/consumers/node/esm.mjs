// node-esm: a Node ESM consumer with the umbrella package, the main entry, /layers and /wasm.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {nms, nmsAsync, roiAlign, generalizedBoxIouLoss, RoIAlign as RoIAlignFromMain} from 'tfjs-vision-ops';
import * as layers from 'tfjs-vision-ops/layers';
import {wasmReady} from 'tfjs-vision-ops/wasm';
import job from './job.cjs';

tf.env().set('IS_TEST', true);
if (layers.RoIAlign !== RoIAlignFromMain) throw new Error('tfjs-vision-ops/layers and the main entry export different RoIAlign classes');
const r = await job.run(tf, {nms, nmsAsync, roiAlign, generalizedBoxIouLoss}, {backends: ['cpu', 'wasm'], layers, wasmReady});
console.log('RESULT ' + JSON.stringify(r));
