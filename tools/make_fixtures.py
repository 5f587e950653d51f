#!/usr/bin/python3
"""Generate the torchvision parity fixtures in test/fixtures/.

Run with Debian's interpreter, which sees python3-torchvision (torch 1.13, torchvision 0.14.1):

    /usr/bin/python3 tools/make_fixtures.py

Every case is seeded from its own name (crc32), so the output is byte-for-byte reproducible and adding
a case does not change the others. Where torchvision 0.14.1 lacks a 0.29 feature (box_area fmt, box_iou
fmt, leading batch dims, rotated box formats, all-zero masks in masks_to_boxes) the 0.29 behaviour is
emulated in torch float32 with the same arithmetic order as torchvision main; such cases carry a "note".

Before writing anything the script re-checks the known values of docs/SEMANTICS.md against the
real torchvision functions (asserts), so regenerating the fixtures re-validates the oracle. Their inputs are
written as the cases named known_*, the only place test/known_values.spec.ts takes them from.

File format: {"generator": str, "cases": [case, ...]}, case = {"op", "name", "args", "inputs", "output",
["dy", "grads"], ["note"]}; a tensor is {"shape", "dtype", "data": base64 of little-endian bytes}
(float32, int32 (torch int64 is narrowed), bool as uint8). grads[k] = d(sum(output * dy)) / d(inputs[k]).
"""
import base64
import glob
import importlib
import json
import os
import random
import sys
import zlib

import numpy as np
import torch
import torchvision
import torchvision.ops as tvo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "test", "fixtures")
GENERATOR = f"torchvision {torchvision.__version__}, torch {torch.__version__} (tools/make_fixtures.py)"

torch.manual_seed(0)
np.random.seed(0)
random.seed(0)
torch.set_num_threads(1)
torch.set_default_dtype(torch.float32)

TIE_NOTE = (
    "exact ties in the inputs: torch's maximum/minimum backward splits the gradient 0.5/0.5 between equal "
    "operands, clamp backward passes the gradient at the bound (inclusive)"
)


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------
def gen(*key):
    """A torch.Generator seeded from the key (stable across runs and case order)."""
    return torch.Generator().manual_seed(zlib.crc32("/".join(map(str, key)).encode()))


def t32(x):
    return torch.tensor(x, dtype=torch.float32)


def enc(t):
    t = t.detach().cpu().contiguous()
    if t.dtype == torch.bool:
        arr, dtype = t.numpy().astype(np.uint8), "bool"
    elif t.dtype in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        arr, dtype = t.numpy().astype("<i4"), "int32"
    elif t.dtype.is_floating_point:
        arr, dtype = t.numpy().astype("<f4"), "float32"
    else:
        raise TypeError(t.dtype)
    return {
        "shape": list(t.shape),
        "dtype": dtype,
        "data": base64.b64encode(np.ascontiguousarray(arr).tobytes()).decode("ascii"),
    }


CASES = {}  # file -> list of cases


def add(file, op, name, fn, inputs, args=None, grad=True, note=None):
    """Run fn(**inputs) (with grads w.r.t. the float inputs when grad) and record the case."""
    leaves = {}
    for k, v in inputs.items():
        v = v.detach().clone()
        if grad and v.dtype.is_floating_point:
            v.requires_grad_(True)
        leaves[k] = v
    out = fn(**leaves)
    case = {"op": op, "name": name, "args": args or {}, "inputs": {k: enc(inputs[k]) for k in inputs}}
    case["output"] = enc(out)
    if grad:
        assert out.dtype == torch.float32, (op, name, out.dtype)
        dy = torch.randn(out.shape, generator=gen(op, name, "dy"), dtype=torch.float32)
        diff = [k for k, v in leaves.items() if v.requires_grad]
        gs = torch.autograd.grad((out * dy).sum(), [leaves[k] for k in diff], allow_unused=True)
        grads = {}
        for k, g in zip(diff, gs):
            g = torch.zeros_like(leaves[k]) if g is None else g
            assert torch.isfinite(g).all(), (op, name, k)
            grads[k] = enc(g)
        case["dy"] = enc(dy)
        case["grads"] = grads
    if note:
        case["note"] = note
    for c in CASES.setdefault(file, []):
        assert (c["op"], c["name"]) != (op, name), ("duplicate case", op, name)
    CASES[file].append(case)
    return out


