/**
 * UnsortedSegmentSum (the gradient of gather), which the tfjs wasm backend
 * 4.22 lacks: out[s] = sum of the rows x[i] with ids[i] == s, ids outside
 * [0, numSegments) dropped. Rows of `inner` elements, float32 or int32
 * (isInt != 0), f32x4 / i32x4.
 */

import {zeroWords} from './roi_align';

export function unsorted_segment_sum(
    x: usize, ids: usize, out: usize, rows: i32, inner: i32, numSegments: i32, isInt: i32): void {
  zeroWords(out, numSegments * inner);
  const n4 = inner & ~3;
  for (let r = 0; r < rows; r++) {
    const s = load<i32>(ids + (<usize>r << 2));
    if (s < 0 || s >= numSegments) continue;
    const src = x + (<usize>(r * inner) << 2);
    const dst = out + (<usize>(s * inner) << 2);
    if (isInt != 0) {
      for (let i = 0; i < n4; i += 4) {
        const o = <usize>i << 2;
        v128.store(dst + o, i32x4.add(v128.load(dst + o), v128.load(src + o)));
      }
      for (let i = n4; i < inner; i++) {
        const o = <usize>i << 2;
        store<i32>(dst + o, load<i32>(dst + o) + load<i32>(src + o));
      }
    } else {
      for (let i = 0; i < n4; i += 4) {
        const o = <usize>i << 2;
        v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
      }
      for (let i = n4; i < inner; i++) {
        const o = <usize>i << 2;
        store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
      }
    }
  }
}
