/**
 * `npm run bench`: medians of this package's ops on each Node backend, beside
 * the tfjs composite a user would write instead and torchvision (Debian's
 * python3-torchvision, when installed) timed in the same run. Writes
 * bench/results/latest.json and latest.md.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '../src/index';
import {wasmReady} from '../kernels/wasm/register';
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import {BenchRow, formatTable} from './harness';
import * as focal from './cases/sigmoid_focal_loss';

function torchvisionTimes(cases: string[]): Record<string, Record<string, number>> {
  const r = spawnSync('/usr/bin/python3', ['bench/torchvision_bench.py', ...cases], {encoding: 'utf8'});
  if (r.status !== 0) {
    console.warn('torchvision not available (install Debian python3-torchvision to compare):',
        (r.stderr || String(r.error)).trim().split('\n').pop());
    return {};
  }
  return JSON.parse(r.stdout);
}

async function main() {
  const rows: BenchRow[] = [];
  const torch = torchvisionTimes([focal.NAME])[focal.NAME];
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    if (backend === 'wasm') await wasmReady();
    console.log(`${focal.NAME} on ${backend} ...`);
    const r = await focal.run();
    rows.push({case: focal.NAME, backend, variant: 'forward', median_ms: r.forward.median,
      baseline: 'tf ops composite', baseline_ms: r.compositeForward.median});
    rows.push({case: focal.NAME, backend, variant: 'forward+backward', median_ms: r.forwardBackward.median,
      baseline: 'tf ops composite', baseline_ms: r.compositeForwardBackward.median});
    if (torch != null) {
      rows.push({case: focal.NAME, backend, variant: 'forward', median_ms: r.forward.median,
        baseline: 'torchvision 0.14 (1 thread)', baseline_ms: torch.forward_ms});
      rows.push({case: focal.NAME, backend, variant: 'forward+backward', median_ms: r.forwardBackward.median,
        baseline: 'torchvision 0.14 (1 thread)', baseline_ms: torch.forward_backward_ms});
    }
  }
  const table = formatTable(rows);
  console.log(table);
  fs.mkdirSync('bench/results', {recursive: true});
  const meta = {date: new Date().toISOString(), node: process.version, cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model};
  fs.writeFileSync('bench/results/latest.json', JSON.stringify({meta, rows}, null, 2) + '\n');
  fs.writeFileSync('bench/results/latest.md',
      `Measured ${meta.date} on ${meta.cpus} cores (${meta.cpu}), Node ${meta.node}.\n\n${table}\n`);
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
