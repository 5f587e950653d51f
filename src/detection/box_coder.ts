/**
 * torchvision.models.detection._utils.BoxCoder: boxes <-> regression deltas
 * (dx, dy, dw, dh) / weights, float32 in torchvision's operation order
 * (divisions by the weights, not multiplications by their inverses).
 */
import * as tf from '@tensorflow/tfjs-core';
import {Tensor, Tensor2D, Tensor3D} from '@tensorflow/tfjs-core';
import {stackCoords} from '../ops/box_format.ts';

/** torchvision's default bbox_xform_clip, log(1000 / 16): exp(dw) is at most 62.5. */
export const BBOX_XFORM_CLIP = Math.log(1000 / 16);

/** The weights (wx, wy, ww, wh) that divide the deltas. */
export type BoxCoderWeights = [number, number, number, number];
type Weights = BoxCoderWeights;

/** Encodes boxes as deltas against reference boxes and decodes them back, as torchvision's BoxCoder. */
export class BoxCoder {
  readonly weights: Weights;
  readonly bboxXformClip: number;

  constructor(weights: Weights, bboxXformClip = BBOX_XFORM_CLIP) {
    if (!Array.isArray(weights) || weights.length !== 4 || !weights.every(Number.isFinite)) {
      throw new Error(`BoxCoder: weights must be 4 finite numbers, got ${JSON.stringify(weights)}`);
    }
    this.weights = [...weights] as Weights;
    this.bboxXformClip = bboxXformClip;
  }

  /**
   * Boxes [N, 4K] (xyxy) from deltas relCodes [N, 4K] against boxes [N, 4].
   * torchvision: `decode_single(rel_codes, boxes)`.
   */
  decodeSingle(relCodes: Tensor2D, boxes: Tensor2D): Tensor2D {
    checkPair('BoxCoder.decodeSingle', relCodes, boxes);
    return tf.tidy(() => {
      const [n, k4] = relCodes.shape;
      const [x1, y1, x2, y2] = tf.unstack(boxes, 1);
      const widths = tf.sub(x2, x1);
      const heights = tf.sub(y2, y1);
      const column = (t: Tensor) => tf.reshape(t, [n, 1]);
      const ctrX = column(tf.add(x1, tf.mul(0.5, widths)));
      const ctrY = column(tf.add(y1, tf.mul(0.5, heights)));
      const codes = tf.reshape(relCodes, [n, k4 / 4, 4]);
      const [wx, wy, ww, wh] = this.weights;
      const [cx, cy, cw, ch] = tf.unstack(codes, 2);
      const dx = tf.div(cx, wx);
      const dy = tf.div(cy, wy);
      const dw = tf.minimum(tf.div(cw, ww), this.bboxXformClip);
      const dh = tf.minimum(tf.div(ch, wh), this.bboxXformClip);
      const predCtrX = tf.add(tf.mul(dx, column(widths)), ctrX);
      const predCtrY = tf.add(tf.mul(dy, column(heights)), ctrY);
      const halfW = tf.mul(0.5, tf.mul(tf.exp(dw), column(widths)));
      const halfH = tf.mul(0.5, tf.mul(tf.exp(dh), column(heights)));
      // stackCoords: no proposals at all is a batch of 0 a later split must read
      const out = stackCoords([tf.sub(predCtrX, halfW), tf.sub(predCtrY, halfH), tf.add(predCtrX, halfW),
        tf.add(predCtrY, halfH)], 2);
      return tf.reshape(out, [n, k4]) as Tensor2D;
    });
  }

  /**
   * Boxes [sum N_i, K, 4] from relCodes [sum N_i, 4K] (or [sum N_i * K, 4])
   * against the reference boxes of each image. torchvision: `decode(rel_codes, boxes)`.
   */
  decode(relCodes: Tensor, boxes: Tensor2D[]): Tensor3D {
    const total = boxes.reduce((s, b) => s + b.shape[0], 0);
    return tf.tidy(() => {
      // no boxes in any image: boxes[0] ([0, 4]) as it is, not tfjs-backend-cpu's concat of empties (a plain array)
      const concat = boxes.length === 1 || total === 0 ? boxes[0] : tf.concat(boxes, 0);
      const codes = total > 0 ? tf.reshape(relCodes, [total, -1]) as Tensor2D : relCodes as Tensor2D;
      const decoded = this.decodeSingle(codes, concat);
      // no boxes: [0, K, 4] (-1 cannot be inferred from 0 elements; torchvision skips this reshape then)
      return tf.reshape(decoded, [total, (decoded.shape[1] as number) / 4, 4]) as Tensor3D;
    });
  }

  /**
   * Deltas [N, 4] that take proposals [N, 4] to referenceBoxes [N, 4].
   * torchvision: `encode_single(reference_boxes, proposals)`.
   */
  encodeSingle(referenceBoxes: Tensor2D, proposals: Tensor2D): Tensor2D {
    checkPair('BoxCoder.encodeSingle', referenceBoxes, proposals);
    return tf.tidy(() => {
      const [px1, py1, px2, py2] = tf.unstack(proposals, 1);
      const [gx1, gy1, gx2, gy2] = tf.unstack(referenceBoxes, 1);
      const exW = tf.sub(px2, px1);
      const exH = tf.sub(py2, py1);
      const exCtrX = tf.add(px1, tf.mul(0.5, exW));
      const exCtrY = tf.add(py1, tf.mul(0.5, exH));
      const gtW = tf.sub(gx2, gx1);
      const gtH = tf.sub(gy2, gy1);
      const gtCtrX = tf.add(gx1, tf.mul(0.5, gtW));
      const gtCtrY = tf.add(gy1, tf.mul(0.5, gtH));
      const [wx, wy, ww, wh] = this.weights;
      return stackCoords([
        tf.div(tf.mul(wx, tf.sub(gtCtrX, exCtrX)), exW),
        tf.div(tf.mul(wy, tf.sub(gtCtrY, exCtrY)), exH),
        tf.mul(ww, tf.log(tf.div(gtW, exW))),
        tf.mul(wh, tf.log(tf.div(gtH, exH))),
      ], 1) as Tensor2D;
    });
  }
}

function checkPair(op: string, codes: Tensor, boxes: Tensor) {
  if (codes.rank !== 2 || (codes.shape[1] as number) % 4 !== 0) {
    throw new Error(`${op}: the first argument must be [N, 4K], got shape [${codes.shape}]`);
  }
  if (boxes.rank !== 2 || boxes.shape[1] !== 4 || boxes.shape[0] !== codes.shape[0]) {
    throw new Error(`${op}: boxes must be [${codes.shape[0]}, 4], got shape [${boxes.shape}]`);
  }
}
