/*
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
 * zeroed here; they never alias the inputs. Element offsets are ptrdiff_t
 * (i32 on wasm32 as in the AssemblyScript original, i64 natively).
 */
#include "vision_ops.h"

/* STEP for i = n4 .. n - 1, at most 3 of them (n - n4 < 4): straight-line code, no loop. */
#define TAIL3(n4, n, STEP) \
  do { \
    int32_t i = (n4); \
    if (i < (n)) { STEP; i++; if (i < (n)) { STEP; i++; if (i < (n)) { STEP; } } } \
  } while (0)

/* dst[i] += a * src[i] for i < n. */
INLINE void axpy(float *dst, const float *src, float a, int32_t n) {
  const f32x4 av = splat4(a);
  const int32_t n4 = n & ~3;
  for (int32_t i = 0; i < n4; i += 4) store4(dst + i, load4(dst + i) + av * load4(src + i));
  TAIL3(n4, n, dst[i] = dst[i] + a * src[i]);
}

/* dst[i] += a[i] * b[i] for i < n. */
INLINE void mul_acc(float *dst, const float *a, const float *b, int32_t n) {
  const int32_t n4 = n & ~3;
  for (int32_t i = 0; i < n4; i += 4) store4(dst + i, load4(dst + i) + load4(a + i) * load4(b + i));
  TAIL3(n4, n, dst[i] = dst[i] + a[i] * b[i]);
}

/* sum of a[i] * b[i] for i < n: f32x4 partial sums, their lanes 0..3, then the tail. */
INLINE float dot(const float *a, const float *b, int32_t n) {
  f32x4 acc = splat4(0.0f);
  const int32_t n4 = n & ~3;
  for (int32_t i = 0; i < n4; i += 4) acc = acc + load4(a + i) * load4(b + i);
  float s = acc[0] + acc[1] + acc[2] + acc[3];
  TAIL3(n4, n, s += a[i] * b[i]);
  return s;
}

/*
 * The window walk of every gradient here, written once: for n < batch, then
 * every output (od, oh, ow) and tap (kd, kh, kw), in that order, whose input
 * (id, ih, iw) = (od sd - pf + kd, oh sh - pt + kh, ow sw - pl + kw) lies
 * inside, runs STEP (the trailing arguments) with n, od, oh, ow, kd, kh, kw,
 * id, ih, iw (int32_t) in scope. The 2-D gradients pass depth 1, stride 1,
 * pad 0: those loops fold away.
 */
#define CONV_WINDOWS(batch, inD, inH, inW, outD, outH, outW, strideD, strideH, strideW, padFront, padTop, \
    padLeft, filterD, filterH, filterW, ...) \
  for (int32_t n = 0; n < (batch); n++) { \
    for (int32_t od = 0; od < (outD); od++) { \
      for (int32_t oh = 0; oh < (outH); oh++) { \
        for (int32_t ow = 0; ow < (outW); ow++) { \
          for (int32_t kd = 0; kd < (filterD); kd++) { \
            const int32_t id = od * (strideD) - (padFront) + kd; \
            if (id < 0 || id >= (inD)) continue; \
            for (int32_t kh = 0; kh < (filterH); kh++) { \
              const int32_t ih = oh * (strideH) - (padTop) + kh; \
              if (ih < 0 || ih >= (inH)) continue; \
              for (int32_t kw = 0; kw < (filterW); kw++) { \
                const int32_t iw = ow * (strideW) - (padLeft) + kw; \
                if (iw < 0 || iw >= (inW)) continue; \
                __VA_ARGS__ \
              } \
            } \
          } \
        } \
      } \
    } \
  }

/*
 * dw[kh, kw, ci, co] = sum over b, oh, ow of x[b, oh sh - pt + kh, ow sw - pl + kw, ci] dy[b, oh, ow, co];
 * x and dy addressed by element strides (batch, row, column, channel); dw is [fh, fw, inC, outC].
 */
