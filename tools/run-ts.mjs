#!/usr/bin/env node
// Runs a TypeScript entry (examples/, bench/) in Node: bundles it with esbuild,
// keeping node_modules external, then executes the bundle with the given args.
import {buildSync} from 'esbuild';
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const [entry, ...args] = process.argv.slice(2);
const out = path.join('.build', 'run', path.basename(entry).replace(/\.ts$/, '.cjs'));
fs.mkdirSync(path.dirname(out), {recursive: true});
buildSync({entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', target: 'node20',
  packages: 'external', outfile: out, logLevel: 'warning'});
const r = spawnSync(process.execPath, [out, ...args], {stdio: 'inherit'});
process.exit(r.status ?? 1);
