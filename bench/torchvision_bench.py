"""Times torchvision's own ops for `npm run bench` (same machine, same run).

Usage: /usr/bin/python3 bench/torchvision_bench.py CASE [CASE ...]
Prints one JSON object: {case: {"forward_ms": median, "backward_ms": median}}.
"""
import json
import statistics
import sys
import time

import torch
import torchvision.ops as ops

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


CASES = {"sigmoid_focal_loss_100000x80": focal_loss_100000x80}

if __name__ == "__main__":
    print(json.dumps({name: CASES[name]() for name in sys.argv[1:]}))
