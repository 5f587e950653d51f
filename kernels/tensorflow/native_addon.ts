/**
 * Loads the package's TensorFlow op library (kernels/tensorflow/native, built
 * by tools/build-native.mjs into .build/native/vision_ops_tf.node of the
 * package) into the process that already runs tfjs-node: it links the
 * libtensorflow_framework.so.2 that tfjs-node loaded and registers its ops
 * there. Node runs this package's CommonJS build (the "node" condition of its
 * exports), so __dirname locates the package.
 */
import fs from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import type {VisionOpsAddon} from './runners.ts';

/** Where the build puts the library, relative to the package root. */
export const NATIVE_ADDON_PATH = '.build/native/vision_ops_tf.node';

function packageRoot(): string {
  if (typeof __dirname !== 'string') throw new Error('not running as CommonJS (no __dirname)');
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file) && JSON.parse(fs.readFileSync(file, 'utf8')).name === 'tfjs-vision-ops') return dir;
    if (path.dirname(dir) === dir) throw new Error('the tfjs-vision-ops package root was not found');
  }
}

let loaded: VisionOpsAddon|null = null;

/** The library, loaded once; throws (a message saying why) where it is missing or does not load. */
export function loadNativeAddon(): VisionOpsAddon {
  if (loaded != null) return loaded;
  const file = path.join(packageRoot(), NATIVE_ADDON_PATH);
  if (!fs.existsSync(file)) throw new Error(`${file} is not built (npm run build:native)`);
  const addon = createRequire(file)(file) as VisionOpsAddon;
  if (!Array.isArray(addon.ops) || typeof addon.pure !== 'function' || addon.signatures == null) {
    throw new Error(`${file} is not this package's op library`);
  }
  loaded = addon;
  return addon;
}
