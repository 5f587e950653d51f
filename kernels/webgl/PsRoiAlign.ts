import {KernelFunc, util} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {PsRoiAlign, PsRoiAlignAttrs, PsRoiAlignInputs} from '../../src/kernel_names.ts';
import {PsRoiAlignProgram} from './ps_roi_gpu.ts';
import {assertWebGL2, roiAlignUniforms, zerosWebGL} from './RoiAlign.ts';

export const psRoiAlignWebGL: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, boxes} = inputs as PsRoiAlignInputs;
  const p = attrs as unknown as PsRoiAlignAttrs;
  const webgl = backend as MathBackendWebGL;
  assertWebGL2(PsRoiAlign);
  const outShape = [boxes.shape[0], p.pooledHeight, p.pooledWidth, x.shape[3] / (p.pooledHeight * p.pooledWidth)];
  if (util.sizeFromShape(outShape) === 0 || util.sizeFromShape(x.shape) === 0) return zerosWebGL(webgl, outShape);
  return webgl.runWebGLProgram(new PsRoiAlignProgram(outShape), [x, boxes], 'float32',
      roiAlignUniforms(x.shape, boxes.shape[0], {...p, aligned: true}));
};