VISION_EXPORT(conv2d_backprop_filter)
void conv2d_backprop_filter(
    const float *x, const float *dy, float *dw, int32_t batch, int32_t inH, int32_t inW, int32_t inC,
    int32_t outH, int32_t outW, int32_t outC, int32_t strideH, int32_t strideW, int32_t padTop, int32_t padLeft,
    int32_t filterH, int32_t filterW, int32_t xsB, int32_t xsR, int32_t xsC, int32_t xsCh, int32_t ysB,
    int32_t ysR, int32_t ysC, int32_t ysCh) {
  zero_words(dw, filterH * filterW * inC * outC);
  CONV_WINDOWS(batch, 1, inH, inW, 1, outH, outW, 1, strideH, strideW, 0, padTop, padLeft, 1, filterH, filterW,
    const float *dyAt = dy + ((ptrdiff_t)n * ysB + (ptrdiff_t)oh * ysR + (ptrdiff_t)ow * ysC);
    const float *xAt = x + ((ptrdiff_t)n * xsB + (ptrdiff_t)ih * xsR + (ptrdiff_t)iw * xsC);
    float *dwAt = dw + ((ptrdiff_t)(kh * filterW + kw) * inC * outC);
    for (int32_t ci = 0; ci < inC; ci++) {
      const float xv = xAt[(ptrdiff_t)ci * xsCh];
      float *row = dwAt + (ptrdiff_t)ci * outC;
      if (ysCh == 1) {
        axpy(row, dyAt, xv, outC);
      } else {
        for (int32_t co = 0; co < outC; co++) row[co] = row[co] + xv * dyAt[(ptrdiff_t)co * ysCh];
      }
    })
}

/*
 * dx[b, d, h, w, ci] = sum of dy[b, od, oh, ow, co] w[kd, kh, kw, ci, co] over the outputs whose
 * window covers (d, h, w); all NDHWC, w [fd, fh, fw, inC, outC].
 */
VISION_EXPORT(conv3d_backprop_input)
void conv3d_backprop_input(
    const float *dy, const float *w, float *dx, int32_t batch, int32_t inD, int32_t inH, int32_t inW,
    int32_t inC, int32_t outD, int32_t outH, int32_t outW, int32_t outC, int32_t strideD, int32_t strideH,
    int32_t strideW, int32_t padFront, int32_t padTop, int32_t padLeft, int32_t filterD, int32_t filterH,
    int32_t filterW) {
  zero_words(dx, batch * inD * inH * inW * inC);
  CONV_WINDOWS(batch, inD, inH, inW, outD, outH, outW, strideD, strideH, strideW, padFront, padTop, padLeft,
      filterD, filterH, filterW,
    const float *dyAt = dy + (((((ptrdiff_t)n * outD + od) * outH + oh) * outW + ow) * outC);
    float *dxAt = dx + (((((ptrdiff_t)n * inD + id) * inH + ih) * inW + iw) * inC);
    const float *wAt = w + ((ptrdiff_t)((kd * filterH + kh) * filterW + kw) * inC * outC);
    for (int32_t ci = 0; ci < inC; ci++) dxAt[ci] = dxAt[ci] + dot(dyAt, wAt + (ptrdiff_t)ci * outC, outC);)
}

/*
 * dw[kd, kh, kw, ci, co] = sum over b, od, oh, ow of x[b, od sd - pf + kd, oh sh - pt + kh, ow sw - pl + kw, ci]
 * dy[b, od, oh, ow, co]; all NDHWC, dw [fd, fh, fw, inC, outC].
 */
VISION_EXPORT(conv3d_backprop_filter)
void conv3d_backprop_filter(
    const float *x, const float *dy, float *dw, int32_t batch, int32_t inD, int32_t inH, int32_t inW,
    int32_t inC, int32_t outD, int32_t outH, int32_t outW, int32_t outC, int32_t strideD, int32_t strideH,
    int32_t strideW, int32_t padFront, int32_t padTop, int32_t padLeft, int32_t filterD, int32_t filterH,
    int32_t filterW) {
  zero_words(dw, filterD * filterH * filterW * inC * outC);
  CONV_WINDOWS(batch, inD, inH, inW, outD, outH, outW, strideD, strideH, strideW, padFront, padTop, padLeft,
      filterD, filterH, filterW,
    const float *dyAt = dy + (((((ptrdiff_t)n * outD + od) * outH + oh) * outW + ow) * outC);
    const float *xAt = x + (((((ptrdiff_t)n * inD + id) * inH + ih) * inW + iw) * inC);
    float *dwAt = dw + ((ptrdiff_t)((kd * filterH + kh) * filterW + kw) * inC * outC);
    for (int32_t ci = 0; ci < inC; ci++) axpy(dwAt + (ptrdiff_t)ci * outC, dyAt, xAt[ci], outC);)
}

