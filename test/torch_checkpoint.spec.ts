/**
 * parseTorchCheckpoint on files written by the real torch.save (tools/fixtures_torch_checkpoint.py):
 * every storage type, views, shared storages, a nested checkpoint, nn.Parameters, and loading the result.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import * as vision from '../src/index';
import expected from './fixtures/torch_checkpoint/expected.json';
import {fixtureBytes} from './support/fixture_bytes';
import {FixtureTensor, fixtureValues} from './support/helpers';

type Expected = {archive: string; tensors: Record<string, FixtureTensor & {source: string}>};
const FILES = expected.files as unknown as Record<string, Expected>;

const parseFixture = async (file: string) =>
  vision.parseTorchCheckpoint(await fixtureBytes(`torch_checkpoint/${file}`));

describe('parseTorchCheckpoint on torch.save files', () => {
  for (const [file, want] of Object.entries(FILES)) {
    it(`${file}: every tensor, in order, with torch's values`, async () => {
      const {tensors} = await parseFixture(file);
      expect(Object.getPrototypeOf(tensors)).toBe(null);
      expect(Object.keys(tensors)).toEqual(Object.keys(want.tensors));
      for (const [key, t] of Object.entries(want.tensors)) {
        const got = tensors[key];
        expect([key, got.shape, got.dtype, got.sourceDtype]).toEqual([key, t.shape, t.dtype, t.source]);
        // exact: float16/bfloat16/float64 -> float32 rounds as numpy's astype does
        expect(Array.from(got.values)).toEqual(Array.from(fixtureValues(t)));
      }
    });
  }

  it('reads every storage type, a scalar and an empty tensor', async () => {
    const {tensors} = await parseFixture('state_dict.pth');
    const sources = Object.values(tensors).map(t => t.sourceDtype);
    for (const s of ['F32', 'F64', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL']) {
      expect(sources).toContain(s);
    }
    expect(Array.from(tensors['extra.f16'].values)).toEqual([1, -2.5, 65504, 2 ** -24]);
    expect(Array.from(tensors['extra.i64'].values)).toEqual([5, -7, 2 ** 31 - 1, -(2 ** 31)]);
    expect([tensors['extra.i64'].dtype, tensors['extra.bool'].dtype, tensors['extra.u8'].dtype])
        .toEqual(['int32', 'bool', 'int32']);
    expect([tensors['extra.scalar'].shape, Array.from(tensors['extra.scalar'].values)]).toEqual([[], [2.75]]);
    expect([tensors['extra.empty'].shape, tensors['extra.empty'].values.length]).toEqual([[0, 3], 0]);
    expect(Array.from(tensors['1.num_batches_tracked'].values)).toEqual([7]);
  });

  it('materialises views: transpose, offset slice, shared storage, stride 0, channels_last', async () => {
    const {tensors} = await parseFixture('views.pth');
    expect(Array.from(tensors.transposed.values)).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    expect(Array.from(tensors.offset_slice.values)).toEqual([5, 6, 9, 10]);
    expect(Array.from(tensors['shared.row1'].values)).toEqual(Array.from(tensors['shared.a'].values).slice(4, 8));
    expect(tensors['shared.row1'].values.buffer).not.toBe(tensors['shared.a'].values.buffer);
    expect(Array.from(tensors.expanded.values)).toEqual([7, 7, 7, -1, -1, -1]);
  });

  it('takes the state_dict of a checkpoint dict and ignores the optimizer, epoch and hparams', async () => {
    const {tensors} = await parseFixture('checkpoint.pth');
    expect(Object.keys(tensors)).toEqual(['0.weight', '1.weight', '1.bias', '1.running_mean', '1.running_var',
      '1.num_batches_tracked']);
  });

  it('reads an ArrayBuffer and a view into a larger buffer', async () => {
    const bytes = await fixtureBytes('torch_checkpoint/parameters.pth');
    const want = Array.from(vision.parseTorchCheckpoint(bytes).tensors['1.bias'].values);
    expect(Array.from(vision.parseTorchCheckpoint(bytes.slice().buffer).tensors['1.bias'].values)).toEqual(want);
    const big = new Uint8Array(bytes.length + 40).fill(0xee);
    big.set(bytes, 24);
    expect(Array.from(vision.parseTorchCheckpoint(big.subarray(24, 24 + bytes.length)).tensors['1.bias'].values))
        .toEqual(want);
  });

  it('loads into tfjs layers with loadTorchvisionWeights', async () => {
    const {tensors} = await parseFixture('parameters.pth');
    const input = tfl.input({shape: [5, 5, 2]});
    const conv = tfl.layers.conv2d({name: 'conv', filters: 3, kernelSize: 3, useBias: false});
    const bn = tfl.layers.batchNormalization({name: 'bn'});
    const model = tfl.model({inputs: input, outputs: bn.apply(conv.apply(input)) as tfl.SymbolicTensor});
    try {
      const report = vision.loadTorchvisionWeights(model, tensors, {prefixes: {conv: '0', bn: '1'}});
      expect(report.unused).toEqual(['1.num_batches_tracked']);
      const oihw = tensors['0.weight'].values;
      const kernel = await conv.getWeights()[0].array() as number[][][][];
      // HWIO [h][w][i][o] = OIHW [o][i][h][w]
      expect(kernel[2][1][1][0]).toBe(oihw[((0 * 2 + 1) * 3 + 2) * 3 + 1]);
      expect(kernel[0][2][0][2]).toBe(oihw[((2 * 2 + 0) * 3 + 0) * 3 + 2]);
      expect(Array.from(await bn.getWeights()[3].data())).toEqual(Array.from(tensors['1.running_var'].values));
    } finally {
      model.dispose();
    }
  });
});
