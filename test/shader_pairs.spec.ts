/**
 * The webgl backend's GLSL and the webgpu backend's WGSL are hand translations
 * of the same math: each pair below is token-equivalent, function by function,
 * after normalisation (test/support/shader_tokens.ts). A function is left out
 * only by name (`uncompared`: not a translation, e.g. input access), a real
 * difference only by a `known` entry (failing once the difference is gone),
 * and a function on one side only fails.
 */
import {env} from '@tensorflow/tfjs-core';
import * as glCommon from '../kernels/webgl/roi_common_glsl';
import * as gpuCommon from '../kernels/webgpu/roi_common_wgsl';
import * as glAlign from '../kernels/webgl/roi_align_gpu';
import * as gpuAlign from '../kernels/webgpu/roi_align_webgpu';
import * as glPool from '../kernels/webgl/roi_pool_gpu';
import * as gpuPool from '../kernels/webgpu/roi_pool_webgpu';
import * as glPs from '../kernels/webgl/ps_roi_gpu';
import * as gpuPs from '../kernels/webgpu/ps_roi_webgpu';
import * as glTiles from '../kernels/webgl/roi_tiles_gpu';
import * as gpuTiles from '../kernels/webgpu/roi_tiles_webgpu';
import * as glNms from '../kernels/webgl/nms_gpu';
import * as gpuNms from '../kernels/webgpu/nms_webgpu';
import * as glFocal from '../kernels/webgl/sigmoid_focal_loss_gpu';
import * as gpuFocal from '../kernels/webgpu/sigmoid_focal_loss_webgpu';
import * as glDeform from '../kernels/webgl/deform_conv2d_gpu';
import * as gpuDeform from '../kernels/webgpu/deform_conv2d_webgpu';
import * as glMsda from '../kernels/webgl/ms_deform_attn_gpu';
import * as gpuMsda from '../kernels/webgpu/ms_deform_attn_webgpu';
import * as glCellSort from '../kernels/webgl/cell_sort_gpu';
import * as gpuCellSort from '../kernels/webgpu/cell_sort_webgpu';
import * as glMsdaValueGrad from '../kernels/webgl/ms_deform_attn_value_grad';
import * as gpuMsdaValueGrad from '../kernels/webgpu/ms_deform_attn_value_grad';
import {DeformGeometry} from '../kernels/reference/deform_conv2d';
import {firstDifference, glslFunctions, replaceAll, tokenize, wgslFunctions} from './support/shader_tokens';

/** A real difference in functions 'Unit.fn': fragments removed from each side, or without them the whole function. */
interface Known {at: string[]; why: string; glsl?: string; wgsl?: string}
interface Pair {
  units: Record<string, string[]>;  // name -> [GLSL, WGSL]
  uncompared?: Record<string, string>;  // function -> why it is no translation
  renames?: Record<string, string>;  // WGSL identifier -> GLSL identifier
  known?: Known[];
}

/** What keeps `pair` from being token-equivalent ([] when it is). */
function problems(pair: Pair): string[] {
  const out: string[] = [], seen = new Set<string>();
  for (const [unit, [glsl, wgsl]] of Object.entries(pair.units)) {
    const gl = glslFunctions(glsl), gpu = wgslFunctions(wgsl, pair.renames);
    for (const fn of new Set([...gl.keys(), ...gpu.keys()])) {
      const at = `${unit}.${fn}`;
      seen.add(fn).add(at);
      if (pair.uncompared?.[fn] != null) continue;
      const known = (pair.known ?? []).filter(k => k.at.includes(at));
      const whole = known.find(k => k.glsl == null);
      const [glFn, gpuFn] = [gl.get(fn), gpu.get(fn)];
      if (glFn == null || gpuFn == null) {
        if (whole == null) out.push(`${at}: only in ${glFn == null ? 'WGSL' : 'GLSL'}`);
        continue;
      }
      let [a, b] = [glFn, gpuFn];
      for (const k of known) {
        if (firstDifference(a, b) == null) out.push(`${at}: no longer differs: ${k.why}`);
        if (k === whole) break;
        const [a2, b2]: string[][] = [replaceAll(a, tokenize(k.glsl!), []), replaceAll(b, tokenize(k.wgsl!), [])];
        if (a2.length === a.length || b2.length === b.length) out.push(`${at}: fragment not found: ${k.why}`);
        [a, b] = [a2, b2];
      }
      const diff = whole == null ? firstDifference(a, b) : null;
      if (diff != null) out.push(`${at}: ${diff}`);
    }
  }
  const wgslTokens = new Set(Object.values(pair.units).flatMap(([, wgsl]) => tokenize(wgsl)));
  Object.keys(pair.renames ?? {}).filter(name => wgslTokens.has(name)).forEach(name => seen.add(name));
  const listed = [...Object.keys(pair.uncompared ?? {}), ...(pair.known ?? []).flatMap(k => k.at),
    ...Object.keys(pair.renames ?? {})];
  return [...out, ...listed.filter(name => !seen.has(name)).map(name => `${name}: listed, but not in the sources`)];
}