def rand_boxes(g, n, lo=0.0, hi=40.0, wmin=2.0, wmax=25.0):
    """n valid xyxy boxes with continuous (tie-free) float32 coordinates."""
    xy = torch.rand(n, 2, generator=g) * (hi - lo) + lo
    wh = torch.rand(n, 2, generator=g) * (wmax - wmin) + wmin
    return torch.cat([xy, xy + wh], 1)


def close(a, b, atol=1e-4, rtol=0.0):
    a = torch.as_tensor(a, dtype=torch.float32)
    b = torch.as_tensor(b, dtype=torch.float32)
    return a.shape == b.shape and torch.allclose(a, b, atol=atol, rtol=rtol)


# --------------------------------------------------------------------------------------------------
# 0.29 emulations (torch float32, same operation order as torchvision main)
# --------------------------------------------------------------------------------------------------
def area_029(boxes, fmt="xyxy"):
    if fmt == "xyxy":
        return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])
    if fmt in ("xywh", "cxcywh"):
        return boxes[..., 2] * boxes[..., 3]
    raise ValueError(fmt)


def iou_fmt_029(boxes1, boxes2, fmt):
    """box_iou(boxes1, boxes2, fmt) of torchvision main, for [N,4] x [M,4]."""
    a1, a2 = area_029(boxes1, fmt), area_029(boxes2, fmt)
    if fmt == "xyxy":
        lt = torch.max(boxes1[..., None, :2], boxes2[..., None, :, :2])
        rb = torch.min(boxes1[..., None, 2:], boxes2[..., None, :, 2:])
    elif fmt == "xywh":
        lt = torch.max(boxes1[..., None, :2], boxes2[..., None, :, :2])
        rb = torch.min(boxes1[..., None, :2] + boxes1[..., None, 2:], boxes2[..., None, :, :2] + boxes2[..., None, :, 2:])
    else:  # cxcywh
        lt = torch.max(
            boxes1[..., None, :2] - boxes1[..., None, 2:] / 2, boxes2[..., None, :, :2] - boxes2[..., None, :, 2:] / 2
        )
        rb = torch.min(
            boxes1[..., None, :2] + boxes1[..., None, 2:] / 2, boxes2[..., None, :, :2] + boxes2[..., None, :, 2:] / 2
        )
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = a1[..., None] + a2[..., None, :] - inter
    return inter / union


def cxcywhr_to_xywhr(b):
    cx, cy, w, h, r = b.unbind(-1)
    rad = r * torch.pi / 180.0
    c, s = torch.cos(rad), torch.sin(rad)
    x1 = cx - w / 2 * c - h / 2 * s
    y1 = cy - h / 2 * c + w / 2 * s
    return torch.stack((x1, y1, w, h, r), dim=-1)


def xywhr_to_cxcywhr(b):
    x1, y1, w, h, r = b.unbind(-1)
    rad = r * torch.pi / 180.0
    c, s = torch.cos(rad), torch.sin(rad)
    cx = x1 + w / 2 * c + h / 2 * s
    cy = y1 - w / 2 * s + h / 2 * c
    return torch.stack((cx, cy, w, h, r), dim=-1)


def xywhr_to_xyxyxyxy(b):
    x1, y1, w, h, r = b.unbind(-1)
    rad = r * torch.pi / 180.0
    c, s = torch.cos(rad), torch.sin(rad)
    px2 = x1 + w * c
    py2 = y1 - w * s
    px3 = px2 + h * s
    py3 = py2 + h * c
    px4 = x1 + h * s
    py4 = y1 + h * c
    return torch.stack((x1, y1, px2, py2, px3, py3, px4, py4), dim=-1)


def xyxyxyxy_to_xywhr(b):
    x1, y1, px2, py2, px3, py3, px4, py4 = b.unbind(-1)
    rad = torch.atan2(y1 - py2, px2 - x1)
    r = rad * 180 / torch.pi
    w = ((px2 - x1) ** 2 + (y1 - py2) ** 2).sqrt()
    h = ((px2 - px3) ** 2 + (py2 - py3) ** 2).sqrt()
    return torch.stack((x1, y1, w, h, r), dim=-1)


