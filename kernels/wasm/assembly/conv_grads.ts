/**
 * Convolution gradients the tfjs wasm backend 4.22 lacks or gets wrong:
 *  - conv2d_backprop_filter (Conv2DBackpropFilter: missing), any element
 *    strides (NHWC or NCHW), f32x4 over output channels when they are
 *    contiguous;
 *  - conv3d_backprop_input (Conv3DBackpropInputV2: tfjs's accumulates into
 *    an output it never zeroes), NDHWC, f32x4 dot products over output
 *    channels;
 *  - conv3d_backprop_filter (Conv3DBackpropFilterV2: tfjs's drops terms when
 *    a stride is > 1), NDHWC, f32x4 over output channels;
 *  - depthwise_conv2d_backprop_input and depthwise_conv2d_backprop_filter
 *    (DepthwiseConv2dNativeBackpropInput / ...Filter: missing), NHWC, any
 *    channel multiplier m (output channel c m + q), f32x4 over the channels
 *    when m is 1 (dst[c] += a[c] b[c]), else over the multiplier.
 * Dilation is 1 (tfjs has no conv gradient for dilation > 1). Outputs are
 * zeroed here; they never alias the inputs.
 */

import {zeroWords} from './roi_align';

/** dst[i] += a * src[i] for i < n (float32 rows at byte offsets). */
// @ts-ignore: decorator
@inline function axpy(dst: usize, src: usize, a: f32, n: i32): void {
  const av = f32x4.splat(a);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), f32x4.mul(av, v128.load(src + o))));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) + a * load<f32>(src + o));
  }
}

/** dst[i] += a[i] * b[i] for i < n. */
// @ts-ignore: decorator
@inline function mulAcc(dst: usize, a: usize, b: usize, n: i32): void {
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), f32x4.mul(v128.load(a + o), v128.load(b + o))));
  }
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(a + o) * load<f32>(b + o));
  }
}

/** sum of a[i] * b[i] for i < n. */
// @ts-ignore: decorator
@inline function dot(a: usize, b: usize, n: i32): f32 {
  let acc = f32x4.splat(0);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    acc = f32x4.add(acc, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  let s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) +
      f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (let i = n4; i < n; i++) s += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  return s;
}

/**
 * dw[kh, kw, ci, co] = sum over b, oh, ow of x[b, oh sh - pt + kh, ow sw - pl + kw, ci] dy[b, oh, ow, co];
 * x and dy addressed by element strides (batch, row, column, channel); dw is [fh, fw, inC, outC].
 */
export function conv2d_backprop_filter(
    x: usize, dy: usize, dw: usize, batch: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32,
    outC: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, filterH: i32, filterW: i32,
    xsB: i32, xsR: i32, xsC: i32, xsCh: i32, ysB: i32, ysR: i32, ysC: i32, ysCh: i32): void {
  zeroWords(dw, filterH * filterW * inC * outC);
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        const dyAt = dy + (<usize>(b * ysB + oh * ysR + ow * ysC) << 2);
        for (let kh = 0; kh < filterH; kh++) {
          const ih = oh * strideH - padTop + kh;
          if (ih < 0 || ih >= inH) continue;
          for (let kw = 0; kw < filterW; kw++) {
            const iw = ow * strideW - padLeft + kw;
            if (iw < 0 || iw >= inW) continue;
            const xAt = x + (<usize>(b * xsB + ih * xsR + iw * xsC) << 2);
            const dwAt = dw + (<usize>((kh * filterW + kw) * inC * outC) << 2);
            for (let ci = 0; ci < inC; ci++) {
              const xv = load<f32>(xAt + (<usize>(ci * xsCh) << 2));
              const row = dwAt + (<usize>(ci * outC) << 2);
              if (ysCh == 1) {
                axpy(row, dyAt, xv, outC);
              } else {
                for (let co = 0; co < outC; co++) {
                  const o = <usize>co << 2;
                  store<f32>(row + o, load<f32>(row + o) + xv * load<f32>(dyAt + (<usize>(co * ysCh) << 2)));
                }
              }
            }
          }
        }
      }
    }
  }
}

