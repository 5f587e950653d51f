#!/usr/bin/env node
// Runs a TypeScript entry (examples/, bench/) in Node: bundles it with esbuild,
// keeping node_modules external, then executes the bundle with the given args.
// Usage: node tools/run-ts.mjs ENTRY.ts [ARG...]
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {bundle} from './bundle.mjs';

const [entry, ...args] = process.argv.slice(2);
if (entry == null || !entry.endsWith('.ts') || !fs.existsSync(entry)) {
  console.error(`run-ts: error: ${entry == null ? 'no entry given' : `no TypeScript file ${entry}`}\n` +
      'Usage: node tools/run-ts.mjs ENTRY.ts [ARG...]');
  process.exit(2);
}
const out = path.join('.build', 'run', path.basename(entry).replace(/\.ts$/, '.cjs'));
fs.mkdirSync(path.dirname(out), {recursive: true});
await bundle({entryPoints: [entry], platform: 'node', format: 'cjs', target: 'node20',
  packages: 'external', outfile: out}, entry.startsWith('bench/') ? ['kernels/cpu/register.ts', 'gradients/register.ts',
  'kernels/wasm/register.ts'] : []);
const r = spawnSync(process.execPath, [out, ...args], {stdio: 'inherit'});
process.exit(r.status ?? 1);