AXIS_FMTS = ("xyxy", "xywh", "cxcywh")
ROT_FMTS = ("xywhr", "cxcywhr", "xyxyxyxy")


def box_convert_029(boxes, in_fmt, out_fmt):
    if in_fmt not in AXIS_FMTS + ROT_FMTS or out_fmt not in AXIS_FMTS + ROT_FMTS:
        raise ValueError((in_fmt, out_fmt))
    if in_fmt == out_fmt:
        return boxes.clone()
    if in_fmt in AXIS_FMTS and out_fmt in AXIS_FMTS:
        return tvo.box_convert(boxes, in_fmt, out_fmt)  # unchanged since 0.14
    e = (in_fmt, out_fmt)
    if e == ("cxcywhr", "xywhr"):
        return cxcywhr_to_xywhr(boxes)
    if e == ("xywhr", "cxcywhr"):
        return xywhr_to_cxcywhr(boxes)
    if e == ("cxcywhr", "xyxyxyxy"):
        return xywhr_to_xyxyxyxy(cxcywhr_to_xywhr(boxes).to(boxes.dtype))
    if e == ("xyxyxyxy", "cxcywhr"):
        return xywhr_to_cxcywhr(xyxyxyxy_to_xywhr(boxes).to(boxes.dtype))
    if e == ("xywhr", "xyxyxyxy"):
        return xywhr_to_xyxyxyxy(boxes)
    if e == ("xyxyxyxy", "xywhr"):
        return xyxyxyxy_to_xywhr(boxes)
    raise NotImplementedError(e)


def batched(fn):
    """0.29 leading batch dims for a pairwise [N,4]x[M,4] function: loop over the batch with 0.14's."""

    def run(boxes1, boxes2):
        lead = boxes1.shape[:-2]
        b1 = boxes1.reshape(-1, *boxes1.shape[-2:])
        b2 = boxes2.reshape(-1, *boxes2.shape[-2:])
        out = torch.stack([fn(b1[i], b2[i]) for i in range(b1.shape[0])])
        return out.reshape(*lead, *out.shape[-2:])

    return run


def masks_to_boxes_029(masks):
    rows = []
    for m in masks:
        if m.any():
            rows.append(tvo.masks_to_boxes(m[None])[0])
        else:
            rows.append(torch.zeros(4, dtype=torch.float32))
    return torch.stack(rows) if rows else torch.zeros((0, 4), dtype=torch.float32)


# --------------------------------------------------------------------------------------------------
# known values (SEMANTICS.md), checked against the real torchvision 0.14.1 functions; the known_* cases below
# record torchvision's outputs for them
# --------------------------------------------------------------------------------------------------
KNOWN_B1 = t32([[0, 0, 100, 100], [0, 0, 50, 50], [200, 200, 300, 300], [0, 0, 25, 25]])
KNOWN_B2 = KNOWN_B1[:3]
KNOWN_IOU = [[1, 0.25, 0], [0.25, 1, 0], [0, 0, 1], [0.0625, 0.25, 0]]
KNOWN_GIOU = [[1, 0.25, -0.7778], [0.25, 1, -0.8611], [-0.7778, -0.8611, 1], [0.0625, 0.25, -0.8819]]
KNOWN_DIOU = [[1, 0.1875, -0.4444], [0.1875, 1, -0.5625], [-0.4444, -0.5625, 1], [-0.0781, 0.1875, -0.6267]]

LB1, LB2, LB3, LB4 = [-1.0, -1, 1, 1], [0.0, 0, 1, 1], [0.0, 1, 1, 2], [1.0, 1, 2, 2]
# (boxes1, boxes2) pairs of the loss known values, in this order
LOSS_PAIRS = [(LB1, LB1), (LB1, LB2), (LB2, LB3), (LB2, LB4), (LB1, LB3), (LB1, LB4)]
KNOWN_GIOU_LOSS = {0: 0.0, 1: 0.75, 2: 1.0, 3: 1.5}
KNOWN_DIOU_LOSS = {0: 0.0, 1: 0.8125, 4: 1.1923, 5: 1.25}