/*
 * The two depthwise gradients share one walk over every output (oh, ow) and tap (kh, kw) whose input
 * (ih, iw) = (oh sh - pt + kh, ow sw - pl + kw) lies inside; all NHWC, w [fh, fw, inC, m], dy's channels
 * inC m (channel c m + q). grad_input: dx[b, ih, iw, c] += sum over q of dy[b, oh, ow, c m + q]
 * w[kh, kw, c, q] (a = dy, b = w, out = dx); else dw[kh, kw, c, q] += x[b, ih, iw, c] dy[b, oh, ow, c m + q]
 * (a = x, b = dy, out = dw). `out` must be zeroed.
 */
INLINE void depthwise_grad(
    int grad_input, const float *a, const float *b, float *out, int32_t batch, int32_t inH, int32_t inW,
    int32_t inC, int32_t outH, int32_t outW, int32_t mult, int32_t strideH, int32_t strideW, int32_t padTop,
    int32_t padLeft, int32_t filterH, int32_t filterW) {
  const int32_t outC = inC * mult;
  if (outC <= 0) return;
  CONV_WINDOWS(batch, 1, inH, inW, 1, outH, outW, 1, strideH, strideW, 0, padTop, padLeft, 1, filterH, filterW,
    const float *dyAt = (grad_input ? a : b) + ((((ptrdiff_t)n * outH + oh) * outW + ow) * outC);
    const ptrdiff_t pixel = (((ptrdiff_t)n * inH + ih) * inW + iw) * inC;
    const ptrdiff_t tap = (ptrdiff_t)(kh * filterW + kw) * outC;
    if (grad_input) {
      float *dxAt = out + pixel;
      const float *wAt = b + tap;
      if (mult == 1) {
        mul_acc(dxAt, dyAt, wAt, inC);
      } else {
        for (int32_t c = 0; c < inC; c++) {
          const ptrdiff_t row = (ptrdiff_t)c * mult;
          dxAt[c] = dxAt[c] + dot(dyAt + row, wAt + row, mult);
        }
      }
    } else {
      const float *xAt = a + pixel;
      float *dwAt = out + tap;
      if (mult == 1) {
        mul_acc(dwAt, xAt, dyAt, inC);
      } else {
        for (int32_t c = 0; c < inC; c++) {
          const ptrdiff_t row = (ptrdiff_t)c * mult;
          axpy(dwAt + row, dyAt + row, xAt[c], mult);
        }
      }
    })
}

/* The input gradient of depthwiseConv2d (see depthwise_grad): dx [batch, inH, inW, inC], zeroed here. */
VISION_EXPORT(depthwise_conv2d_backprop_input)
void depthwise_conv2d_backprop_input(
    const float *dy, const float *w, float *dx, int32_t batch, int32_t inH, int32_t inW, int32_t inC,
    int32_t outH, int32_t outW, int32_t mult, int32_t strideH, int32_t strideW, int32_t padTop, int32_t padLeft,
    int32_t filterH, int32_t filterW) {
  zero_words(dx, batch * inH * inW * inC);
  depthwise_grad(1, dy, w, dx, batch, inH, inW, inC, outH, outW, mult, strideH, strideW, padTop, padLeft,
      filterH, filterW);
}

/* The filter gradient of depthwiseConv2d (see depthwise_grad): dw [fh, fw, inC, m], zeroed here. */
VISION_EXPORT(depthwise_conv2d_backprop_filter)
void depthwise_conv2d_backprop_filter(
    const float *x, const float *dy, float *dw, int32_t batch, int32_t inH, int32_t inW, int32_t inC,
    int32_t outH, int32_t outW, int32_t mult, int32_t strideH, int32_t strideW, int32_t padTop, int32_t padLeft,
    int32_t filterH, int32_t filterW) {
  zero_words(dw, filterH * filterW * inC * mult);
  depthwise_grad(0, x, dy, dw, batch, inH, inW, inC, outH, outW, mult, strideH, strideW, padTop, padLeft,
      filterH, filterW);
}

#undef CONV_WINDOWS
