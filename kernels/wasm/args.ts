import {KernelDecl, scalarAttrs} from '../../src/kernel_names.ts';
import {int32Fields} from './call.ts';

/**
 * A kernel's scalar attributes in declared order (bool as 0/1, int checked to
 * fit int32): the trailing arguments of every export of our module, so that
 * adding an attribute needs no edit here or in the kernel files.
 */
export function attrArgs(kernel: string, decl: Pick<KernelDecl, 'attrs'>, attrs: object): number[] {
  const values = attrs as Record<string, unknown>;
  return scalarAttrs(decl.attrs).map(([name, kind]) => {
    const value = values[name];
    if (kind === 'bool') return value ? 1 : 0;
    if (kind === 'int') return int32Fields(kernel, {[name]: value as number})[0];
    return value as number;
  });
}