FOCAL_X, FOCAL_T = t32([-2, 0, 3]), t32([0, 1, 1])
FOCAL_KNOWN = [1.352672e-3, 4.332170e-2, 2.732081e-5]
FOCAL_KNOWN_MEAN = 0.014901
FOCAL_KNOWN_NOALPHA = [1.803563e-3, 1.732868e-1, 1.092832e-4]

MISMATCHES = []


def check(label, ok, got):
    if not ok:
        MISMATCHES.append(f"{label}: torchvision gives {got}")


def check_known_values():
    check("box_iou known", close(tvo.box_iou(KNOWN_B1, KNOWN_B2), KNOWN_IOU), tvo.box_iou(KNOWN_B1, KNOWN_B2))
    g = tvo.generalized_box_iou(KNOWN_B1, KNOWN_B2)
    check("generalized_box_iou known", close(g, KNOWN_GIOU), g)
    d = tvo.distance_box_iou(KNOWN_B1, KNOWN_B2)
    check("distance_box_iou known", close(d, KNOWN_DIOU), d)
    c = tvo.complete_box_iou(KNOWN_B1, KNOWN_B2)
    check("complete_box_iou known", close(c, KNOWN_DIOU), c)

    b1 = t32([p[0] for p in LOSS_PAIRS])
    b2 = t32([p[1] for p in LOSS_PAIRS])
    for name, fn, known in (
        ("generalized_box_iou_loss", tvo.generalized_box_iou_loss, KNOWN_GIOU_LOSS),
        ("distance_box_iou_loss", tvo.distance_box_iou_loss, KNOWN_DIOU_LOSS),
        ("complete_box_iou_loss", tvo.complete_box_iou_loss, KNOWN_DIOU_LOSS),
    ):
        out = fn(b1, b2, reduction="none")
        for i, v in known.items():
            check(f"{name} known pair {i}", close(out[i], v), float(out[i]))
            # the same value one pair at a time ([4] inputs) and with 'sum'
            one = fn(b1[i], b2[i], reduction="none")
            check(f"{name} known pair {i} ([4] input)", close(one, v), float(one))
        empty = fn(torch.zeros(0, 4), torch.zeros(0, 4), reduction="mean")
        check(f"{name} empty mean == 0", empty.shape == () and float(empty) == 0.0, empty)
        esum = fn(torch.zeros(0, 4), torch.zeros(0, 4), reduction="sum")
        check(f"{name} empty sum == 0", float(esum) == 0.0, esum)

    f = tvo.sigmoid_focal_loss(FOCAL_X, FOCAL_T)
    check("sigmoid_focal_loss known", close(f, FOCAL_KNOWN, atol=0, rtol=1e-5), f.tolist())
    fm = tvo.sigmoid_focal_loss(FOCAL_X, FOCAL_T, reduction="mean")
    check("sigmoid_focal_loss known mean", close(fm, FOCAL_KNOWN_MEAN, atol=0, rtol=5e-5), float(fm))
    fa = tvo.sigmoid_focal_loss(FOCAL_X, FOCAL_T, alpha=-1)
    check("sigmoid_focal_loss known alpha=-1", close(fa, FOCAL_KNOWN_NOALPHA, atol=0, rtol=1e-5), fa.tolist())

    # other rules of SEMANTICS.md that 0.14.1 can show directly
    nan = tvo.box_iou(t32([[1, 1, 1, 1]]), t32([[1, 1, 1, 1]]))
    check("box_iou of two zero-area boxes is NaN", bool(torch.isnan(nan).all()), nan)
    keep = tvo.remove_small_boxes(t32([[0, 0, 2, 2], [0, 0, 1.9, 2]]), 2.0)
    check("remove_small_boxes uses >=", keep.tolist() == [0], keep)
    keep = tvo.nms(t32([[0, 0, 2, 2], [0, 0, 2, 1]]), t32([1, 0.5]), 0.5)
    check("nms keeps IoU == threshold", keep.tolist() == [0, 1], keep)


# --------------------------------------------------------------------------------------------------
# box_ops.json
# --------------------------------------------------------------------------------------------------
BOX = "box_ops.json"
NOTE_029 = "torchvision 0.29 behaviour, emulated (0.14.1 lacks it)"


