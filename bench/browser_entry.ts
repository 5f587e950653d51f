/**
 * `npm run bench` in headless Chromium: runs every case listing the page's
 * backend (?backend=webgl|webgpu|wasm), at ?size=full|tiny, and leaves the rows
 * in window.benchRows.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import {setWasmPaths} from '@tensorflow/tfjs-backend-wasm';
import '../src/index';
import {wasmReady} from '../kernels/wasm/register';
import '../kernels/webgl/register';
import '../kernels/webgpu/register';
import {CASES} from './cases/index';
import {BenchRow, BenchSize, capRepetitions} from './harness';

async function main() {
  const params = new URLSearchParams(location.search);
  const backend = params.get('backend')!;
  const only = params.getAll('case');
  const size = (params.get('size') ?? 'full') as BenchSize;
  const torchvision = JSON.parse(params.get('torchvision') ?? '{}');
  setWasmPaths('./');
  // Software GPUs (SwiftShader) are slow: medians of 3 keep the bench within 15 minutes.
  capRepetitions(1, 3);
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} is not available`);
  if (backend === 'wasm') await wasmReady();
  const rows: BenchRow[] = [];
  for (const c of CASES.filter(c => c.backends.includes(backend) && (only.length === 0 || only.includes(c.name)))) {
    console.log(`${c.name} on ${backend} (chromium) ...`);
    const label = backend === 'wasm' ? 'wasm (chromium)' : backend;
    rows.push(...(await c.run(backend, torchvision, size)).map(r => ({...r, backend: label})));
  }
  (window as any).benchRows = rows;
}

main().catch(e => {
  (window as any).benchError = String(e && e.stack || e);
});
