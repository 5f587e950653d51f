/** The GLSL form of a uniform block of kernels/gpu/uniforms.ts. */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import {UniformFields, uniformValues, UniformValues} from '../gpu/uniforms.ts';

export type CustomUniform = NonNullable<GPGPUProgram['customUniforms']>[number];

export function glslUniforms(fields: UniformFields): CustomUniform[] {
  return Object.entries(fields).map(([name, type]) => ({name, type}));
}

/** customUniformValues for runWebGLProgram. */
export function glslValues(program: string, fields: UniformFields, values: UniformValues): number[][] {
  return uniformValues(program, fields, values).map(([, value]) => [value]);
}