def make_box_area():
    op = "box_area"
    g = gen(op, "random_xyxy")
    b = rand_boxes(g, 6)
    b[1, [0, 2]] = b[1, [2, 0]]  # x2 < x1: negative area, no clamping
    b[3, [1, 3]] = b[3, [3, 1]]  # y2 < y1
    b[4, 2] = b[4, 0]  # zero width
    add(BOX, op, "random_xyxy", lambda boxes: tvo.box_area(boxes), {"boxes": b}, {"fmt": "xyxy"})
    for fmt in ("xywh", "cxcywh"):
        g = gen(op, fmt)
        b = tvo.box_convert(rand_boxes(g, 5), "xyxy", fmt)
        b[2, 2] = -b[2, 2]  # negative width: no clamping
        add(BOX, op, f"random_{fmt}", lambda boxes, fmt=fmt: area_029(boxes, fmt), {"boxes": b}, {"fmt": fmt},
            note=NOTE_029 + ": area = w*h")
    b = rand_boxes(gen(op, "batch"), 6).reshape(2, 3, 4)
    add(BOX, op, "batch_2x3", lambda boxes: torch.stack([tvo.box_area(x) for x in boxes]), {"boxes": b},
        {"fmt": "xyxy"}, note=NOTE_029 + ": leading batch dims")


def make_box_convert():
    op = "box_convert"
    for i in AXIS_FMTS:
        for o in AXIS_FMTS:
            name = f"{i}_to_{o}"
            b = tvo.box_convert(rand_boxes(gen(op, name), 5), "xyxy", i)
            add(BOX, op, name, lambda boxes, i=i, o=o: tvo.box_convert(boxes, i, o), {"boxes": b},
                {"in_fmt": i, "out_fmt": o})
    b = rand_boxes(gen(op, "batch"), 6).reshape(2, 3, 4)
    add(BOX, op, "batch_xyxy_to_cxcywh", lambda boxes: tvo.box_convert(boxes, "xyxy", "cxcywh"), {"boxes": b},
        {"in_fmt": "xyxy", "out_fmt": "cxcywh"})

    for i in ROT_FMTS:
        for o in ROT_FMTS:
            name = f"{i}_to_{o}"
            g = gen(op, name)
            n = 7
            xy = torch.rand(n, 2, generator=g) * 40
            wh = torch.rand(n, 2, generator=g) * 20 + 1
            r = torch.rand(n, generator=g) * 340 - 170
            r[:4] = t32([0, 90, -45, 30])  # special angles (180 would be ambiguous for the round trip)
            base = torch.cat([xy, wh, r[:, None]], 1)  # interpreted as the rotated format below
            b = xywhr_to_xyxyxyxy(base) if i == "xyxyxyxy" else base
            add(BOX, op, name, lambda boxes, i=i, o=o: box_convert_029(boxes, i, o), {"boxes": b},
                {"in_fmt": i, "out_fmt": o}, note=NOTE_029 + ": rotated formats, angle in degrees CCW")


def pairwise_cases(op, fn, batched_fn):
    g = gen(op, "random_7x5")
    b1 = rand_boxes(g, 7)
    b2 = torch.cat(
        [
            rand_boxes(g, 3),
            rand_boxes(g, 1, lo=100, hi=140),  # disjoint from everything
            b1[2:3] + (torch.rand(1, 4, generator=g) - 0.5),  # nearly identical to b1[2], no exact tie
        ]
    )
    add(BOX, op, "random_7x5", fn, {"boxes1": b1, "boxes2": b2})

    t1 = t32([[0, 0, 10, 10], [5, 5, 15, 20], [20, 0, 30, 10], [2, 3, 6, 9]])
    t2 = t32([[0, 0, 10, 10], [10, 0, 20, 10], [5, 5, 15, 20], [40, 40, 50, 60], [3, 2, 7, 12]])
    add(BOX, op, "ties_identical_touching_4x5", fn, {"boxes1": t1, "boxes2": t2}, note=TIE_NOTE)
    add(BOX, op, "known_4x3", fn, {"boxes1": KNOWN_B1, "boxes2": KNOWN_B2},
        note="known values of SEMANTICS.md; " + TIE_NOTE)

    g = gen(op, "batch")
    b1 = rand_boxes(g, 8).reshape(2, 4, 4)
    b2 = rand_boxes(g, 6).reshape(2, 3, 4)
    add(BOX, op, "batch_2x4x3", batched_fn, {"boxes1": b1, "boxes2": b2}, note=NOTE_029 + ": leading batch dims")


