// tfjs-node consumer: backend 'tensorflow' with `import 'tfjs-vision-ops/node'`, cpu as reference.
import * as tf from '@tensorflow/tfjs-node';
import * as vision from 'tfjs-vision-ops';
import * as layers from 'tfjs-vision-ops/layers';
import {tensorflowImplementation} from 'tfjs-vision-ops/node';
import job from './job.cjs';

tf.env().set('IS_TEST', true);
if (tf.getBackend() !== 'tensorflow') throw new Error(`tfjs-node gave backend ${tf.getBackend()}`);
const r = await job.run(tf, vision, {backends: ['tensorflow'], layers, layersEverywhere: true});
// Built by `npx tfjs-vision-ops-build-native` in this project: the kernels run as TensorFlow ops.
if (tensorflowImplementation() !== 'native') throw new Error(`kernels ran as ${tensorflowImplementation()}, not native`);
console.log('RESULT ' + JSON.stringify(r));
