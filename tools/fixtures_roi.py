"""RoI family fixtures (roi.json) from the real torchvision.ops, NCHW (specs transpose for channelsLast).

Random cases cover aligned true/false, sampling_ratio -1/1/2, spatial_scale 1, 0.5, 1/8, boxes inside, partly
and wholly outside the map, degenerate (zero size, reversed) boxes, fractional batch indices, K = 0, and
channel counts that are and are not multiples of 4 (the wasm kernels work in f32x4 lanes).
"""
import torch
import torchvision.ops as tvo

ROI = "roi.json"
SCALES = {"1": 1.0, "0.5": 0.5, "0.125": 0.125}


def map_boxes(g, n_images, height, width):
    """Boxes in feature-map units (batch index, x1, y1, x2, y2), one of each kind."""
    def uni(lo, hi):
        return float(torch.rand(1, generator=g)) * (hi - lo) + lo

    rows = []
    for _ in range(3):  # inside
        x1, y1 = uni(0, width - 3), uni(0, height - 3)
        rows.append([x1, y1, x1 + uni(0.4, 5), y1 + uni(0.4, 4)])
    rows.append([uni(-3, -1.2), uni(-2.5, 1), uni(2, 5), uni(height - 1, height + 2.5)])  # partly outside
    rows.append([uni(width + 1.5, width + 3), uni(0, 3), uni(width + 4, width + 6), uni(4, 6)])  # wholly outside
    rows.append([uni(-4, -3), uni(height + 2, height + 3), uni(-2.5, -1.5), uni(height + 4, height + 5)])  # outside
    x1, y1 = uni(1, width - 2), uni(1, height - 2)
    rows.append([x1, y1, x1, y1 + uni(0.5, 2)])  # zero width
    rows.append([x1 + 1.5, y1 + 1.2, x1, y1])  # reversed
    rows.append([uni(-1.7, -0.6), uni(-1.6, -0.4), width + uni(0.3, 1.6), height + uni(0.2, 1.4)])  # covers the map
    rows.append([x1, y1, x1 + uni(0.01, 0.2), y1 + uni(0.01, 0.2)])  # tiny
    idx = [float(torch.randint(0, n_images, (1,), generator=g)) for _ in rows]
    return torch.tensor([[i, *r] for i, r in zip(idx, rows)], dtype=torch.float32)


def to_image_units(rois, scale):
    out = rois.clone()
    out[:, 1:] = rois[:, 1:] / scale
    return out


def roi_align_cases(fx):
    op = "roi_align"
    height, width = 7, 9
    channels = {"-1": 3, "1": 5, "2": 4}
    sizes = {"1": (2, 3), "0.5": (3, 2), "0.125": (1, 1)}
    for aligned in (False, True):
        for sr in (-1, 1, 2):
            for sname, scale in SCALES.items():
                name = f"aligned_{str(aligned).lower()}_sr{sr}_scale{sname}"
                g = fx.gen(op, name)
                c = channels[str(sr)]
                x = torch.randn(2, c, height, width, generator=g)
                boxes = to_image_units(map_boxes(g, 2, height, width), scale)
                oh, ow = sizes[sname]
                fx.add(ROI, op, name,
                       lambda input, boxes, oh=oh, ow=ow, scale=scale, sr=sr, aligned=aligned:
                       tvo.roi_align(input, boxes, (oh, ow), scale, sr, aligned),
                       {"input": x, "boxes": boxes},
                       {"output_size": [oh, ow], "spatial_scale": scale, "sampling_ratio": sr, "aligned": aligned})

    g = fx.gen(op, "wide_17_channels_7x7")
    x = torch.randn(3, 17, 10, 12, generator=g)
    boxes = map_boxes(g, 3, 10, 12)
    boxes[:, 0] = torch.tensor([2.0, 1.0, 0.0, 2.0, 1.0, 0.0, 2.0, 1.0, 2.0, 0.0])[: boxes.shape[0]]
    fx.add(ROI, op, "wide_17_channels_7x7",
           lambda input, boxes: tvo.roi_align(input, boxes, 7, 1.0, 2, True),
           {"input": x, "boxes": boxes}, {"output_size": [7, 7], "spatial_scale": 1.0, "sampling_ratio": 2,
                                           "aligned": True})

    g = fx.gen(op, "fractional_batch_index")
    x = torch.randn(2, 2, 6, 6, generator=g)
    boxes = torch.tensor([[0.99, 1.2, 0.7, 4.1, 3.3], [1.5, 0.2, 1.1, 5.5, 4.9], [1.999, 2.5, 2.5, 3.5, 5.0]])
    fx.add(ROI, op, "fractional_batch_index",
           lambda input, boxes: tvo.roi_align(input, boxes, 2, 1.0, -1, False),
           {"input": x, "boxes": boxes}, {"output_size": [2, 2], "spatial_scale": 1.0, "sampling_ratio": -1,
                                           "aligned": False}, note="batch index truncated toward 0")

    x = torch.randn(2, 3, 5, 5, generator=fx.gen(op, "no_boxes"))
    fx.add(ROI, op, "no_boxes", lambda input, boxes: tvo.roi_align(input, boxes, 2, 1.0, 2, False),
           {"input": x, "boxes": torch.zeros(0, 5)},
           {"output_size": [2, 2], "spatial_scale": 1.0, "sampling_ratio": 2, "aligned": False}, note="K = 0")

    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    known = [  # SEMANTICS.md: (box, output size, sampling ratio, aligned, expected)
        ([0, 0, 3, 3], 2, 1, False, [[3.75, 5.25], [9.75, 11.25]]),
        ([0, 0, 4, 4], 4, -1, True, x[0, 0].tolist()),
        ([1, 1, 1, 1], 1, -1, False, [[7.5]]),
        ([1, 1, 1, 1], 1, -1, True, [[0.0]]),
        ([-2, -2, 1, 1], 1, 2, False, [[0.3125]]),
    ]
    for i, (box, size, sr, aligned, expected) in enumerate(known):
        boxes = torch.tensor([[0.0, *box]])
        out = fx.add(ROI, op, f"known_{i}", lambda input, boxes, size=size, sr=sr, aligned=aligned:
                     tvo.roi_align(input, boxes, size, 1.0, sr, aligned),
                     {"input": x, "boxes": boxes},
                     {"output_size": [size, size], "spatial_scale": 1.0, "sampling_ratio": sr, "aligned": aligned},
                     note="known value of SEMANTICS.md")
        fx.check(f"roi_align known {i}", fx.close(out[0, 0], expected), out[0, 0].tolist())


