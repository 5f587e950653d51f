import {KernelConfig, registerKernel, getKernel} from '@tensorflow/tfjs-core';

/** Registers kernel configs once (importing a backend entry twice is harmless). */
export function registerKernels(configs: KernelConfig[]) {
  for (const config of configs) {
    if (getKernel(config.kernelName, config.backendName) == null) {
      registerKernel(config);
    }
  }
}
