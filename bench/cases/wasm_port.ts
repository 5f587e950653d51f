/**
 * The wasm module before and after its kernels moved from AssemblyScript to C
 * (issue 13), in the same run: the AssemblyScript build of dfe5912
 * (bench/baselines/) and today's module on one WebAssembly.Memory, export by
 * export on the same inputs, calls alternating. Only the exports whose
 * arguments did not change since (the focal loss's gradient and deformConv2d
 * did). Node only: the baseline is read from disk.
 */
import fs from 'node:fs';
import {moduleOnMemory, VisionOpsWasm} from '../../kernels/wasm/instance';
import {BenchCase, BenchRow, BenchSize} from '../harness';

const NAME = 'wasm_port';
const BASELINE_FILE = 'bench/baselines/vision_ops_assemblyscript_dfe5912.wasm';
const BASELINE = 'AssemblyScript module (dfe5912, before the port)';
/** The inputs: roiAlign's bench case, its psRoiAlign (C = 490, K = 256), nms, and the focal loss. */
const DIMS = {
  full: {batch: 2, side: 64, channels: 256, boxes: 512, psChannels: 490, psBoxes: 256, nms: 5000, focal: 8000000,
    queries: 300},
  tiny: {batch: 2, side: 8, channels: 8, boxes: 8, psChannels: 49, psBoxes: 4, nms: 200, focal: 1000, queries: 4},
};

/** The calls, given the module and the inputs' addresses. */
type Calls = Record<string, (m: VisionOpsWasm) => void>;

function setUp(memory: WebAssembly.Memory, size: BenchSize): Calls {
  const d = DIMS[size];
  let end = 1024;
  let seed = 1;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const words = (n: number) => {
    const at = end;
    end += Math.ceil(n / 16) * 64;
    if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
    return at;
  };
  const filled = (n: number, f: (i: number) => number) => {
    const at = words(n);
    const a = new Float32Array(memory.buffer, at, n);
    for (let i = 0; i < n; i++) a[i] = f(i);
    return at;
  };
  const ints = (values: number[]) => {
    const at = words(values.length);
    new Int32Array(memory.buffer, at, values.length).set(values);
    return at;
  };
  const {batch, side, channels: c, boxes: k, psChannels, psBoxes} = d;
  const image = side * 8;  // boxes of 1/32 to 9/32 of the image, at stride 8
  const x = filled(batch * side * side * c, () => random() - 0.5);
  const boxes = filled(k * 5, i => {
    const f = i % 5;
    return f === 0 ? Math.floor(random() * batch) : f < 3 ? random() * image * 0.7 : image * (0.03 + random() * 0.25);
  });
  // x2 = x1 + w, y2 = y1 + h.
  const b = new Float32Array(memory.buffer, boxes, k * 5);
  for (let i = 0; i < k; i++) [b[i * 5 + 3], b[i * 5 + 4]] = [b[i * 5 + 1] + b[i * 5 + 3], b[i * 5 + 2] + b[i * 5 + 4]];
  const pooled = words(k * 49 * c), dx = words(batch * side * side * c), scratch = words(8192);
  const psx = filled(batch * side * side * psChannels, () => random() - 0.5);
  const psPooled = words(psBoxes * psChannels), psDx = words(batch * side * side * psChannels);
  const n = d.nms;
  const nmsBoxes = filled(n * 4, i => i % 4 < 2 ? random() * 1000 : 0);
  const nb = new Float32Array(memory.buffer, nmsBoxes, n * 4);
  for (let i = 0; i < n; i++) [nb[i * 4 + 2], nb[i * 4 + 3]] = [nb[i * 4] + 1 + random() * 100, nb[i * 4 + 1] + 1 + random() * 100];
  const scores = filled(n, () => random()), nmsScratch = words(24 * n + 1024), kept = words(n);
  const focalX = filled(d.focal, () => (random() - 0.5) * 6), focalT = filled(d.focal, () => random() < 0.01 ? 1 : 0);
  const focalOut = words(d.focal);
  // msDeformAttn: 8 heads x 32 channels, levels 80/40/20 (a quarter of that at tiny), 4 points.
  const levels = size === 'full' ? [80, 40, 20] : [4, 2, 1];
  const spatial = levels.reduce((s, l) => s + l * l, 0), q = d.queries, samples = q * 8 * 3 * 4;
  const value = filled(spatial * 8 * 32, () => random() - 0.5);
  const shapes = ints(levels.flatMap(l => [l, l]));
  const starts = ints([0, levels[0] ** 2, levels[0] ** 2 + levels[1] ** 2]);
  const locations = filled(samples * 2, () => random()), weights = filled(samples, () => random() / 12);
  const attended = words(q * 8 * 32), dy = filled(q * 8 * 32, () => random() - 0.5);
  const dValue = words(spatial * 8 * 32), dLocations = words(samples * 2), dWeights = words(samples);
  const msda = [1, spatial, 8, 32, q, 3, 4];
  return {
    'roi_align forward': m => m.roi_align(x, boxes, pooled, scratch, batch, side, side, c, k, 4, 4, 7, 7, 0.125, 2, 1),
    'roi_align backward': m => m.roi_align_grad(pooled, boxes, dx, scratch, batch, side, side, c, k, 4, 4, 7, 7, 0.125, 2, 1),
    'ps_roi_align forward': m =>
      m.ps_roi_align(psx, boxes, psPooled, scratch, batch, side, side, psChannels, psBoxes, 4, 4, 7, 7, 0.125, 2),
    'ps_roi_align backward': m =>
      m.ps_roi_align_grad(psPooled, boxes, psDx, scratch, batch, side, side, psChannels, psBoxes, 4, 4, 7, 7, 0.125, 2),
    'nms': m => m.nms(nmsBoxes, scores, 0, 0, n, nmsScratch, kept, 0.5),
    'sigmoid_focal_loss forward': m => m.sigmoid_focal_loss(focalX, focalT, focalOut, d.focal, 0.25, 2),
    'ms_deform_attn forward': m => m.ms_deform_attn(value, shapes, starts, locations, weights, attended, ...msda),
    'ms_deform_attn backward': m => m.ms_deform_attn_grad(dy, value, shapes, starts, locations, weights, dValue,
        dLocations, dWeights, ...msda),
  };
}

