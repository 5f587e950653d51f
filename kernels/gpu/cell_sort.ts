/** What the webgl and webgpu segmented cell sorts share (kernels/webgl/cell_sort_gpu.ts), language-neutral. */

/**
 * SortedSamples fields per sorted position: the bilinear weights of corners
 * nw ne sw se, the sample's own weight (attention, mask), its row (of dy,
 * of the column gradient), its cell.
 */
export const SORTED_FIELDS = 7;

/** Cells, rows and positions travel as float32 (textures, the sorted table): exact up to 2^24. */
export const MAX_SORT_INDEX = 2 ** 24;

/** An Error naming `kernel` for the first count above MAX_SORT_INDEX. */
export function checkSortIndices(kernel: string, counts: Record<string, number>) {
  for (const [what, count] of Object.entries(counts)) {
    if (count > MAX_SORT_INDEX) {
      throw new Error(`${kernel}: ${what} must be at most ${MAX_SORT_INDEX} (float32-exact indices), got ${count}`);
    }
  }
}
