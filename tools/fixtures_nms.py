"""nms / batched_nms fixtures (test/fixtures/nms.json) from the real torchvision.ops.

Every case is also replayed through a plain float32 model of torchvision's CPU kernel (stable descending
sort with NaN first, greedy suppression with IoU > threshold, C++ std::max/std::min semantics) and must
agree: the model is what kernels/reference/nms.ts implements.
"""
import numpy as np
import torch
import torchvision.ops as tvo
from torchvision.ops import boxes as tvb

FILE = "nms.json"


def model_nms(boxes, scores, thr, idxs=None):
    b = boxes.numpy().astype(np.float32)
    s = scores.numpy().astype(np.float32)
    n = len(s)
    key = np.where(np.isnan(s), np.float32(np.inf), s)
    # stable descending: NaN first, ties by ascending index
    order = sorted(range(n), key=lambda i: (0 if np.isnan(s[i]) else 1, -float(key[i]), i))
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    with np.errstate(all="ignore"):
        area = (x2 - x1) * (y2 - y1)
    f32 = np.float32
    cmax = lambda a, c: c if a < c else a  # std::max
    cmin = lambda a, c: c if c < a else a  # std::min
    suppressed = [False] * n
    keep = []
    with np.errstate(all="ignore"):
        for p, i in enumerate(order):
            if suppressed[i]:
                continue
            keep.append(i)
            for j in order[p + 1:]:
                if suppressed[j] or (idxs is not None and idxs[i] != idxs[j]):
                    continue
                w = cmax(f32(0), f32(cmin(x2[i], x2[j]) - cmax(x1[i], x1[j])))
                h = cmax(f32(0), f32(cmin(y2[i], y2[j]) - cmax(y1[i], y1[j])))
                inter = f32(w * h)
                ovr = f32(inter / f32(f32(area[i] + area[j]) - inter))
                if float(ovr) > thr:
                    suppressed[j] = True
    return keep


def add_nms(fx, name, boxes, scores, thr, note=None):
    out = fx.add(FILE, "nms", name, lambda boxes, scores: tvo.nms(boxes, scores, thr),
                 {"boxes": boxes, "scores": scores}, {"iou_threshold": thr}, grad=False, note=note)
    assert out.tolist() == model_nms(boxes, scores, thr), name


def add_batched(fx, name, boxes, scores, idxs, thr, note=None):
    inputs = {"boxes": boxes, "scores": scores, "idxs": idxs}
    trick = fx.add(FILE, "batched_nms", name + "_offset_trick",
                   lambda boxes, scores, idxs: tvb._batched_nms_coordinate_trick(boxes, scores, idxs, thr),
                   inputs, {"iou_threshold": thr}, grad=False, note=note)
    loop = fx.add(FILE, "batched_nms", name + "_per_class_loop",
                  lambda boxes, scores, idxs: tvb._batched_nms_vanilla(boxes, scores, idxs, thr),
                  inputs, {"iou_threshold": thr}, grad=False, note=note)
    model = model_nms(boxes, scores, thr, idxs.tolist())
    assert trick.tolist() == model, name
    assert sorted(loop.tolist()) == sorted(model), name


def clustered(fx, g, n, clusters, spread=6.0):
    """Boxes jittered around a few centres: heavy suppression at every threshold."""
    centres = fx.rand_boxes(g, clusters, lo=0, hi=200, wmin=10, wmax=60)
    pick = torch.randint(0, clusters, (n,), generator=g)
    return centres[pick] + (torch.rand(n, 4, generator=g) - 0.5) * spread


