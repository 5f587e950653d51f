import {engine, GradConfig, NamedAttrMap, Tensor, zerosLike} from '@tensorflow/tfjs-core';
import {DifferentiableDecl} from '../src/kernel_names.ts';

const inputName = (name: string) => name.replace(/\?$/, '');

/**
 * The gradient config of a declared kernel: saves its inputs, runs its
 * `*Grad` kernel once on dy, those inputs and the forward attributes (a
 * `<input>Shape` attribute gets that input's shape), and hands each of the
 * grad kernel's outputs to its input; the other inputs (boxes) get zeros, as
 * in torchvision. The grad kernel runs eagerly in the engine's backward scope,
 * which disposes the gradients nobody asks for.
 */
export function gradConfigOf(decl: DifferentiableDecl): GradConfig {
  const inputs = decl.inputs.map(inputName);
  const {grad} = decl;
  return {
    kernelName: decl.name,
    inputsToSave: inputs,
    gradFunc: (dy: Tensor|Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const byName = new Map(inputs.map((name, i) => [name, saved[i]]));
      const gradInputs = Object.fromEntries(grad.inputs.map(inputName).map(
          name => [name, name === 'dy' ? dy as Tensor : byName.get(name)!]));
      const gradAttrs: NamedAttrMap = {...attrs};
      for (const [name, kind] of Object.entries(grad.attrs)) {
        if (kind === 'shape' && !(name in attrs)) gradAttrs[name] = byName.get(name.replace(/Shape$/, ''))!.shape;
      }
      const result = engine().runKernel(grad.name, gradInputs, gradAttrs) as Tensor|Tensor[];
      const outputs = Array.isArray(result) ? result : [result];
      return Object.fromEntries(inputs.map(name => {
        const k = grad.outputs.indexOf(name);
        return [name, k >= 0 ? () => outputs[k] : () => zerosLike(byName.get(name)!)];
      }));
    },
  };
}