type Programs = Record<string, unknown>;
/** Units of the programs `names` of two modules, built with `args`. */
function programs(gl: Programs, gpu: Programs, names: string[], ...args: unknown[]): Record<string, string[]> {
  type Ctor<T> = new (...a: unknown[]) => T;
  return Object.fromEntries(names.map(n => [n, [new (gl[n] as Ctor<{userCode: string}>)(...args).userCode,
    new (gpu[n] as Ctor<{getUserCode(): string}>)(...args).getUserCode()]]));
}

/**
 * `make()` with WEBGL_VERSION 2 (a flag of the webgl backend), without
 * evaluating the flag (in Node that probes for a WebGL context and logs).
 */
function webgl2<T>(make: () => T): T {
  const e = env() as unknown as {flagRegistry: Record<string, unknown>, flags: Record<string, unknown>};
  if (e.flagRegistry.WEBGL_VERSION == null) env().registerFlag('WEBGL_VERSION', () => 2);
  const had = 'WEBGL_VERSION' in e.flags, before = e.flags.WEBGL_VERSION;
  env().set('WEBGL_VERSION', 2);
  try {
    return make();
  } finally {
    if (had) e.flags.WEBGL_VERSION = before;
    else delete e.flags.WEBGL_VERSION;
  }
}

const ROI = [2, 3, 3, 4];
const DEFORM: DeformGeometry = {batch: 1, height: 5, width: 5, channels: 4, outHeight: 3, outWidth: 3,
  outChannels: 2, kernelHeight: 3, kernelWidth: 3, strideH: 1, strideW: 1, padH: 0, padW: 0, dilationH: 1,
  dilationW: 1, groups: 2, offsetGroups: 2, useMask: true};
const FLAT = 'input access: texture getters at output coordinates vs flat-buffer reads by index';
/** The RoI backward gathers' main(): the same block sum (roiGatherBlock), written differently. */
const GATHER_MAIN = 'output: webgl writes the block as one packed texel, webgpu its values inside dx by flat index';
const gatherMains = (...units: string[]): Known[] => [{at: units.map(u => `${u}.main`), why: GATHER_MAIN}];

