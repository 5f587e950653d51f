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

// The spec set against another tfjs version (TFJS_MODULES): prove it is that version.
const expected = process.env.TFJS_VERSION;
if (expected != null) {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const {version_core} = require('@tensorflow/tfjs-core');
  const {version_wasm} = require('@tensorflow/tfjs-backend-wasm');
  if (version_core !== expected || version_wasm !== expected) {
    throw new Error(`expected tfjs ${expected}, resolved tfjs-core ${version_core}, tfjs-backend-wasm ${version_wasm}`);
  }
}
