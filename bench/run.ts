/**
 * `npm run bench`: medians of this package's ops on each Node backend, beside
 * the tfjs op a user would use instead and torchvision (Debian's
 * python3-torchvision, when installed) timed in the same run. Writes
 * bench/results/latest.json and latest.md. `npm run bench -- NAME...` runs
 * only the named cases.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '../src/index';
import {wasmReady} from '../kernels/wasm/register';
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import {CASES} from './cases/index';
import {BenchRow, formatTable} from './harness';

function torchvisionTimes(cases: string[]): Record<string, Record<string, number>> {
  if (cases.length === 0) return {};
  const r = spawnSync('/usr/bin/python3', ['bench/torchvision_bench.py', ...cases], {encoding: 'utf8'});
  if (r.status !== 0) {
    console.warn('torchvision not timed (install Debian python3-torchvision to compare):',
        (r.stderr || String(r.error)).trim().split('\n').pop());
    return {};
  }
  return JSON.parse(r.stdout);
}

async function main() {
  const only = process.argv.slice(2);
  const cases = CASES.filter(c => only.length === 0 || only.includes(c.name));
  const torchvision = torchvisionTimes(cases.flatMap(c => c.torchvisionCases));
  const rows: BenchRow[] = [];
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    if (backend === 'wasm') await wasmReady();
    for (const c of cases.filter(c => c.backends.includes(backend))) {
      console.log(`${c.name} on ${backend} ...`);
      rows.push(...await c.run(backend, torchvision));
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