def roi_pool_cases(fx):
    op = "roi_pool"
    height, width = 7, 9
    for sname, scale in SCALES.items():
        for oh, ow in ((2, 3), (3, 3)):
            name = f"scale{sname}_{oh}x{ow}"
            g = fx.gen(op, name)
            x = torch.randn(2, 3, height, width, generator=g)
            boxes = to_image_units(map_boxes(g, 2, height, width), scale)
            fx.add(ROI, op, name, lambda input, boxes, oh=oh, ow=ow, scale=scale: tvo.roi_pool(input, boxes, (oh, ow), scale),
                   {"input": x, "boxes": boxes}, {"output_size": [oh, ow], "spatial_scale": scale})

    g = fx.gen(op, "ties_first_max")
    x = torch.randint(0, 3, (2, 5, 6, 7), generator=g).float()
    boxes = map_boxes(g, 2, 6, 7)
    fx.add(ROI, op, "ties_first_max", lambda input, boxes: tvo.roi_pool(input, boxes, (2, 2), 1.0),
           {"input": x, "boxes": boxes}, {"output_size": [2, 2], "spatial_scale": 1.0},
           note="integer-valued input: ties everywhere, the first maximum in row-major order wins")

    g = fx.gen(op, "wide_17_channels_7x7")
    x = torch.randn(3, 17, 10, 12, generator=g)
    boxes = map_boxes(g, 3, 10, 12)
    boxes[:, 0] = torch.tensor([2.0, 1.0, 0.0, 2.0, 1.0, 0.0, 2.0, 1.0, 2.0, 0.0])[: boxes.shape[0]]
    fx.add(ROI, op, "wide_17_channels_7x7", lambda input, boxes: tvo.roi_pool(input, boxes, 7, 1.0),
           {"input": x, "boxes": boxes}, {"output_size": [7, 7], "spatial_scale": 1.0})

    x = torch.randn(2, 3, 5, 5, generator=fx.gen(op, "no_boxes"))
    fx.add(ROI, op, "no_boxes", lambda input, boxes: tvo.roi_pool(input, boxes, 2, 1.0),
           {"input": x, "boxes": torch.zeros(0, 5)}, {"output_size": [2, 2], "spatial_scale": 1.0}, note="K = 0")

    x = torch.arange(25.0).reshape(1, 1, 5, 5)
    known = [([0, 0, 4, 4], 2, 1.0, [[12.0, 14.0], [22.0, 24.0]]), ([1, 1, 5, 5], 1, 0.5, [[18.0]])]
    for i, (box, size, scale, expected) in enumerate(known):
        out = fx.add(ROI, op, f"known_{i}", lambda input, boxes, size=size, scale=scale: tvo.roi_pool(input, boxes, size, scale),
                     {"input": x, "boxes": torch.tensor([[0.0, *box]])}, {"output_size": [size, size], "spatial_scale": scale},
                     note="known value of SEMANTICS.md")
        fx.check(f"roi_pool known {i}", fx.close(out[0, 0], expected), out[0, 0].tolist())