/**
 * dx[b, d, h, w, ci] = sum of dy[b, od, oh, ow, co] w[kd, kh, kw, ci, co] over the outputs whose
 * window covers (d, h, w); all NDHWC, w [fd, fh, fw, inC, outC].
 */
export function conv3d_backprop_input(
    dy: usize, w: usize, dx: usize, batch: i32, inD: i32, inH: i32, inW: i32, inC: i32, outD: i32,
    outH: i32, outW: i32, outC: i32, strideD: i32, strideH: i32, strideW: i32, padFront: i32,
    padTop: i32, padLeft: i32, filterD: i32, filterH: i32, filterW: i32): void {
  zeroWords(dx, batch * inD * inH * inW * inC);
  for (let b = 0; b < batch; b++) {
    for (let od = 0; od < outD; od++) {
      for (let oh = 0; oh < outH; oh++) {
        for (let ow = 0; ow < outW; ow++) {
          const dyAt = dy + (<usize>((((b * outD + od) * outH + oh) * outW + ow) * outC) << 2);
          for (let kd = 0; kd < filterD; kd++) {
            const id = od * strideD - padFront + kd;
            if (id < 0 || id >= inD) continue;
            for (let kh = 0; kh < filterH; kh++) {
              const ih = oh * strideH - padTop + kh;
              if (ih < 0 || ih >= inH) continue;
              for (let kw = 0; kw < filterW; kw++) {
                const iw = ow * strideW - padLeft + kw;
                if (iw < 0 || iw >= inW) continue;
                const dxAt = dx + (<usize>((((b * inD + id) * inH + ih) * inW + iw) * inC) << 2);
                const wAt = w + (<usize>(((kd * filterH + kh) * filterW + kw) * inC * outC) << 2);
                for (let ci = 0; ci < inC; ci++) {
                  const o = <usize>ci << 2;
                  store<f32>(dxAt + o, load<f32>(dxAt + o) + dot(dyAt, wAt + (<usize>(ci * outC) << 2), outC));
                }
              }
            }
          }
        }
      }
    }
  }
}

/**
 * dw[kd, kh, kw, ci, co] = sum over b, od, oh, ow of x[b, od sd - pf + kd, oh sh - pt + kh, ow sw - pl + kw, ci]
 * dy[b, od, oh, ow, co]; all NDHWC, dw [fd, fh, fw, inC, outC].
 */
export function conv3d_backprop_filter(
    x: usize, dy: usize, dw: usize, batch: i32, inD: i32, inH: i32, inW: i32, inC: i32, outD: i32,
    outH: i32, outW: i32, outC: i32, strideD: i32, strideH: i32, strideW: i32, padFront: i32,
    padTop: i32, padLeft: i32, filterD: i32, filterH: i32, filterW: i32): void {
  zeroWords(dw, filterD * filterH * filterW * inC * outC);
  for (let b = 0; b < batch; b++) {
    for (let od = 0; od < outD; od++) {
      for (let oh = 0; oh < outH; oh++) {
        for (let ow = 0; ow < outW; ow++) {
          const dyAt = dy + (<usize>((((b * outD + od) * outH + oh) * outW + ow) * outC) << 2);
          for (let kd = 0; kd < filterD; kd++) {
            const id = od * strideD - padFront + kd;
            if (id < 0 || id >= inD) continue;
            for (let kh = 0; kh < filterH; kh++) {
              const ih = oh * strideH - padTop + kh;
              if (ih < 0 || ih >= inH) continue;
              for (let kw = 0; kw < filterW; kw++) {
                const iw = ow * strideW - padLeft + kw;
                if (iw < 0 || iw >= inW) continue;
                const xAt = x + (<usize>((((b * inD + id) * inH + ih) * inW + iw) * inC) << 2);
                const dwAt = dw + (<usize>(((kd * filterH + kh) * filterW + kw) * inC * outC) << 2);
                for (let ci = 0; ci < inC; ci++) {
                  axpy(dwAt + (<usize>(ci * outC) << 2), dyAt, load<f32>(xAt + (<usize>ci << 2)), outC);
                }
              }
            }
          }
        }
      }
    }
  }
}

