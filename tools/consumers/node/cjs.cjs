// node-cjs: the same consumer with require().
const tf = require('@tensorflow/tfjs');
require('@tensorflow/tfjs-backend-wasm');
const {nms, nmsAsync, roiAlign, generalizedBoxIouLoss, RoIAlign: RoIAlignFromMain} = require('tfjs-vision-ops');
const layers = require('tfjs-vision-ops/layers');
const {wasmReady} = require('tfjs-vision-ops/wasm');
const job = require('./job.cjs');

tf.env().set('IS_TEST', true);
if (layers.RoIAlign !== RoIAlignFromMain) throw new Error('tfjs-vision-ops/layers and the main entry export different RoIAlign classes');
job.run(tf, {nms, nmsAsync, roiAlign, generalizedBoxIouLoss}, {backends: ['cpu', 'wasm'], layers, wasmReady})
    .then(r => console.log('RESULT ' + JSON.stringify(r)), e => { console.error(e); process.exit(1); });
