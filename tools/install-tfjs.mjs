#!/usr/bin/env node
/**
 * Installs tfjs-core, its cpu, wasm, webgl and webgpu backends and tfjs-layers at one version
 * into .build/tfjs-<version>/ (from npm's cache where it can), so that the
 * Node spec set can run against it: `TFJS_MODULES=.build/tfjs-<v>/node_modules`
 * makes jest resolve every @tensorflow/* import there (see jest.config.js).
 * Prints the node_modules path. Usage: node tools/install-tfjs.mjs 4.20.0
 */
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const version = process.argv[2];
if (!/^\d+\.\d+\.\d+$/.test(version ?? '')) {
  console.error('usage: node tools/install-tfjs.mjs <version, e.g. 4.20.0>');
  process.exit(2);
}
const PACKAGES = ['tfjs-core', 'tfjs-backend-cpu', 'tfjs-backend-wasm', 'tfjs-backend-webgl', 'tfjs-backend-webgpu', 'tfjs-layers'];
const dir = path.resolve('.build', `tfjs-${version}`);
const modules = path.join(dir, 'node_modules');
const installed = PACKAGES.every(p => {
  const file = path.join(modules, '@tensorflow', p, 'package.json');
  return fs.existsSync(file) && JSON.parse(fs.readFileSync(file, 'utf8')).version === version;
});
if (!installed) {
  fs.rmSync(dir, {recursive: true, force: true});
  fs.mkdirSync(dir, {recursive: true});
  const dependencies = Object.fromEntries(PACKAGES.map(p => [`@tensorflow/${p}`, version]));
  fs.writeFileSync(path.join(dir, 'package.json'),
      JSON.stringify({name: `tfjs-${version}`, private: true, dependencies}, null, 2) + '\n');
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts',
    '--loglevel=error'], {cwd: dir, stdio: ['ignore', 'inherit', 'inherit']});
}
const cores = execFileSync('find', [modules, '-path', '*@tensorflow/tfjs-core/package.json']).toString().trim().split('\n');
if (cores.length !== 1) throw new Error(`expected one tfjs-core in ${modules}, found ${cores.length}`);
console.log(modules);
