/**
 * Selects the backend under test, once, before any spec: TFJS_BACKEND in Node
 * (jest), the karma client argument in Chromium. The engine's leak check is on.
 */
import * as tf from '@tensorflow/tfjs-core';

export async function useBackend(name: string) {
  tf.env().set('IS_TEST', true);
  if (name === 'wasm') {
    const {wasmReady} = await import('../../kernels/wasm/register');
    if (!(await tf.setBackend('wasm'))) throw new Error('backend wasm failed to initialise');
    await wasmReady();
  } else if (!(await tf.setBackend(name))) {
    throw new Error(`backend ${name} failed to initialise`);
  }
  if (tf.getBackend() !== name) throw new Error(`active backend is ${tf.getBackend()}, not ${name}`);
}
