import '@tensorflow/tfjs-backend-cpu';
import '../../src/index';
import {useBackend} from './backend';

const name = process.env.TFJS_BACKEND;
if (name == null) throw new Error('set TFJS_BACKEND to cpu, wasm or tensorflow');
if (name === 'wasm') {
  require('@tensorflow/tfjs-backend-wasm');
} else if (name === 'tensorflow') {
  require('@tensorflow/tfjs-node');
  require('../../kernels/tensorflow/register');
}

beforeAll(async () => {
  await useBackend(name);
});
