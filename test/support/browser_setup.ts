/**
 * Chromium test setup: the backend karma names. tools/test-all.mjs bundles
 * this with every test/*.spec.ts into one file.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import {setWasmPaths} from '@tensorflow/tfjs-backend-wasm';
import '../../src/index';
import '../../kernels/wasm/register';
import '../../kernels/webgl/register';
import '../../kernels/webgpu/register';
import {useBackend} from './backend';

const name = (window as any).__karma__.config.args[0] as string;
setWasmPaths('/base/node_modules/@tensorflow/tfjs-backend-wasm/dist/');

beforeAll(async () => {
  await useBackend(name);
}, 120000);
