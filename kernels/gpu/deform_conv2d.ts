/** What the webgl and webgpu deformConv2d gradients share, language-neutral. */
import {chunkPositions, columnLength, DeformGeometry} from '../reference/deform_conv2d.ts';
import {checkSortIndices} from './cell_sort.ts';

/**
 * Output positions [p0, p0 + rows) of one pass of the backward kernels:
 * `images` whole images or part of one, so that each (image, offset group)
 * of the chunk is one segment of the cell sort, of rows / images positions.
 * At most the column budget's positions (chunkPositions).
 */
export interface ImageChunk {p0: number; rows: number; images: number}

export function imageChunks(g: DeformGeometry): ImageChunk[] {
  const perImage = g.outHeight * g.outWidth;
  const most = chunkPositions(g.batch * perImage, columnLength(g));
  const chunks: ImageChunk[] = [];
  if (most >= perImage) {
    const step = Math.floor(most / perImage);
    for (let b = 0; b < g.batch; b += step) {
      const images = Math.min(step, g.batch - b);
      chunks.push({p0: b * perImage, rows: images * perImage, images});
    }
  } else {
    for (let b = 0; b < g.batch; b++) {
      for (let q = 0; q < perImage; q += most) {
        chunks.push({p0: b * perImage + q, rows: Math.min(most, perImage - q), images: 1});
      }
    }
  }
  return chunks;
}

/** Cells of an image: top-left corners in [-1, H) x [-1, W); (H + 1)(W + 1) is the sentinel after them. */
export function imageCells(g: DeformGeometry) {
  return (g.height + 1) * (g.width + 1);
}

/** The sort's cells and sample rows are float32-exact. */
export function checkInputGradIndices(kernel: string, g: DeformGeometry, chunks: ImageChunk[]) {
  const samples = Math.max(...chunks.map(c => c.rows)) * g.kernelHeight * g.kernelWidth;
  checkSortIndices(kernel, {'the cells of an image, (H + 1)(W + 1),': imageCells(g), 'samples per chunk': samples});
}
