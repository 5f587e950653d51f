// esbuild for the repo's own bundles of its sources (the demo, the bench, the
// TypeScript runner). esbuild applies package.json "sideEffects" to this
// package's own files too, so a source file missing there would have its bare
// imports (`import '../kernels/webgl/register.ts'`: kernel registration)
// silently dropped from the bundle. bundle() checks that the files named in
// `mustInclude` made it into the output and fails loudly otherwise.
import {build} from 'esbuild';
import path from 'node:path';

/**
 * Builds with esbuild options `options` (bundle, one outfile); throws unless
 * each path in mustInclude (relative to the current directory, the repository
 * root) is in the output. Returns the output's size in bytes.
 */
export async function bundle(options, mustInclude = []) {
  const result = await build({logLevel: 'warning', ...options, bundle: true, metafile: true});
  const [output] = Object.values(result.metafile.outputs);
  const inputs = new Set(Object.keys(output.inputs).map(p => path.relative(process.cwd(), path.resolve(p))));
  const missing = mustInclude.filter(p => !inputs.has(p));
  if (missing.length) {
    throw new Error(`${options.outfile} lacks ${missing.join(', ')} (is each in package.json "sideEffects"?)`);
  }
  return output.bytes;
}