def make_pairwise():
    pairwise_cases("box_iou", lambda boxes1, boxes2: tvo.box_iou(boxes1, boxes2),
                   batched(tvo.box_iou))
    pairwise_cases("generalized_box_iou", lambda boxes1, boxes2: tvo.generalized_box_iou(boxes1, boxes2),
                   batched(tvo.generalized_box_iou))
    pairwise_cases("distance_box_iou", lambda boxes1, boxes2: tvo.distance_box_iou(boxes1, boxes2),
                   batched(tvo.distance_box_iou))
    pairwise_cases("complete_box_iou", lambda boxes1, boxes2: tvo.complete_box_iou(boxes1, boxes2),
                   batched(tvo.complete_box_iou))

    # box_iou extras: 0/0 = NaN (forward only) and the 0.29 fmt argument
    z1 = t32([[1, 1, 1, 1], [0, 0, 2, 2]])
    z2 = t32([[1, 1, 1, 1], [0, 0, 2, 2], [5, 5, 5, 5]])
    add(BOX, "box_iou", "zero_area_nan", lambda boxes1, boxes2: tvo.box_iou(boxes1, boxes2),
        {"boxes1": z1, "boxes2": z2}, grad=False, note="two zero-area boxes: inter/union = 0/0 = NaN")
    for fmt in ("xyxy", "xywh", "cxcywh"):
        g = gen("box_iou", "fmt", fmt)
        b1 = tvo.box_convert(rand_boxes(g, 5), "xyxy", fmt)
        b2 = tvo.box_convert(rand_boxes(g, 4), "xyxy", fmt)
        # sanity: the emulation equals the real 0.14 function after conversion
        ref = tvo.box_iou(tvo.box_convert(b1, fmt, "xyxy"), tvo.box_convert(b2, fmt, "xyxy"))
        assert torch.allclose(iou_fmt_029(b1, b2, fmt), ref, atol=1e-6), fmt
        add(BOX, "box_iou", f"fmt_{fmt}", lambda boxes1, boxes2, fmt=fmt: iou_fmt_029(boxes1, boxes2, fmt),
            {"boxes1": b1, "boxes2": b2}, {"fmt": fmt}, note=NOTE_029 + ": fmt argument")


def make_clip():
    op = "clip_boxes_to_image"
    b = t32(
        [
            [-5.5, -3.25, 12.0, 8.5],  # top-left outside
            [25.0, 15.0, 41.5, 27.0],  # bottom-right outside (W=30, H=20)
            [-10.0, -10.0, 50.0, 40.0],  # contains the image
            [3.0, 4.0, 9.0, 11.0],  # inside
            [0.0, 20.0, 30.0, 0.0],  # exactly on the bounds (gradient passes at the bound)
            [-7.0, 22.0, -1.0, 25.0],  # fully outside
        ]
    )
    add(BOX, op, "partly_outside", lambda boxes: tvo.clip_boxes_to_image(boxes, (20, 30)), {"boxes": b},
        {"size": [20, 30]}, note="row 4 lies exactly on the bounds: torch clamp passes the gradient there")
    g = gen(op, "random")
    b = rand_boxes(g, 8, lo=-15, hi=35, wmin=1, wmax=30)
    add(BOX, op, "random_8", lambda boxes: tvo.clip_boxes_to_image(boxes, (24, 32)), {"boxes": b},
        {"size": [24, 32]})
    b = rand_boxes(gen(op, "batch"), 6, lo=-10, hi=20).reshape(2, 3, 4)
    add(BOX, op, "batch_2x3", lambda boxes: tvo.clip_boxes_to_image(boxes, (16, 12)), {"boxes": b},
        {"size": [16, 12]})