def make(fx):
    g = fx.gen("nms", "bench_5000")
    xy = torch.rand(5000, 2, generator=g) * 1000
    wh = torch.rand(5000, 2, generator=g) * 100 + 1
    add_nms(fx, "random_5000_iou0.5", torch.cat([xy, xy + wh], 1), torch.rand(5000, generator=g), 0.5,
            note="the bench distribution: x1,y1 in [0,1000), w,h in [1,101)")

    for thr in (0.2, 0.5, 0.8):
        g = fx.gen("nms", "clustered", thr)
        add_nms(fx, f"clustered_400_iou{thr}", clustered(fx, g, 400, 12), torch.rand(400, generator=g), thr)

    g = fx.gen("nms", "ties")
    b = torch.randint(0, 12, (300, 2), generator=g).float()
    b = torch.cat([b, b + torch.randint(1, 6, (300, 2), generator=g).float()], 1)
    s = torch.randint(0, 4, (300,), generator=g).float() / 4
    for thr in (0.2, 0.5, 0.8):
        add_nms(fx, f"ties_300_iou{thr}", b, s, thr,
                note="integer boxes with duplicates and 4 distinct scores: equal IoUs and equal scores")

    add_nms(fx, "at_threshold_kept", fx.t32([[0, 0, 2, 2], [0, 0, 2, 1]]), fx.t32([1, 0.5]), 0.5,
            note="IoU exactly 0.5 is not > 0.5: both kept")
    add_nms(fx, "just_below_threshold", fx.t32([[0, 0, 2, 2], [0, 0, 2, 1]]), fx.t32([1, 0.5]), 0.4999)
    g = fx.gen("nms", "zero_area")
    b = fx.rand_boxes(g, 40, hi=30)
    b[::4, 2] = b[::4, 0]  # zero width
    b[1::8, 3] = b[1::8, 1]  # zero height
    b[2] = b[0]  # two identical zero-area boxes: IoU 0/0 = NaN never suppresses
    b[5, [0, 2]] = b[5, [2, 0]]  # inverted: negative area
    add_nms(fx, "zero_area_and_inverted_40", b, torch.rand(40, generator=g), 0.3,
            note="zero-area pairs have IoU NaN and never suppress; inverted boxes never overlap")
    add_nms(fx, "empty", torch.zeros(0, 4), torch.zeros(0), 0.5)
    add_nms(fx, "single", fx.t32([[1, 2, 3, 4]]), fx.t32([0.3]), 0.5)

    g = fx.gen("nms", "nan_inf")
    b = clustered(fx, g, 30, 3)
    s = torch.rand(30, generator=g)
    s[[3, 11, 20]] = float("nan")
    s[7] = s[8]  # tie
    b[4, 0] = float("nan")
    b[9, 3] = float("nan")
    b[13] = fx.t32([0, 0, float("inf"), 50])
    b[14] = fx.t32([float("-inf"), 0, float("inf"), 50])
    b[15, 2] = float("inf")
    add_nms(fx, "nan_scores_nan_inf_boxes_30", b, s, 0.4,
            note="NaN scores sort first (ties by index); a box with a NaN coordinate has NaN IoU: "
                 "never suppresses, never suppressed; infinite areas give IoU 0 or NaN")
    g = fx.gen("nms", "thresholds")
    b = clustered(fx, g, 60, 4)
    s = torch.rand(60, generator=g)
    for thr in (0.0, 1.0, -0.25):
        add_nms(fx, f"clustered_60_iou{thr:g}", b, s, thr,
                note="a negative threshold suppresses every later box whose IoU is not NaN" if thr < 0 else None)

    g = fx.gen("batched_nms", "random")
    b = clustered(fx, g, 600, 20, spread=10)
    add_batched(fx, "clustered_600_5_classes_iou0.5", b, torch.rand(600, generator=g),
                torch.randint(0, 5, (600,), generator=g), 0.5)
    g = fx.gen("batched_nms", "many")
    xy = torch.rand(1200, 2, generator=g) * 300
    wh = torch.rand(1200, 2, generator=g) * 60 + 1
    add_batched(fx, "random_1200_40_classes_iou0.3", torch.cat([xy, xy + wh], 1), torch.rand(1200, generator=g),
                torch.randint(0, 40, (1200,), generator=g), 0.3)
    g = fx.gen("batched_nms", "negative_ids")
    b = clustered(fx, g, 80, 5)
    add_batched(fx, "negative_and_large_ids_80_iou0.5", b, torch.rand(80, generator=g),
                torch.tensor([[-3, 0, 7, 1000][i % 4] for i in range(80)]), 0.5)
    add_batched(fx, "empty", torch.zeros(0, 4), torch.zeros(0), torch.zeros(0, dtype=torch.int64), 0.5)
