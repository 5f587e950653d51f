/** Parity with the real torchvision: every fixture case, forward and input gradients. */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor} from '@tensorflow/tfjs-core';
import boxOps from './fixtures/box_ops.json';
import losses from './fixtures/losses.json';
import {expectNoLeak, expectTensorClose, Fixture, FixtureCase, fixtureTensor, gradsOf} from './support/helpers';
import {OPS} from './support/op_table';
import {GPU_BACKENDS, GPU_TRIG_TOLERANCE, Tolerance} from './support/tolerances';

const ROTATED = ['xywhr', 'cxcywhr', 'xyxyxyxy'];

function caseTolerance(c: FixtureCase): Tolerance | undefined {
  const trig = c.op === 'box_convert' && ROTATED.includes(c.args.in_fmt as string);
  return trig && GPU_BACKENDS.includes(tf.getBackend()) ? GPU_TRIG_TOLERANCE : undefined;
}

async function checkCase(c: FixtureCase) {
  const tol = caseTolerance(c);
  const run = OPS[c.op];
  if (run == null) throw new Error(`no mapping for fixture op ${c.op}`);
  const names = Object.keys(c.inputs);
  const inputs = names.map(n => fixtureTensor(c.inputs[n]));
  try {
    await expectNoLeak(() => run(c.args, ...inputs),
        out => expectTensorClose(out, c.output!, tol, `${c.op} output`));
    if (c.grads != null) {
      const wrt = names.filter(n => c.grads![n] != null);
      const dy = fixtureTensor(c.dy!);
      await expectNoLeak(() => gradsOf((...xs) => {
        const all = names.map((n, i) => wrt.includes(n) ? xs[wrt.indexOf(n)] : inputs[i]);
        return run(c.args, ...all) as Tensor;
      }, wrt.map(n => inputs[names.indexOf(n)]), dy), async grads => {
        for (let i = 0; i < wrt.length; i++) {
          await expectTensorClose(grads[i], c.grads![wrt[i]], tol, `${c.op} d/d${wrt[i]}`);
        }
      });
      dy.dispose();
    }
  } finally {
    tf.dispose(inputs);
  }
}

for (const [file, fixture] of [['box_ops', boxOps], ['losses', losses]] as const) {
  describe(`torchvision fixtures: ${file}`, () => {
    for (const c of (fixture as Fixture).cases) {
      it(`${c.op} ${c.name}`, async () => { await checkCase(c); });
    }
  });
}