def make_remove_small():
    op = "remove_small_boxes"
    b = t32(
        [
            [1.25, 0.0, 3.75, 4.0],  # w == 2.5 exactly: kept
            [0.0, 1.0, 5.0, 3.5],  # h == 2.5 exactly: kept
            [0.0, 0.0, 2.4999, 5.0],  # w just below
            [0.0, 0.0, 5.0, 2.0],  # h below
            [10.0, 10.0, 4.0, 20.0],  # negative w
            [0.0, 0.0, 2.5, 2.5],  # both exactly: kept
            [3.0, 3.0, 30.0, 31.0],  # large
            [0.0, 0.0, 0.0, 0.0],  # zero
        ]
    )
    add(BOX, op, "edge_min_2_5", lambda boxes: tvo.remove_small_boxes(boxes, 2.5), {"boxes": b},
        {"min_size": 2.5}, grad=False, note="w or h exactly == min_size is kept (>=)")
    b = rand_boxes(gen(op, "random"), 12, wmin=0.2, wmax=4)
    add(BOX, op, "random_12_min_1_5", lambda boxes: tvo.remove_small_boxes(boxes, 1.5), {"boxes": b},
        {"min_size": 1.5}, grad=False)
    add(BOX, op, "none_kept", lambda boxes: tvo.remove_small_boxes(boxes, 100.0), {"boxes": b},
        {"min_size": 100.0}, grad=False)


def make_masks():
    op = "masks_to_boxes"
    g = gen(op, "mixed")
    n, h, w = 5, 6, 7
    m = torch.zeros(n, h, w, dtype=torch.bool)
    m[0] = torch.rand(h, w, generator=g) > 0.7  # random scatter
    m[1, 2, 4] = True  # single pixel
    m[3] = True  # full
    m[4, 1:4, 0] = True  # single column
    m[4, 5, 6] = True
    # m[2] stays all-zero
    add(BOX, op, "mixed_with_empty", masks_to_boxes_029, {"masks": m}, grad=False,
        note="mask 2 is all-zero: [0,0,0,0] (torchvision 0.29; 0.14.1 raises)")
    g = gen(op, "random")
    m = torch.rand(3, 9, 8, generator=g) > 0.85
    m[:, 0, 0] = False
    assert all(x.any() for x in m)
    add(BOX, op, "random_3x9x8", lambda masks: tvo.masks_to_boxes(masks), {"masks": m}, grad=False)


# --------------------------------------------------------------------------------------------------
# losses.json
# --------------------------------------------------------------------------------------------------
LOSS = "losses.json"


def make_box_losses():
    g = gen("box_losses", "random_pairs")
    b1 = rand_boxes(g, 8)
    b2 = torch.empty_like(b1)
    b2[:4] = b1[:4] + (torch.rand(4, 4, generator=g) - 0.5) * 10  # overlapping, perturbed
    b2[:4, 2:] = torch.max(b2[:4, 2:], b2[:4, :2] + 1)
    b2[4:6] = rand_boxes(g, 2, lo=80, hi=120)  # disjoint
    b2[6] = b1[6] + t32([1.5, 2.25, -1.75, -0.5])  # contained
    b2[7] = rand_boxes(g, 1, lo=0, hi=40)[0]  # random
    tie1 = t32([LB1, LB1, [0, 0, 4, 4], [0, 0, 4, 4], [2, 3, 6, 9]])
    tie2 = t32([LB1, LB2, [4, 0, 8, 4], [4, 4, 8, 9], [2, 3, 6, 9]])
    k1 = t32([p[0] for p in LOSS_PAIRS])
    k2 = t32([p[1] for p in LOSS_PAIRS])

    for op, fn in (
        ("generalized_box_iou_loss", tvo.generalized_box_iou_loss),
        ("distance_box_iou_loss", tvo.distance_box_iou_loss),
        ("complete_box_iou_loss", tvo.complete_box_iou_loss),
    ):
        for red in ("none", "mean", "sum"):
            f = lambda boxes1, boxes2, red=red, fn=fn: fn(boxes1, boxes2, reduction=red)
            add(LOSS, op, f"random_8_{red}", f, {"boxes1": b1, "boxes2": b2}, {"reduction": red})
            add(LOSS, op, f"ties_identical_touching_5_{red}", f, {"boxes1": tie1, "boxes2": tie2},
                {"reduction": red}, note=TIE_NOTE + "; touching boxes (overlap extent exactly 0) count no intersection")
        add(LOSS, op, "known_6_none", lambda boxes1, boxes2, fn=fn: fn(boxes1, boxes2, reduction="none"),
            {"boxes1": k1, "boxes2": k2}, {"reduction": "none"}, note="known values of SEMANTICS.md; " + TIE_NOTE)
        add(LOSS, op, "single_box_none", lambda boxes1, boxes2, fn=fn: fn(boxes1, boxes2, reduction="none"),
            {"boxes1": b1[0], "boxes2": b2[0]}, {"reduction": "none"}, note="[4] inputs give a scalar")
        out = add(LOSS, op, "empty_mean", lambda boxes1, boxes2, fn=fn: fn(boxes1, boxes2, reduction="mean"),
                  {"boxes1": torch.zeros(0, 4), "boxes2": torch.zeros(0, 4)}, {"reduction": "mean"}, grad=False,
                  note="empty input with 'mean' gives 0, not NaN")
        assert out.shape == () and float(out) == 0.0


