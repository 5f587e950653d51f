/**
 * torchvision.models.detection.anchor_utils.AnchorGenerator. Anchors are
 * computed on the host in float32 as torch does (sqrt, 1 / h, products and
 * round half to even), so they are exact on every backend.
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor2D, Tensor4D} from '@tensorflow/tfjs-core';
import {DataFormat} from '../ops/roi_common.ts';
import {ImageList} from './image_list.ts';

const f32 = Math.fround;

/** torch.round: half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Cell anchors [A, 4] (xyxy around 0), aspect ratio major, as torchvision's generate_anchors. */
export function generateAnchors(scales: number[], aspectRatios: number[]): Float32Array {
  const out = new Float32Array(scales.length * aspectRatios.length * 4);
  let i = 0;
  for (const ratio of aspectRatios) {
    const hRatio = f32(Math.sqrt(f32(ratio)));
    const wRatio = f32(1 / hRatio);
    for (const scale of scales) {
      const ws = f32(wRatio * f32(scale));
      const hs = f32(hRatio * f32(scale));
      for (const v of [-ws, -hs, ws, hs]) out[i++] = roundHalfEven(f32(v / 2));
    }
  }
  return out;
}

export class AnchorGenerator {
  readonly sizes: number[][];
  readonly aspectRatios: number[][];
  readonly cellAnchors: Float32Array[];

  /** One list of sizes and of aspect ratios (height / width) per feature map; torchvision's defaults. */
  constructor(sizes: number[][] = [[128, 256, 512]], aspectRatios: number[][] = [[0.5, 1.0, 2.0]]) {
    if (!Array.isArray(sizes) || !Array.isArray(aspectRatios) || sizes.length !== aspectRatios.length) {
      throw new Error(`AnchorGenerator: sizes and aspectRatios must be arrays of the same length (one per ` +
          `feature map), got ${JSON.stringify(sizes)} and ${JSON.stringify(aspectRatios)}`);
    }
    this.sizes = sizes.map(s => [...s]);
    this.aspectRatios = aspectRatios.map(r => [...r]);
    this.cellAnchors = sizes.map((s, i) => generateAnchors(s, aspectRatios[i]));
  }

  /** Anchors per feature-map position, per level (sizes x aspect ratios). */
  numAnchorsPerLocation(): number[] {
    return this.sizes.map((s, i) => s.length * this.aspectRatios[i].length);
  }

  /**
   * Anchors [H * W * A, 4] of each level: locations row by row, then the
   * cell anchors; strides [height, width] in pixels.
   */
  gridAnchors(gridSizes: Array<[number, number]>, strides: Array<[number, number]>): Float32Array[] {
    if (gridSizes.length !== this.cellAnchors.length || strides.length !== gridSizes.length) {
      throw new Error(`AnchorGenerator.gridAnchors: ${gridSizes.length} grid sizes and ${strides.length} strides ` +
          `for ${this.cellAnchors.length} levels of sizes / aspect ratios; they must match`);
    }
    return gridSizes.map(([gh, gw], level) => {
      const cell = this.cellAnchors[level];
      const a = cell.length / 4;
      const [sh, sw] = strides[level];
      const out = new Float32Array(gh * gw * a * 4);
      let i = 0;
      for (let y = 0; y < gh; y++) {
        for (let x = 0; x < gw; x++) {
          const shift = [x * sw, y * sh, x * sw, y * sh];
          for (let j = 0; j < a * 4; j++) out[i++] = shift[j % 4] + cell[j];
        }
      }
      return out;
    });
  }

  /**
   * Anchors [sum of H * W * A, 4] for each image of the batch (the same for
   * all), from the batched image size and the maps' sizes; stride = image
   * size // map size. torchvision: `forward(image_list, feature_maps)`.
   */
  forward(imageList: ImageList, featureMaps: Tensor4D[]): Tensor2D[] {
    const [hAxis, wAxis] = axesOf(imageList.dataFormat);
    const imageH = imageList.tensors.shape[hAxis];
    const imageW = imageList.tensors.shape[wAxis];
    const grids = featureMaps.map(f => [f.shape[hAxis], f.shape[wAxis]] as [number, number]);
    const strides = grids.map(([gh, gw]) => [Math.floor(imageH / gh), Math.floor(imageW / gw)] as [number, number]);
    const levels = this.gridAnchors(grids, strides);
    const total = levels.reduce((s, l) => s + l.length, 0);
    const all = new Float32Array(total);
    let offset = 0;
    for (const l of levels) {
      all.set(l, offset);
      offset += l.length;
    }
    return imageList.imageSizes.map(() => tf.tensor2d(all, [total / 4, 4]));
  }
}

export function axesOf(dataFormat: DataFormat): [number, number, number] {
  return dataFormat === 'channelsFirst' ? [2, 3, 1] : [1, 2, 3];
}
