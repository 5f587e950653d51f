/**
 * End to end against the real torchvision: Faster R-CNN's box branch
 * (FeaturePyramidNetwork + LastLevelMaxPool, MultiScaleRoIAlign, TwoMLPHead)
 * as one tfjs model, its weights imported from a torchvision state_dict saved
 * as safetensors, in both data formats.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor} from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as vision from '../src/index';
import layersFixture from './fixtures/layers.json';
import {casesOf, expectTensorClose, Fixture, fixtureTensor} from './support/helpers';
import {fixtureBytes} from './support/fixture_bytes';
import {inFormat} from './support/layers';
import {backendTolerance} from './support/helpers';
import {GPU_BACKENDS, Tolerance} from './support/tolerances';

const [c] = casesOf(layersFixture as Fixture, 'faster_rcnn_box_branch');
type Args = {safetensors: string, image_shape: [number, number], featmap_names: string[], output_size: number,
  sampling_ratio: number, canonical_scale: number, canonical_level: number, representation_size: number};
const args = c.args as unknown as Args;

/** 1e-4 where the math runs in float32 on the host; the GPU tolerance on webgl and webgpu. */
function tolerance(): Tolerance {
  return GPU_BACKENDS.includes(tf.getBackend()) ? backendTolerance() : {atol: 1e-4, rtol: 1e-4};
}

function boxBranch(dataFormat: 'channelsFirst'|'channelsLast', numBoxes: number) {
  const first = dataFormat === 'channelsFirst';
  const maps = [[8, 16], [16, 8], [32, 4]].map(([ch, s]) => tfl.input({shape: first ? [ch, s, s] : [s, s, ch]}));
  const boxes = tfl.input({shape: [numBoxes, 4]});
  const pyramid = new vision.FeaturePyramidNetwork({name: 'fpn', inChannelsList: [8, 16, 32], outChannels: 16,
    extraBlocks: 'lastLevelMaxPool', dataFormat}).apply(maps) as tfl.SymbolicTensor[];
  const pooled = new vision.MultiScaleRoIAlign({featmapNames: args.featmap_names, outputSize: args.output_size,
    samplingRatio: args.sampling_ratio, canonicalScale: args.canonical_scale, canonicalLevel: args.canonical_level,
    imageShape: args.image_shape, dataFormat}).apply([...pyramid.slice(0, 3), boxes]) as tfl.SymbolicTensor;
  const size = args.output_size;
  const flat = tfl.layers.reshape({targetShape: [numBoxes, 16 * size * size]}).apply(pooled);
  const fc6 = tfl.layers.dense({name: 'fc6', units: args.representation_size, activation: 'relu'}).apply(flat);
  const fc7 = tfl.layers.dense({name: 'fc7', units: args.representation_size, activation: 'relu'}).apply(fc6);
  return tfl.model({inputs: [...maps, boxes], outputs: [...pyramid, pooled, fc7 as tfl.SymbolicTensor]});
}

describe('Faster R-CNN box branch from a torchvision safetensors state_dict', () => {
  for (const dataFormat of ['channelsLast', 'channelsFirst'] as const) {
    it(`FPN + MultiScaleRoIAlign + TwoMLPHead, ${dataFormat}`, async () => {
      const {tensors, metadata} = vision.parseSafetensors(await fixtureBytes(args.safetensors));
      expect(metadata.format).toBe('pt');
      const boxes = fixtureTensor(c.inputs.boxes);
      const [n, k] = boxes.shape;
      const model = boxBranch(dataFormat, k);
      const report = vision.loadTorchvisionWeights(model, tensors, {
        prefixes: {fpn: 'backbone.fpn', fc6: 'roi_heads.box_head.fc6', fc7: 'roi_heads.box_head.fc7'},
        // Flattened RoI features are (7, 7, C) in channelsLast, (C, 7, 7) as in torch otherwise.
        linearFromNchw: dataFormat === 'channelsLast' ? {fc6: [16, args.output_size, args.output_size]} : {},
      });
      expect(report.unused).toEqual([]);
      expect(report.loaded.sort()).toEqual(Object.keys(tensors).sort());
      const maps = ['x0', 'x1', 'x2'].map(name => inFormat(c.inputs[name], dataFormat));
      const outs = model.predict([...maps, boxes]) as Tensor[];
      const tol = tolerance();
      try {
        const names = ['0', '1', '2', 'pool'];
        for (let i = 0; i < 4; i++) {
          const expected = inFormat(c.outputs![i], dataFormat);
          await expectTensorClose(outs[i], expected, tol, `FPN '${names[i]}'`);
          expected.dispose();
        }
        const pooled = tf.reshape(outs[4], [n * k, ...outs[4].shape.slice(2)]);
        const expectedPooled = inFormat(c.outputs![4], dataFormat);
        await expectTensorClose(pooled, expectedPooled, tol, 'MultiScaleRoIAlign');
        const head = tf.reshape(outs[5], [n * k, args.representation_size]);
        await expectTensorClose(head, c.outputs![5], tol, 'TwoMLPHead');
        tf.dispose([pooled, expectedPooled, head]);
      } finally {
        tf.dispose([...outs, ...maps, boxes]);
        model.dispose();
      }
    });
  }

  it('the safetensors file is a small, plain float32 state_dict', async () => {
    const bytes = await fixtureBytes(args.safetensors);
    expect(bytes.length).toBeLessThan(1_000_000);
    const {tensors} = vision.parseSafetensors(bytes);
    expect(Object.keys(tensors)).toContain('backbone.fpn.inner_blocks.0.0.weight');
    expect(tensors['backbone.fpn.inner_blocks.0.0.weight'].shape).toEqual([16, 8, 1, 1]);
    expect(tensors['roi_heads.box_head.fc6.weight'].shape).toEqual([32, 16 * 7 * 7]);
    expect(Object.values(tensors).every(t => t.sourceDtype === 'F32')).toBe(true);
  });
});