def make_focal():
    op = "sigmoid_focal_loss"
    g = gen(op, "inputs")
    x = torch.rand(6, 5, generator=g) * 16 - 8
    x[0, 0], x[1, 1], x[2, 2], x[3, 3], x[4, 4] = 0.0, 8.0, -8.0, 0.5, -0.5
    t_hard = (torch.rand(6, 5, generator=g) > 0.6).float()
    t_soft = torch.rand(6, 5, generator=g)
    t_soft[0, :3] = t32([0.0, 1.0, 0.5])
    combos = [(a, gm) for a in (0.25, 0.5, -1.0) for gm in (2.0, 0.0, 1.5)]
    reduced = [(0.25, 2.0), (0.5, 0.0), (-1.0, 1.5)]
    for tname, t in (("hard", t_hard), ("soft", t_soft)):
        for a, gm in combos:
            reds = ["none"] + (["mean", "sum"] if (a, gm) in reduced else [])
            for red in reds:
                name = f"{tname}_a{a:g}_g{gm:g}_{red}"
                add(LOSS, op, name,
                    lambda inputs, targets, a=a, gm=gm, red=red: tvo.sigmoid_focal_loss(inputs, targets, a, gm, red),
                    {"inputs": x, "targets": t}, {"alpha": a, "gamma": gm, "reduction": red})
    for a, red in ((0.25, "none"), (0.25, "mean"), (-1.0, "none")):
        add(LOSS, op, f"known_a{a:g}_{red}",
            lambda inputs, targets, a=a, red=red: tvo.sigmoid_focal_loss(inputs, targets, a, 2.0, red),
            {"inputs": FOCAL_X, "targets": FOCAL_T}, {"alpha": a, "gamma": 2.0, "reduction": red},
            note="known values of SEMANTICS.md")


# --------------------------------------------------------------------------------------------------
def main():
    check_known_values()
    make_box_area()
    make_box_convert()
    make_pairwise()
    make_clip()
    make_remove_small()
    make_masks()
    make_box_losses()
    make_focal()
    # Op families in their own modules (tools/fixtures_<family>.py), each with
    # make(fx) taking this module (add, gen, enc, rand_boxes, ...).
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    for path in sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures_*.py"))):
        importlib.import_module(os.path.basename(path)[:-3]).make(sys.modules[__name__])

    os.makedirs(OUT_DIR, exist_ok=True)
    total = 0
    for file, cases in CASES.items():
        path = os.path.join(OUT_DIR, file)
        text = json.dumps({"generator": GENERATOR, "cases": cases}, separators=(",", ":"), allow_nan=False)
        with open(path, "w") as fh:
            fh.write(text + "\n")
        size = os.path.getsize(path)
        total += size
        print(f"{os.path.relpath(path, ROOT)}: {len(cases)} cases, {size} bytes")
        per_op = {}
        for c in cases:
            per_op[c["op"]] = per_op.get(c["op"], 0) + 1
        for k, v in per_op.items():
            print(f"  {k}: {v}")
    print(f"total {total} bytes")
    assert total < 5_000_000, total

    if MISMATCHES:
        print("KNOWN VALUES NOT REPRODUCED BY", GENERATOR)
        for m in MISMATCHES:
            print("  " + m)
        sys.exit(1)
    print("all SEMANTICS.md known values reproduced by the real torchvision")


if __name__ == "__main__":
    main()
