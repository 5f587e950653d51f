"""Times torchvision's own ops (and Deformable DETR's PyTorch msDeformAttn) for `npm run bench` (same machine, same
run).

Usage: /usr/bin/python3 bench/torchvision_bench.py CASE [CASE ...]
Prints one JSON object: {case: {"forward_ms": median, "backward_ms": median}} (and the detector case's
"detections": how many torchvision's model returned).
"""
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F
import torchvision.ops as ops

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tools'))
from fixtures_ms_deform_attn import ms_deform_attn_core_pytorch  # noqa: E402  (Deformable DETR's reference, written once)

torch.set_num_threads(1)


def median_ms(fn, repeats=7, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def focal_loss_100000x80():
    g = torch.Generator().manual_seed(0)
    logits = (torch.randn(100000, 80, generator=g) * 3).requires_grad_()
    targets = (torch.rand(100000, 80, generator=g) < 0.01).float()

    def forward():
        with torch.no_grad():
            ops.sigmoid_focal_loss(logits, targets, reduction="mean")

    def forward_backward():
        loss = ops.sigmoid_focal_loss(logits, targets, reduction="mean")
        loss.backward()
        logits.grad = None

    return {"forward_ms": median_ms(forward), "forward_backward_ms": median_ms(forward_backward)}


def bench_rois(g, k):
    """The RoI bench distribution: k boxes [batch index (0 or 1), x1, y1, x2, y2] of side [16, 144) in a 512x512 image."""
    wh = torch.rand(k, 2, generator=g) * 128 + 16
    xy = torch.rand(k, 2, generator=g) * (512 - wh)
    index = torch.randint(0, 2, (k, 1), generator=g).float()
    return torch.cat([index, xy, xy + wh], 1)


def roi_align_2x64x64x256_k512_7x7():
    """The roi_align bench case: backward is timed alone (a fresh forward runs outside the clock)."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 256, 64, 64, generator=g).requires_grad_()
    rois = bench_rois(g, 512)
    args = dict(output_size=7, spatial_scale=1 / 8, sampling_ratio=2, aligned=True)
    dy = torch.randn(512, 256, 7, 7, generator=g)

    def forward():
        with torch.no_grad():
            ops.roi_align(x, rois, **args)

    times = []
    for i in range(9):
        out = ops.roi_align(x, rois, **args)
        start = time.perf_counter()
        out.backward(dy)
        if i >= 2:
            times.append((time.perf_counter() - start) * 1000)
        x.grad = None
    return {"forward_ms": median_ms(forward), "backward_ms": statistics.median(times)}


def nms_boxes(n, seed):
    """The nms bench distribution: x1, y1 in [0, 1000), w, h in [1, 101), 80 classes."""
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 1000
    wh = torch.rand(n, 2, generator=g) * 100 + 1
    return torch.cat([xy, xy + wh], 1), torch.rand(n, generator=g), torch.randint(0, 80, (n,), generator=g)


def nms_case(n):
    def run():
        boxes, scores, _ = nms_boxes(n, n)
        repeats = 3 if n > 20000 else 7
        return {"forward_ms": median_ms(lambda: ops.nms(boxes, scores, 0.5), repeats=repeats, warmup=1)}

    return run


def batched_nms_5000x80():
    boxes, scores, idxs = nms_boxes(5000, 1)
    return {"forward_ms": median_ms(lambda: ops.batched_nms(boxes, scores, idxs, 0.5))}


def ps_roi_align_2x64x64x490_k256_7x7():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 490, 64, 64, generator=g).requires_grad_()
    rois = bench_rois(g, 256)
    args = dict(output_size=7, spatial_scale=1 / 8, sampling_ratio=2)
    dy = torch.randn(256, 10, 7, 7, generator=g)

    def forward():
        with torch.no_grad():
            ops.ps_roi_align(x, rois, **args)

    def forward_backward():
        ops.ps_roi_align(x, rois, **args).backward(dy)
        x.grad = None

    return {"forward_ms": median_ms(forward), "forward_backward_ms": median_ms(forward_backward)}


def deform_conv2d_2x64x64x64_3x3():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 64, 64, 64, generator=g).requires_grad_()
    offset = torch.randn(2, 18, 64, 64, generator=g).requires_grad_()
    mask = torch.rand(2, 9, 64, 64, generator=g).requires_grad_()
    weight = (torch.randn(64, 64, 3, 3, generator=g) * 0.05).requires_grad_()
    bias = (torch.randn(64, generator=g) * 0.1).requires_grad_()
    dy = torch.randn(2, 64, 64, 64, generator=g)
    leaves = (x, offset, mask, weight, bias)

    def run():
        return ops.deform_conv2d(x, offset, weight, bias, padding=1, mask=mask)

    def forward():
        with torch.no_grad():
            run()

    def forward_backward():
        run().backward(dy)
        for t in leaves:
            t.grad = None

    return {"forward_ms": median_ms(forward), "forward_backward_ms": median_ms(forward_backward, repeats=5)}


def ms_deform_attn_q300_8x32():
    """The msDeformAttn bench case (RT-DETR-like): B=1, Q=300, 8 heads of 32, levels 80/40/20, 4 points."""
    g = torch.Generator().manual_seed(0)
    shapes = [(80, 80), (40, 40), (20, 20)]
    s = sum(h * w for h, w in shapes)
    value = torch.randn(1, s, 8, 32, generator=g).requires_grad_()
    locations = torch.rand(1, 300, 8, 3, 4, 2, generator=g).requires_grad_()
    weights = (torch.rand(1, 300, 8, 3, 4, generator=g) / 12).requires_grad_()
    dy = torch.randn(1, 300, 256, generator=g)
    leaves = (value, locations, weights)

    def forward():
        with torch.no_grad():
            ms_deform_attn_core_pytorch(value, shapes, locations, weights)

    def forward_backward():
        ms_deform_attn_core_pytorch(value, shapes, locations, weights).backward(dy)
        for t in leaves:
            t.grad = None

    return {"forward_ms": median_ms(forward), "forward_backward_ms": median_ms(forward_backward)}


def structured_image(h, w):
    """bench/cases/detector.ts's structuredImage, CHW: gradients with solid rectangles [y0, x0, y1, x1) (fractions)."""
    rects = [(0.1, 0.1, 0.6, 0.45, (0.9, 0.1, 0.1)), (0.4, 0.55, 0.9, 0.95, (0.1, 0.2, 0.9)),
             (0.15, 0.6, 0.35, 0.8, (0.95, 0.9, 0.1)), (0.7, 0.05, 0.95, 0.3, (0.05, 0.05, 0.05))]
    x = torch.arange(w, dtype=torch.float64).reshape(1, w).expand(h, w)
    y = torch.arange(h, dtype=torch.float64).reshape(h, 1).expand(h, w)
    img = torch.stack([0.6 * x / w, 0.5 * y / h, 0.25 * (x / w + y / h) + 0.2])
    js_round = lambda v: math.floor(v + 0.5)  # noqa: E731  (JavaScript's Math.round, not Python's round-half-even)
    for y0, x0, y1, x1, colour in rects:
        for c in range(3):
            img[c, js_round(y0 * h):js_round(y1 * h), js_round(x0 * w):js_round(x1 * w)] = colour[c]
    return img.float().contiguous()


def faster_rcnn_mobilenet_v3_large_320_fpn_240x320():
    """The detector bench case: fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None,
    num_classes=91).eval() on bench/cases/detector.ts's 240x320 image, with its weights: tools/fixtures_detector.py's
    formula and rule for every entry (test/support/formula_weights.ts computes the same), so both run the same
    network and postprocessing. Timed: model([image]) under no_grad."""
    from fixtures_detector import formula, rule
    from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_320_fpn
    model = fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None, num_classes=91).eval()
    norm_keys = {f"{name}.{k}" for name, m in model.named_modules() if isinstance(m, torch.nn.BatchNorm2d)
                 for k in ("weight", "bias", "running_mean", "running_var")}
    with torch.no_grad():
        for key, value in model.state_dict().items():
            if not value.dtype.is_floating_point:
                continue
            offset, scale = rule(key, list(value.shape), norm_keys)
            value.copy_(torch.from_numpy(formula(key, value.numel(), offset, scale)).reshape(value.shape))
    image = structured_image(240, 320)

    def forward():
        with torch.no_grad():
            return model([image])

    detections = len(forward()[0]["scores"])
    return {"forward_ms": median_ms(forward, repeats=5, warmup=1), "detections": detections}


CASES = {
    "sigmoid_focal_loss_100000x80": focal_loss_100000x80,
    "roi_align_2x64x64x256_k512_7x7": roi_align_2x64x64x256_k512_7x7,
    "ps_roi_align_2x64x64x490_k256_7x7": ps_roi_align_2x64x64x490_k256_7x7,
    "batched_nms_5000x80": batched_nms_5000x80,
    **{f"nms_{n}": nms_case(n) for n in (5000, 10000, 20000, 50000, 100000)},
    "deform_conv2d_2x64x64x64_3x3": deform_conv2d_2x64x64x64_3x3,
    "ms_deform_attn_q300_8x32_80-40-20_p4": ms_deform_attn_q300_8x32,
    "faster_rcnn_mobilenet_v3_large_320_fpn_240x320": faster_rcnn_mobilenet_v3_large_320_fpn_240x320,
}

if __name__ == "__main__":
    print(json.dumps({name: CASES[name]() for name in sys.argv[1:]}))
