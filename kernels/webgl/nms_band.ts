/**
 * The greedy scan of NMS on the host over the suppression band that webgl's
 * band program computes (nms_gpu.ts), as torchvision's CUDA kernel
 * scans its mask on the host. Row p of the band (boxes sorted by x1) holds
 * bandWords words of 24 bits, bit b of word s set when the boxes at x1-sorted
 * positions p and p + 1 + 24 s + b suppress one another (the one of higher
 * score the other), then the words row p needed, order[p] (the box of score
 * rank p) and xRank[p] (the score rank of the box at x1-sorted position p).
 */
export const BAND_WORD_BITS = 24;
/** Band words of the first try: the pairs of 5000 random boxes (sides up to 100 in 1000 x 1000) fit. */
export const BAND_WORDS = 16;

/** Kept box indices in decreasing-score order, or the band words needed when bandWords was too few. */
export function keptFromBand(
    band: ArrayLike<number>, n: number, bandWords: number): {kept?: Int32Array, words?: number} {
  const stride = bandWords + 3;
  let needed = 0;
  for (let p = 0; p < n; p++) needed = Math.max(needed, band[p * stride + bandWords]);
  if (needed > bandWords) return {words: needed};
  // Suppressed ranks per suppressing rank (CSR).
  const start = new Int32Array(n + 1);
  const forEachPair = (visit: (row: number, col: number) => void) => {
    for (let p = 0; p < n; p++) {
      for (let s = 0; s < bandWords; s++) {
        for (let word = band[p * stride + s]; word !== 0; word &= word - 1) {
          const q = p + 1 + BAND_WORD_BITS * s + 31 - Math.clz32(word & -word);
          const rp = band[p * stride + bandWords + 2], rq = band[q * stride + bandWords + 2];
          visit(Math.min(rp, rq), Math.max(rp, rq));
        }
      }
    }
  };
  forEachPair(row => start[row + 1]++);
  for (let r = 0; r < n; r++) start[r + 1] += start[r];
  const suppressed = new Int32Array(start[n]);
  const fill = start.slice(0, n);
  forEachPair((row, col) => suppressed[fill[row]++] = col);
  const removed = new Uint8Array(n);
  const kept: number[] = [];
  for (let r = 0; r < n; r++) {
    if (removed[r]) continue;
    kept.push(band[r * stride + bandWords + 1]);
    for (let k = start[r]; k < start[r + 1]; k++) removed[suppressed[k]] = 1;
  }
  return {kept: Int32Array.from(kept)};
}

/**
 * The one retry loop of the band scan: yields the band words to compute, is
 * given that band's values, returns the kept indices (trying again, wider,
 * where a row needed more words). `scanBand` / `scanBandAsync` drive it.
 */
function* bandScan(n: number): Generator<number, Int32Array, ArrayLike<number>> {
  if (n === 0) return new Int32Array(0);
  for (let bandWords = BAND_WORDS; ;) {
    const band = yield bandWords;
    const {kept, words} = keptFromBand(band, n, bandWords);
    if (kept != null) return kept;
    bandWords = words!;
  }
}

export function scanBand(n: number, readBand: (words: number) => ArrayLike<number>): Int32Array {
  const scan = bandScan(n);
  let step = scan.next();
  while (!step.done) step = scan.next(readBand(step.value));
  return step.value;
}

export async function scanBandAsync(n: number, readBand: (words: number) => Promise<ArrayLike<number>>) {
  const scan = bandScan(n);
  let step = scan.next();
  while (!step.done) step = scan.next(await readBand(step.value));
  return step.value;
}
