/**
 * `import 'tfjs-vision-ops/node'`: registers this package's kernels for
 * tfjs-node (the 'tensorflow' backend). Host path: these kernels read their
 * inputs into host memory and run the shared reference math (tfjs-node keeps
 * tensors in host memory, so this is one copy in and one out).
 *
 * @module tfjs-vision-ops/node
 */
import {cpuKernelTable} from '../cpu/register.ts';
import {KernelTable, registerKernels} from '../register_all.ts';

export type {KernelTable} from '../register_all.ts';

export const tensorflowKernelTable: KernelTable = cpuKernelTable;
/** tfjs kernel configs of the table, registered on import. */
export const tensorflowKernels = registerKernels('tensorflow', tensorflowKernelTable);