const PAIRS: Record<string, Pair> = {
  'roi_common_glsl ~ roi_common_wgsl': {
    units: {
      ROI_ALIGN_GEOMETRY: [glCommon.ROI_ALIGN_GEOMETRY, gpuCommon.ROI_ALIGN_GEOMETRY],
      ROI_POOL_GEOMETRY: [glCommon.ROI_POOL_GEOMETRY, gpuCommon.ROI_POOL_GEOMETRY],
      ROI_BIN_UNION: [glCommon.ROI_BIN_UNION, gpuCommon.ROI_BIN_UNION],
      PS_BIN_OF_CHANNEL: [glCommon.PS_BIN_OF_CHANNEL, gpuCommon.PS_BIN_OF_CHANNEL],
      forwardMain: [glCommon.forwardMain('c0', 'setOutput(b);'),
        gpuCommon.forwardMain('c0', 'setOutputAtIndex(index, b);')],
      gatherMain: [glCommon.gatherMain('int d = 0;', 'sum += vec4(float(k));'),
        gpuCommon.gatherMain('let d = 0;', 'sum += vec4<f32>(f32(k));')],
      ...Object.fromEntries([true, false].map(tables => [`roiAlignWeights(${tables})`,
        [glCommon.roiAlignWeights(tables), gpuCommon.roiAlignWeights(tables)]])),
    },
    known: gatherMains('gatherMain'),
  },
  'roi_align_gpu ~ roi_align_webgpu': {
    units: {
      ...programs(glAlign, gpuAlign, ['RoiAlignProgram', 'RoiAlignWeightsProgram', 'RoiAlignGradProgram'], ROI),
      'RoiAlignGradProgram(weights computed)': programs(glAlign, gpuAlign, ['RoiAlignGradProgram'], ROI, false)
          .RoiAlignGradProgram,
    },
    known: gatherMains('RoiAlignGradProgram', 'RoiAlignGradProgram(weights computed)'),
  },
  'roi_pool_gpu ~ roi_pool_webgpu': {
    units: programs(glPool, gpuPool, ['RoiPoolProgram', 'RoiPoolGradProgram'], ROI),
    known: gatherMains('RoiPoolGradProgram'),
  },
  'roi_tiles_gpu ~ roi_tiles_webgpu': {
    units: {
      ...programs(glTiles, gpuTiles, ['RoiAlignReachProgram', 'TileCoverProgram', 'TilePrefixProgram',
        'TileBoxesProgram'], [4, 5]),
      RoiPoolReachProgram: [new glTiles.RoiPoolReachProgram([4, 5], '1.0').userCode,
        new gpuTiles.RoiPoolReachProgram([4, 5], '1.0').getUserCode()],
    },
  },
  'ps_roi_gpu ~ ps_roi_webgpu': {
    units: {
      ...programs(glPs, gpuPs, ['PsRoiAlignProgram', 'PsRoiAlignGradProgram', 'PsRoiPoolProgram',
        'PsRoiPoolGradProgram'], ROI),
      'PsRoiAlignGradProgram(weights computed)': programs(glPs, gpuPs, ['PsRoiAlignGradProgram'], ROI, false)
          .PsRoiAlignGradProgram,
    },
    known: gatherMains('PsRoiAlignGradProgram', 'PsRoiAlignGradProgram(weights computed)', 'PsRoiPoolGradProgram'),
  },
  'nms_gpu ~ nms_webgpu (IoU and threshold test)': {
    units: {PAIR_MATH: [new glNms.NmsBandProgram(8, 1, false).userCode,
      new gpuNms.NmsPairProgram(8, false).getUserCode()]},
    uncompared: {
      boxAt: 'webgl input access: box q from the XBoxes texture',
      xBox: 'webgpu input access: box p decoded from the int32 ByX buffer',
      main: 'different algorithms: webgl fills band words per (position, word), webgpu ORs mask bits atomically',
    },
  },
  'sigmoid_focal_loss_gpu ~ sigmoid_focal_loss_webgpu': {
    units: {
      SigmoidFocalLossProgram: [webgl2(() => new glFocal.SigmoidFocalLossProgram([6]).userCode),
        new gpuFocal.SigmoidFocalLossProgram(6).getUserCode()],
      SigmoidFocalLossGradProgram: [webgl2(() => new glFocal.SigmoidFocalLossGradProgram([6]).userCode),
        new gpuFocal.SigmoidFocalLossGradProgram(6).getUserCode()],
    },
    uncompared: {main: `${FLAT} (webgpu: vec4 lanes)`},
  },
  'deform_conv2d_gpu ~ deform_conv2d_webgpu': {
    units: {
      DeformCornerSumsProgram: [new glDeform.DeformCornerSumsProgram(DEFORM, 3).userCode,
        new gpuDeform.DeformCornerSumsProgram(DEFORM, 3).getUserCode()],
      DeformSampleGradProgram: [new glDeform.DeformSampleGradProgram(DEFORM, 3, 'offset').userCode,
        new gpuDeform.DeformSampleGradProgram(DEFORM, 3, 'offset').getUserCode()],
      DeformColumnsProgram: [new glDeform.DeformColumnsProgram(DEFORM, 3).userCode,
        new gpuDeform.DeformColumnsProgram(DEFORM, 3).getUserCode()],
      DeformInputGradProgram: [new glDeform.DeformInputGradProgram(DEFORM, 1, false).userCode,
        new gpuDeform.DeformInputGradProgram(DEFORM, 1).getUserCode()],
    },
    renames: {isFiniteF32: 'isFiniteFloat'},
    uncompared: {
      offsetValue: `${FLAT} (webgl: getOffset at position p's coordinates; webgpu: Offset[])`,
      maskValue: `${FLAT} (webgpu: and the useMask uniform)`,
      corner: `${FLAT} (webgpu: through inside() and pixelIndex())`,
      columnGrad: `${FLAT} (webgl: the Dcol texture; webgpu: its flat index)`,
      pixelIndex: 'webgpu input access: flat index into X',
      inside: 'webgpu input access: the bounds test of corner()',
      sortedCell: `${FLAT} (the SortedSamples table)`,
      sortedTable: FLAT,
      cellStart: FLAT,
      cornerSumsAt: FLAT,
      cornerSum: 'different work split: webgl one corner sum per invocation',
      cornerSums: 'different work split: webgpu all four corner sums of a sample per invocation',
      main: 'different work split: webgl one value per invocation into a chunk piece (dx: added to its image\'s ' +
        'dx so far), webgpu by flat index into the full outputs (columns: a loop over the channels)',
    },
  },
  'deform_conv2d_gpu ~ deform_conv2d_webgpu (cell sort of the input gradient)': {
    units: {
      DeformCellsProgram: [new glDeform.DeformCellsProgram(12).userCode,
        new gpuDeform.DeformCellsProgram(12).getUserCode()],
      DeformSortedSamplesProgram: [new glDeform.DeformSortedSamplesProgram(DEFORM, 12).userCode,
        new gpuDeform.DeformSortedSamplesProgram(12).getUserCode()],
    },
    renames: {isFiniteF32: 'isFiniteFloat'},
    uncompared: {
      offsetValue: `${FLAT} (webgl: getOffset at position p's coordinates; webgpu: Offset[])`,
      maskValue: `${FLAT} (webgpu: and the useMask uniform)`,
      pixelIndex: 'webgpu input access: flat index into X',
      inside: 'webgpu input access: the bounds test of corner()',
      sortedSample: `${FLAT} (webgl: the Order texture; webgpu: the (cell, sample) Pairs)`,
      sortedCell: `${FLAT} (webgl: Cells by sample; webgpu: Pairs)`,
    },
  },
  'cell_sort_gpu ~ cell_sort_webgpu': {
    units: {
      MERGE_MATH: [glCellSort.MERGE_MATH, gpuCellSort.MERGE_MATH],
      CELL_RUNS_SUM: [glCellSort.CELL_RUNS_SUM, gpuCellSort.CELL_RUNS_SUM],
      CellStartsProgram: [new glCellSort.CellStartsProgram(8).userCode,
        new gpuCellSort.CellStartsProgram(8).getUserCode()],
    },
    uncompared: {sortedCell: `${FLAT} (the SortedSamples table)`, sortedTable: FLAT},
  },
  'ms_deform_attn_gpu ~ ms_deform_attn_webgpu': {
    units: {
      CornerBitsProgram: [new glMsda.CornerBitsProgram(6).userCode, new gpuMsda.CornerBitsProgram(6).getUserCode()],
      // C = 3: webgl's texels of 2 channels.
      ...Object.fromEntries(([[true, 4], [true, 3], [false, 4]] as const).map(([hasValue, channels]) => {
        const g = {batch: 1, spatialSize: 6, heads: 1, channels, queries: 2, levels: 2, points: 2};
        const [gl, gpu] = [new glMsda.MsDeformAttnProgram(g, hasValue), new gpuMsda.MsDeformAttnProgram(g, hasValue)];
        return [`MsDeformAttnProgram(${hasValue}, C = ${channels})`, [gl.userCode, gpu.getUserCode()]];
      })),
      ...Object.fromEntries([true, false].map(hasValue => [`MsDeformAttnSampleGradProgram(${hasValue})`, [
        new glMsda.MsDeformAttnSampleGradProgram(4, hasValue).userCode,
        new gpuMsda.MsDeformAttnSampleGradProgram(4, hasValue).getUserCode()]])),
    },
    uncompared: {
      msdaLevel: `${FLAT} (webgl: int32 tables held as float, clamped before int())`,
      msdaLocation: FLAT,
      msdaValue: FLAT,
      msdaValues: FLAT,
      msdaWeight: FLAT,
      msdaDy: FLAT,
      msdaBits: `${FLAT} (webgl: CornerBits as rows of samples)`,
      msdaBitsSample: 'output layout: webgl CornerBits as rows of samples; webgpu flat',
      msdaLanes: 'output layout: webgl a packed texel of 4 (or 2) channels; webgpu 4 channels per invocation',
      msdaSetLanes: 'output layout (see msdaLanes)',
      msdaGradSample: 'output layout: webgl a packed texel per sample; webgpu an invocation per sample',
      msdaSetGrads: 'output layout (see msdaGradSample)',
    },
  },
  'ms_deform_attn_value_grad (dValue)': {
    units: {
      SAMPLE_INDEX: [glMsdaValueGrad.SAMPLE_INDEX, gpuMsdaValueGrad.SAMPLE_INDEX],
      SAMPLE_CELL: [glMsdaValueGrad.SAMPLE_CELL, gpuMsdaValueGrad.SAMPLE_CELL],
      ...programs(glMsdaValueGrad, gpuMsdaValueGrad, ['SampleCellsProgram', 'SortedSamplesProgram',
        'PositionLevelsProgram', 'CellRunsProgram', 'ValueGradProgram'],
      {batch: 1, spatialSize: 6, heads: 2, channels: 3, queries: 2, levels: 2, points: 2}),
    },
    uncompared: {
      msdaLevel: `${FLAT} (webgl: int32 tables held as float, clamped before int())`,
      msdaLocation: FLAT,
      msdaWeight: FLAT,
      sortedRowValue: FLAT,
      sortedSample: `${FLAT} (webgl: the Order texture; webgpu: the (cell, sample) Pairs)`,
      sortedCell: `${FLAT} (webgl: Cells by sample, or SortedSamples; webgpu: Pairs, or SortedSamples)`,
      sortedTable: FLAT,
      positionLevel: FLAT,
      cellRunBound: FLAT,
    },
  },
};