/**
 * The two depthwise gradients share one walk over every output (oh, ow) and tap (kh, kw) whose input
 * (ih, iw) = (oh sh - pt + kh, ow sw - pl + kw) lies inside; all NHWC, w [fh, fw, inC, m], dy's channels
 * inC m (channel c m + q). gradInput: dx[b, ih, iw, c] += sum over q of dy[b, oh, ow, c m + q]
 * w[kh, kw, c, q] (a = dy, b = w, out = dx); else dw[kh, kw, c, q] += x[b, ih, iw, c] dy[b, oh, ow, c m + q]
 * (a = x, b = dy, out = dw). `out` must be zeroed.
 */
// @ts-ignore: decorator
@inline function depthwiseGrad(
    gradInput: bool, a: usize, b: usize, out: usize, batch: i32, inH: i32, inW: i32, inC: i32, outH: i32,
    outW: i32, mult: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, filterH: i32, filterW: i32): void {
  const outC = inC * mult;
  if (outC <= 0) return;
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++) {
        const dyAt = (gradInput ? a : b) + (<usize>(((n * outH + oh) * outW + ow) * outC) << 2);
        for (let kh = 0; kh < filterH; kh++) {
          const ih = oh * strideH - padTop + kh;
          if (ih < 0 || ih >= inH) continue;
          for (let kw = 0; kw < filterW; kw++) {
            const iw = ow * strideW - padLeft + kw;
            if (iw < 0 || iw >= inW) continue;
            const pixel = <usize>(((n * inH + ih) * inW + iw) * inC) << 2;
            const tap = <usize>((kh * filterW + kw) * outC) << 2;
            if (gradInput) {
              const dxAt = out + pixel, wAt = b + tap;
              if (mult == 1) {
                mulAcc(dxAt, dyAt, wAt, inC);
              } else {
                for (let c = 0; c < inC; c++) {
                  const o = <usize>c << 2;
                  const row = <usize>(c * mult) << 2;
                  store<f32>(dxAt + o, load<f32>(dxAt + o) + dot(dyAt + row, wAt + row, mult));
                }
              }
            } else {
              const xAt = a + pixel, dwAt = out + tap;
              if (mult == 1) {
                mulAcc(dwAt, xAt, dyAt, inC);
              } else {
                for (let c = 0; c < inC; c++) {
                  const row = <usize>(c * mult) << 2;
                  axpy(dwAt + row, dyAt + row, load<f32>(xAt + (<usize>c << 2)), mult);
                }
              }
            }
          }
        }
      }
    }
  }
}

/** The input gradient of depthwiseConv2d (see depthwiseGrad): dx [batch, inH, inW, inC], zeroed here. */
export function depthwise_conv2d_backprop_input(
    dy: usize, w: usize, dx: usize, batch: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32,
    mult: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, filterH: i32, filterW: i32): void {
  zeroWords(dx, batch * inH * inW * inC);
  depthwiseGrad(true, dy, w, dx, batch, inH, inW, inC, outH, outW, mult, strideH, strideW, padTop, padLeft,
      filterH, filterW);
}

/** The filter gradient of depthwiseConv2d (see depthwiseGrad): dw [fh, fw, inC, m], zeroed here. */
export function depthwise_conv2d_backprop_filter(
    x: usize, dy: usize, dw: usize, batch: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32,
    mult: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, filterH: i32, filterW: i32): void {
  zeroWords(dw, filterH * filterW * inC * mult);
  depthwiseGrad(false, x, dy, dw, batch, inH, inW, inC, outH, outW, mult, strideH, strideW, padTop, padLeft,
      filterH, filterW);
}
