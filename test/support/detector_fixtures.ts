/**
 * The detector fixture cases' models and weights (test/fixtures/detector*.json,
 * tools/fixtures_detector*.py), shared by test/detector.spec.ts and
 * test/detector_training.spec.ts.
 */
import {FasterRCNN, FasterRCNNOptions, fasterRcnnMobilenetV3LargeFpn, fasterRcnnResnet50Fpn}
  from '../../src/detection/index';
import {HostTensor} from '../../src/io/safetensors';
import {parseTorchCheckpoint} from '../../src/io/torch_checkpoint';
import {fixtureBytes} from './fixture_bytes';
import {formulaWeights} from './formula_weights';

/**
 * The state_dict of a detector fixture case (test/fixtures/detector*.json):
 * the entries of its .pth (args.pth: the box predictor, num_batches_tracked)
 * and every args.weights entry [key, shape, offset, scale] by the formula.
 */
export async function fixtureStateDict(args: {pth: string, weights: Array<[string, number[], number, number]>}):
    Promise<Record<string, HostTensor>> {
  const state: Record<string, HostTensor> = {...parseTorchCheckpoint(await fixtureBytes(args.pth)).tensors};
  for (const [key, shape, offset, scale] of args.weights) {
    const n = shape.reduce((a, b) => a * b, 1);
    state[key] = {shape, dtype: 'float32', values: formulaWeights(key, n, offset, scale), sourceDtype: 'F32'};
  }
  return state;
}

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** The model of a detector fixture case: its torchvision builder's name and kwargs (camelCased into options). */
export function fixtureDetector(args: {builder: string, kwargs: Record<string, number>}): FasterRCNN {
  const options = Object.fromEntries(Object.entries(args.kwargs).map(([k, v]) => [camel(k), v])) as FasterRCNNOptions;
  if (args.builder === 'fasterrcnn_resnet50_fpn') return fasterRcnnResnet50Fpn(options);
  if (args.builder === 'fasterrcnn_mobilenet_v3_large_fpn') return fasterRcnnMobilenetV3LargeFpn(options);
  throw new Error(`unknown builder ${args.builder}`);
}