/** Medians of `runs` alternating calls of each (after one call each). */
function alternating(a: () => void, b: () => void, runs: number): [number, number] {
  a();
  b();
  const ta: number[] = [], tb: number[] = [];
  for (let i = 0; i < runs; i++) {
    for (const [f, t] of [[a, ta], [b, tb]] as const) {
      const start = performance.now();
      f();
      t.push(performance.now() - start);
    }
  }
  const median = (t: number[]) => [...t].sort((x, y) => x - y)[Math.floor(t.length / 2)];
  return [median(ta), median(tb)];
}

export const wasmPortCase: BenchCase = {
  name: NAME,
  torchvisionCases: [],
  backends: ['wasm'],
  async run(backend, _torchvision, size) {
    if (!fs.existsSync(BASELINE_FILE)) throw new Error(`${BASELINE_FILE} missing (see bench/baselines/README.md)`);
    const memory = new WebAssembly.Memory({initial: 1});
    const calls = setUp(memory, size);
    const now = moduleOnMemory(memory);
    const before = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(BASELINE_FILE)),
        {env: {memory}}).exports as unknown as VisionOpsWasm;
    const rows: BenchRow[] = [];
    for (const [variant, call] of Object.entries(calls)) {
      const [c, assemblyScript] = alternating(() => call(now), () => call(before), size === 'tiny' ? 3 : 11);
      rows.push({case: NAME, backend, variant: `${variant} (one thread, Node)`, median_ms: c, baseline: BASELINE,
        baseline_ms: assemblyScript});
    }
    return rows;
  },
};
