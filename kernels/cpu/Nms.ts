import {KernelFunc} from '@tensorflow/tfjs-core';
import {NmsAttrs, NmsInputs} from '../../src/kernel_names.ts';
import {output, readValues} from '../host_kernel.ts';
import {nmsKeep} from '../reference/nms.ts';

export const nmsHost: KernelFunc = ({inputs, backend, attrs}) => {
  const {boxes, scores, idxs} = inputs as NmsInputs;
  const {iouThreshold} = attrs as unknown as NmsAttrs;
  const keep = nmsKeep(readValues(backend, boxes), readValues(backend, scores),
      idxs == null ? null : readValues(backend, idxs), iouThreshold);
  return output(backend, [keep.length], 'int32', keep);
};
