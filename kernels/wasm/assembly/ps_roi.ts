/**
 * ps_roi_align and ps_roi_pool on channelsLast tensors, the math of
 * kernels/reference/ps_roi.ts. ps_roi_align is roi_align's machinery
 * (./roi_align.ts, aligned always, same scratch layout) with bin (ph, pw) of
 * output channel c reading input channel (c * PH + ph) * PW + pw; ps_roi_pool
 * uses roi_pool's rounding (./roi_pool.ts) without the + 1, and torchvision's
 * clipping: bins to [0, H - 1] forward, [0, H] backward. Those channel reads
 * are strided, so these loops are scalar.
 */
import {PS_GATHER, PS_SCATTER, run, words, zeroWords} from './roi_align';
import {binBounds, binSize, roundCoord} from './roi_pool';

/** out[K, PH, PW, C / (PH PW)] = ps_roi_align of x[N, H, W, C]; scratch as roi_align's. */
export function ps_roi_align(
    x: usize, boxes: usize, out: usize, scratch: usize, batch: i32, height: i32, width: i32,
    channels: i32, numBoxes: i32, maxRowTaps: i32, maxColTaps: i32, pooledHeight: i32, pooledWidth: i32,
    spatialScale: f32, samplingRatio: i32): void {
  run(PS_GATHER, x, boxes, out, scratch, batch, height, width, channels, numBoxes, pooledHeight,
      pooledWidth, spatialScale, samplingRatio, true, maxRowTaps, maxColTaps);
}

/** dx[N, H, W, C] = gradient of ps_roi_align for x, from dy[K, PH, PW, C / (PH PW)]. */
export function ps_roi_align_grad(
    dy: usize, boxes: usize, dx: usize, scratch: usize, batch: i32, height: i32, width: i32,
    channels: i32, numBoxes: i32, maxRowTaps: i32, maxColTaps: i32, pooledHeight: i32, pooledWidth: i32,
    spatialScale: f32, samplingRatio: i32): void {
  zeroWords(dx, batch * height * width * channels);
  run(PS_SCATTER, dx, boxes, dy, scratch, batch, height, width, channels, numBoxes, pooledHeight,
      pooledWidth, spatialScale, samplingRatio, true, maxRowTaps, maxColTaps);
}

/** Forward (mean into bins) or backward (dy / area into data) of ps_roi_pool. */
// @ts-ignore: decorator
@inline function pool(
    forward: bool, data: usize, boxes: usize, bins: usize, batch: i32, height: i32, width: i32,
    channels: i32, numBoxes: i32, pooledHeight: i32, pooledWidth: i32, spatialScale: f32): void {
  const binCount = pooledHeight * pooledWidth;
  const outChannels = channels / binCount;
  const clipH = forward ? height - 1 : height, clipW = forward ? width - 1 : width;
  for (let k = 0; k < numBoxes; k++) {
    const box = boxes + <usize>k * 20;
    const b = load<f32>(box);
    const valid = b > -1.0 && b < <f32>batch && height > 0 && width > 0;
    const startW = roundCoord(load<f32>(box, 4) * spatialScale);
    const startH = roundCoord(load<f32>(box, 8) * spatialScale);
    const binW = binSize(startW, roundCoord(load<f32>(box, 12) * spatialScale), pooledWidth, 0);
    const binH = binSize(startH, roundCoord(load<f32>(box, 16) * spatialScale), pooledHeight, 0);
    const sampling = valid && !isNaN<f32>(binW) && !isNaN<f32>(binH) && !isNaN<f64>(startW) &&
        !isNaN<f64>(startH);
    const image = data + (<usize>((sampling ? <i32>b : 0) * height * width * channels) << 2);
    for (let ph = 0; ph < pooledHeight; ph++) {
      const rows = sampling ? binBounds(startH, binH, ph, clipH) : 0;
      const y0 = <i32>rows, y1 = <i32>(rows >> 32);
      for (let pw = 0; pw < pooledWidth; pw++) {
        const cols = sampling ? binBounds(startW, binW, pw, clipW) : 0;
        const x0 = <i32>cols, x1 = <i32>(cols >> 32);
        const bin = ph * pooledWidth + pw;
        const at = bins + (<usize>((k * binCount + bin) * outChannels) << 2);
        const empty = y1 <= y0 || x1 <= x0;
        const area = <f32>((y1 - y0) * (x1 - x0));
        for (let c = 0; c < outChannels; c++) {
          const cb = <usize>(c * binCount + bin) << 2;
          if (forward) {
            let sum: f32 = 0;
            for (let h = y0; h < y1 && !empty; h++) {
              for (let w = x0; w < x1; w++) sum += load<f32>(image + (<usize>((h * width + w) * channels) << 2) + cb);
            }
            store<f32>(words(at, c), empty ? 0 : sum / area);
          } else if (!empty) {
            const g = load<f32>(words(at, c)) / area;
            for (let h = y0; h < y1; h++) {
              for (let w = x0; w < x1; w++) {
                const p = image + (<usize>((h * width + w) * channels) << 2) + cb;
                store<f32>(p, load<f32>(p) + g);
              }
            }
          }
        }
      }
    }
  }
}

/** out[K, PH, PW, C / (PH PW)] = ps_roi_pool of x[N, H, W, C]. */
export function ps_roi_pool(
    x: usize, boxes: usize, out: usize, batch: i32, height: i32, width: i32, channels: i32,
    numBoxes: i32, pooledHeight: i32, pooledWidth: i32, spatialScale: f32): void {
  pool(true, x, boxes, out, batch, height, width, channels, numBoxes, pooledHeight, pooledWidth,
      spatialScale);
}

/** dx[N, H, W, C] = torchvision's gradient of ps_roi_pool, from dy. */
export function ps_roi_pool_grad(
    dy: usize, boxes: usize, dx: usize, batch: i32, height: i32, width: i32, channels: i32,
    numBoxes: i32, pooledHeight: i32, pooledWidth: i32, spatialScale: f32): void {
  zeroWords(dx, batch * height * width * channels);
  pool(false, dx, boxes, dy, batch, height, width, channels, numBoxes, pooledHeight, pooledWidth,
      spatialScale);
}
