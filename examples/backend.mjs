// The backend an example runs on: `requested` (cpu, wasm or tensorflow), or when none is given
// tensorflow where tfjs-node is built (`npm run setup:node-backend`), wasm otherwise.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import {wasmReady} from 'tfjs-vision-ops/wasm';
import {createRequire} from 'node:module';

/** Sets the backend (exit 1 with a message naming `example` when it cannot). */
export async function chooseBackend(example, requested) {
  if (requested == null || requested === 'tensorflow') {
    try {
      createRequire(import.meta.url)('@tensorflow/tfjs-node');
      await import('tfjs-vision-ops/node');
      if (await tf.setBackend('tensorflow')) return;
    } catch {
      if (requested === 'tensorflow') {
        console.error(`${example}: the tensorflow backend needs tfjs-node: npm run setup:node-backend`);
        process.exit(1);
      }
    }
  }
  if (!(await tf.setBackend(requested ?? 'wasm'))) {
    console.error(`${example}: backend ${requested ?? 'wasm'} failed to initialise`);
    process.exit(1);
  }
  if (tf.getBackend() === 'wasm') await wasmReady();
}