describe('GLSL ~ WGSL shader pairs are token-equivalent', () => {
  for (const [name, pair] of Object.entries(PAIRS)) {
    it(name, () => expect(problems(pair)).toEqual([]));
  }

  it('a one-token change, a function on one side and a stale entry fail (self-check)', () => {
    const gpu = gpuCommon.ROI_ALIGN_GEOMETRY;
    const check = (wgsl: string, more: Partial<Pair> = {}) =>
      problems({units: {G: [glCommon.ROI_ALIGN_GEOMETRY, wgsl]}, ...more});
    expect(check(gpu)).toEqual([]);
    const [value, comparison] = [check(gpu.replace('0.5', '0.25')), check(gpu.replace('size < 1.0', 'size <= 1.0'))];
    expect([value.length, comparison.length]).toEqual([1, 1]);
    expect(value[0]).toMatch(/^G\.roiAxis: token \d+: glsl: .*\[\[ 0\.5 .* wgsl: .*\[\[ 0\.25 /);
    expect(comparison[0]).toMatch(/^G\.roiAxis: token \d+: glsl: .*\[\[ < 1\.0 .* wgsl: .*\[\[ <= 1\.0 /);
    expect(check(gpu.replace('fn roiSample(', 'fn roiExtra() -> f32 { return 1.0; }\n fn roiSample('))).toEqual(
        ['G.roiExtra: only in WGSL']);
    expect(check(gpu, {known: [{at: ['G.roiTaps'], why: 'w', glsl: 'y', wgsl: 'y'}]}))
        .toEqual(['G.roiTaps: no longer differs: w']);
    expect(check(gpu, {uncompared: {roiGone: 'r'}, renames: {gone: 'g'}}))
        .toEqual(['roiGone: listed, but not in the sources', 'gone: listed, but not in the sources']);
  });

  it('GLSL mod() is WGSL % only for an abs() first argument, parenthesised as needed (self-check)', () => {
    const same = (glsl: string, wgsl: string) =>
      firstDifference(glslFunctions(`float f(float x, float y) { ${glsl} }`).get('f')!,
          wgslFunctions(`fn f(x : f32, y : f32) -> f32 { ${wgsl} }`).get('f')!) == null;
    expect(same('return mod(abs(y), 2.0) == 1.0 ? x : y;', 'return select(y, x, abs(y) % 2.0 == 1.0);')).toBe(true);
    expect(same('return x * mod(abs(y), 2.0);', 'return x * (abs(y) % 2.0);')).toBe(true);
    expect(same('return mod(abs(y), x + 1.0);', 'return abs(y) % (x + 1.0);')).toBe(true);
    expect(same('return x * mod(abs(y), 2.0);', 'return x * abs(y) % 2.0;')).toBe(false);
    expect(same('return mod(y, 2.0);', 'return y % 2.0;')).toBe(false);
    expect(same('return mod(abs(y) - 1.0, 2.0);', 'return (abs(y) - 1.0) % 2.0;')).toBe(false);
  });
});
