import {Nms, NmsInputs, nmsKernel} from '../../src/kernel_names.ts';
import {attrArgs} from './args.ts';
import {assertFloat32, ModuleKernel} from './call.ts';

/**
 * nms of our module: boxes, scores and idxs are read in place; the sort and
 * the grid live in the scratch; the kept indices (their count returned) are
 * copied into an output of their size.
 */
export const nmsModule: ModuleKernel = (run, {inputs, attrs}) => {
  const {boxes, scores, idxs} = inputs as NmsInputs;
  assertFloat32(run, Nms, 'boxes', boxes);
  assertFloat32(run, Nms, 'scores', scores);
  if (idxs != null && idxs.dtype !== 'int32') {
    throw new Error(`${Nms} (${run.backendName}): 'idxs' must be int32, got ${idxs.dtype}`);
  }
  const n = scores.shape[0];
  if (n === 0) return run.zeros([0], 'int32');
  const {outputs: [kept], returned: count} = run.run({
    fn: 'nms',
    args: [{input: boxes}, {input: scores}, idxs == null ? 0 : {input: idxs}, idxs == null ? 0 : 1, n, {scratch: 0},
      {output: 0}, ...attrArgs(Nms, nmsKernel, attrs!)],
    outputs: [{shape: [n], dtype: 'int32', what: 'nms kept'}],
    scratchWords: run.size('nms_scratch_words', n),
    returns: true,
  });
  try {
    return run.head(kept, count);
  } finally {
    run.dispose(kept);
  }
};