def ps_cases(fx):
    height, width = 7, 9
    for op, fn in (("ps_roi_align", tvo.ps_roi_align), ("ps_roi_pool", tvo.ps_roi_pool)):
        ratios = (-1, 1, 2) if op == "ps_roi_align" else (None,)
        for sr in ratios:
            for sname, scale in SCALES.items():
                oh, ow = (2, 3) if sname != "0.5" else (3, 2)
                name = f"scale{sname}" + (f"_sr{sr}" if sr is not None else "")
                g = fx.gen(op, name)
                x = torch.randn(2, 2 * oh * ow, height, width, generator=g)
                boxes = to_image_units(map_boxes(g, 2, height, width), scale)
                # NaN in torchvision (0/0): degenerate boxes with an adaptive grid (covered in the specs)
                if op == "ps_roi_align" and sr == -1:
                    boxes = boxes[[i for i in range(boxes.shape[0]) if i not in (6, 7)]]
                args = {"output_size": [oh, ow], "spatial_scale": scale}
                if sr is not None:
                    args["sampling_ratio"] = sr
                    call = lambda input, boxes, oh=oh, ow=ow, scale=scale, sr=sr: fn(input, boxes, (oh, ow), scale, sr)
                else:
                    call = lambda input, boxes, oh=oh, ow=ow, scale=scale: fn(input, boxes, (oh, ow), scale)
                note = ("forward bins clip to H-1/W-1, backward bins to H/W (torchvision quirk)"
                        if op == "ps_roi_pool" else None)
                fx.add(ROI, op, name, call, {"input": x, "boxes": boxes}, args, note=note)
        g = fx.gen(op, "wide_7x7")
        x = torch.randn(2, 2 * 49, 8, 9, generator=g)
        boxes = map_boxes(g, 2, 8, 9)[:6]
        boxes[:, 0] = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
        extra = (2,) if op == "ps_roi_align" else ()
        args = {"output_size": [7, 7], "spatial_scale": 1.0}
        if extra:
            args["sampling_ratio"] = 2
        fx.add(ROI, op, "wide_7x7", lambda input, boxes: fn(input, boxes, 7, 1.0, *extra),
               {"input": x, "boxes": boxes}, args)
        x = torch.randn(2, 4, 5, 5, generator=fx.gen(op, "no_boxes"))
        args = {"output_size": [2, 2], "spatial_scale": 1.0}
        if extra:
            args["sampling_ratio"] = 2
        fx.add(ROI, op, "no_boxes", lambda input, boxes: fn(input, boxes, 2, 1.0, *extra),
               {"input": x, "boxes": torch.zeros(0, 5)}, args, note="K = 0")


def multi_scale_cases(fx):
    """MultiScaleRoIAlign: the feature dict's order (not featmap_names') sets the levels; 'extra' is filtered out."""
    from collections import OrderedDict

    op = "multi_scale_roi_align"
    image_shapes = [(64, 48), (60, 40)]
    names = ["feat2", "feat1", "feat3"]
    for canonical_scale, canonical_level, sr, size in ((32, 3, 2, (3, 3)), (224, 4, -1, (2, 2))):
        name = f"three_levels_s{canonical_scale}_l{canonical_level}"
        g = fx.gen(op, name)
        feats = OrderedDict(
            feat1=torch.randn(2, 3, 16, 12, generator=g),
            extra=torch.randn(2, 3, 5, 5, generator=g),
            feat2=torch.randn(2, 3, 8, 6, generator=g),
            feat3=torch.randn(2, 3, 4, 3, generator=g),
        )
        boxes = []
        for count in (5, 4):
            xy = torch.rand(count, 2, generator=g) * 30
            wh = torch.rand(count, 2, generator=g) * 40 + 3
            boxes.append(torch.cat([xy, xy + wh], 1))
        layer = tvo.MultiScaleRoIAlign(names, size, sr, canonical_scale=canonical_scale,
                                       canonical_level=canonical_level)

        def fn(feat1, extra, feat2, feat3, boxes0, boxes1, layer=layer):
            x = OrderedDict(feat1=feat1, extra=extra, feat2=feat2, feat3=feat3)
            return layer(x, [boxes0, boxes1], image_shapes)

        fx.add(ROI, op, name, fn, {**feats, "boxes0": boxes[0], "boxes1": boxes[1]},
               {"featmap_names": names, "output_size": list(size), "sampling_ratio": sr,
                "canonical_scale": canonical_scale, "canonical_level": canonical_level,
                "image_shapes": [list(s) for s in image_shapes]})

    # LevelMapper known values (SEMANTICS.md): k_min 2, k_max 5
    from torchvision.ops.poolers import initLevelMapper

    mapper = initLevelMapper(2, 5)
    sides = [16.0, 112.0, 223.9, 224.0, 448.0, 1000.0]
    levels = mapper([torch.tensor([[0.0, 0.0, s, s] for s in sides])])
    fx.check("LevelMapper known levels", levels.tolist() == [0, 1, 1, 2, 3, 3], levels.tolist())


def make(fx):
    roi_align_cases(fx)
    roi_pool_cases(fx)
    ps_cases(fx)
    multi_scale_cases(fx)
