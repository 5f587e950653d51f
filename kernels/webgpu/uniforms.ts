/** The WGSL form of a uniform block of kernels/gpu/uniforms.ts. */
import {UniformFields, uniformValues, UniformValues} from '../gpu/uniforms.ts';

export type ProgramUniforms = Array<{type: string, data: number[]}>;

const WGSL_TYPES = {int: 'i32', float: 'f32'} as const;
const DATA_TYPES = {int: 'int32', float: 'float32'} as const;

/** The members of the program's `uniforms` struct. */
export function wgslUniforms(fields: UniformFields): string {
  return Object.entries(fields).map(([name, type]) => `${name} : ${WGSL_TYPES[type]},`).join(' ');
}

/** programUniforms for runWebGPUProgram. */
export function wgslValues(program: string, fields: UniformFields, values: UniformValues): ProgramUniforms {
  return uniformValues(program, fields, values).map(([type, value]) => ({type: DATA_TYPES[type], data: [value]}));
}
