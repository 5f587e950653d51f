"""Detection pieces (test/fixtures/detection.json) from the real torchvision.models.detection, eval mode.

Each case runs one piece of Faster R-CNN's inference on small seeded inputs:
  transform             GeneralizedRCNNTransform forward (normalize, resize, batch_images) of two images and their
                        target boxes; outputs [batched images NCHW, image_sizes, target boxes 0, target boxes 1]
  transform_postprocess resize_boxes of detections back to the original sizes; outputs one per image
  anchors               AnchorGenerator forward; output the anchors of one image (all images get the same)
  box_coder_decode      BoxCoder.decode_single; box_coder_encode: BoxCoder.encode_single
  rpn_head              RPNHead forward; outputs the logits of each level, then the bbox_pred of each level
  rpn_filter            RegionProposalNetwork forward from given head outputs (anchors, concat_box_prediction_layers,
                        decode, filter_proposals); outputs boxes then scores of each image
  rpn_forward           RegionProposalNetwork forward (head included); outputs boxes then scores of each image
  box_head              TwoMLPHead then FastRCNNPredictor; outputs [representation, class_logits, box_regression]
  roi_postprocess       RoIHeads.postprocess_detections; outputs boxes, scores, labels of each image
  roi_heads_forward     RoIHeads forward (MultiScaleRoIAlign, TwoMLPHead, FastRCNNPredictor, postprocess)
Inputs are torch's (images CHW, feature maps NCHW); weights are state_dict entries "state.<key>" under Faster R-CNN's
names (rpn.head.conv.0.0.weight, roi_heads.box_head.fc6.weight, ...). Scores are continuous random values, so top-k and
NMS orders have no ties.
"""
from collections import OrderedDict

import torch
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.roi_heads import RoIHeads
from torchvision.models.detection.rpn import concat_box_prediction_layers, RegionProposalNetwork, RPNHead
from torchvision.models.detection.transform import GeneralizedRCNNTransform
from torchvision.ops import MultiScaleRoIAlign

FILE = "detection.json"


def record(fx, op, name, args, inputs, outputs, note=None):
    case = {"op": op, "name": name, "args": args, "inputs": {k: fx.enc(v) for k, v in inputs.items()},
            "outputs": [fx.enc(o) for o in outputs]}
    if note:
        case["note"] = note
    for c in fx.CASES.setdefault(FILE, []):
        assert (c["op"], c["name"]) != (op, name), ("duplicate case", op, name)
    fx.CASES[FILE].append(case)


def seeded(fx, op, name):
    torch.manual_seed(fx.zlib.crc32(f"{op}/{name}".encode()))
    return fx.gen(op, name)


def randomise(module, g, scale=0.2):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * scale)


def state(prefix, module):
    return {f"state.{prefix}{k}": v for k, v in module.state_dict().items()}


def boxes_in(g, n, h, w, smin=3.0, smax=20.0):
    xy = torch.rand(n, 2, generator=g) * torch.tensor([w, h])
    wh = torch.rand(n, 2, generator=g) * (smax - smin) + smin
    return torch.cat([xy, xy + wh], 1)


def transform_cases(fx):
    op = "transform"
    for name, sizes, min_size, max_size, fixed in (
            # image 1: 9 * float32(26 / 9) = 25.99999952 gives 25 rows, not 26 (torch's floor of the product)
            ("upscale_min_and_max_bound", [(9, 11), (9, 5)], 16, 26, None),
            ("downscale", [(30, 17), (14, 22)], 10, 20, None),
    ):
        g = seeded(fx, op, name)
        images = [torch.rand(3, h, w, generator=g) for h, w in sizes]
        boxes = [boxes_in(g, 3, h, w) for h, w in sizes]
        mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
        t = GeneralizedRCNNTransform(min_size, max_size, mean, std, fixed_size=fixed).eval()
        targets = [{"boxes": b.clone()} for b in boxes]
        with torch.no_grad():
            image_list, out_targets = t(images, targets)
        record(fx, op, name,
               {"min_size": min_size, "max_size": max_size, "image_mean": mean, "image_std": std,
                "size_divisible": 32, "image_sizes": [list(s) for s in image_list.image_sizes]},
               {"image0": images[0], "image1": images[1], "boxes0": boxes[0], "boxes1": boxes[1]},
               [image_list.tensors, torch.tensor(image_list.image_sizes),
                out_targets[0]["boxes"], out_targets[1]["boxes"]],
               note="images CHW in [0, 1]; outputs: batched NCHW, image_sizes, resized target boxes")
    name = "postprocess"
    g = seeded(fx, op, name)
    t = GeneralizedRCNNTransform(24, 40, [0.0] * 3, [1.0] * 3).eval()
    image_shapes, original = [(16, 19), (25, 14)], [(9, 11), (9, 5)]
    dets = [boxes_in(g, 4, h, w) for h, w in image_shapes]
    result = t.postprocess([{"boxes": d.clone()} for d in dets], image_shapes, original)
    record(fx, "transform_postprocess", name, {"image_shapes": image_shapes, "original_image_sizes": original},
           {"boxes0": dets[0], "boxes1": dets[1]}, [r["boxes"] for r in result])


def anchor_cases(fx):
    op = "anchors"
    for name, sizes, ratios, image, grids in (
            ("three_levels", ((16,), (32,), (64,)), ((0.5, 1.0, 2.0),) * 3, (32, 24), [(8, 6), (4, 3), (2, 2)]),
            ("half_rounding_two_sizes", ((3, 5), (7, 9)), ((1.0, 0.25), (0.5, 1.0, 3.0)), (40, 56), [(5, 7), (3, 4)]),
    ):
        gen = AnchorGenerator(sizes, ratios)
        images = ImageList(torch.zeros(2, 3, *image), [image, image])
        maps = [torch.zeros(2, 4, h, w) for h, w in grids]
        anchors = gen(images, maps)
        assert torch.equal(anchors[0], anchors[1])
        record(fx, op, name, {"sizes": [list(s) for s in sizes], "aspect_ratios": [list(r) for r in ratios],
                              "image_size": list(image), "grid_sizes": [list(s) for s in grids]},
               {}, [anchors[0], torch.cat([c for c in gen.cell_anchors])],
               note="outputs: anchors of each image, then the cell anchors of every level")


def box_coder_cases(fx):
    for name, weights in (("rpn_weights", (1.0, 1.0, 1.0, 1.0)), ("roi_weights", (10.0, 10.0, 5.0, 5.0))):
        g = seeded(fx, "box_coder", name)
        boxes = boxes_in(g, 7, 50, 50)
        codes = torch.randn(7, 12, generator=g) * 2
        codes[0, 2], codes[1, 7], codes[2, 10] = 60.0, 80.0, -30.0  # dw / dh beyond bbox_xform_clip
        coder = det_utils.BoxCoder(weights)
        record(fx, "box_coder_decode", name, {"weights": list(weights)}, {"rel_codes": codes, "boxes": boxes},
               [coder.decode(codes, [boxes])])
        reference = boxes_in(g, 7, 50, 50)
        record(fx, "box_coder_encode", name, {"weights": list(weights)},
               {"reference_boxes": reference, "proposals": boxes}, [coder.encode_single(reference, boxes)])


RPN_SIZES, RPN_RATIOS = ((8,), (16,), (32,)), ((0.5, 1.0, 2.0),) * 3
RPN_IMAGE, RPN_GRIDS, RPN_SHAPES = (40, 40), [(10, 10), (5, 5), (3, 3)], [(37, 30), (40, 26)]


def rpn(head, pre, post, nms, score):
    return RegionProposalNetwork(AnchorGenerator(RPN_SIZES, RPN_RATIOS), head, 0.7, 0.3, 256, 0.5,
                                 {"training": 2000, "testing": pre}, {"training": 2000, "testing": post}, nms,
                                 score_thresh=score).eval()


class GivenHead(torch.nn.Module):
    def __init__(self, logits, deltas):
        super().__init__()
        self.logits, self.deltas = logits, deltas

    def forward(self, x):
        return self.logits, self.deltas


def rpn_filter_cases(fx):
    op = "rpn_filter"
    for name, pre, post, nms, score in (("pre20_post15", 20, 15, 0.7, 0.0), ("pre1000_post1000", 1000, 1000, 0.7, 0.0),
                                        ("score0.6_nms0.5", 30, 25, 0.5, 0.6)):
        g = seeded(fx, op, name)
        logits = [torch.randn(2, 3, h, w, generator=g) * 2 for h, w in RPN_GRIDS]
        deltas = [torch.randn(2, 12, h, w, generator=g) * 0.3 for h, w in RPN_GRIDS]
        # high-scoring anchors shrunk to under min_size 1e-3 (dw = -10: 8 * exp(-10) < 1e-3)
        logits[0][0, 0, 3, 3], deltas[0][0, 2, 3, 3] = 9.0, -10.0
        logits[1][1, 1, 2, 4], deltas[1][1, 7, 2, 4] = 9.0, -12.0
        images = ImageList(torch.zeros(2, 3, *RPN_IMAGE), RPN_SHAPES)
        features = OrderedDict((str(i), torch.zeros(2, 4, h, w)) for i, (h, w) in enumerate(RPN_GRIDS))
        with torch.no_grad():
            boxes, _ = rpn(GivenHead(logits, deltas), pre, post, nms, score)(images, features)
        record(fx, op, name, {"pre_nms_top_n": pre, "post_nms_top_n": post, "nms_thresh": nms, "score_thresh": score,
                              "sizes": [list(s) for s in RPN_SIZES], "aspect_ratios": [list(r) for r in RPN_RATIOS],
                              "image_size": list(RPN_IMAGE), "image_shapes": [list(s) for s in RPN_SHAPES]},
               {**{f"logits{i}": t for i, t in enumerate(logits)}, **{f"deltas{i}": t for i, t in enumerate(deltas)}},
               boxes + rpn_scores(GivenHead(logits, deltas), pre, post, nms, score, images, features),
               note="logits [N, A, H, W], deltas [N, 4A, H, W] as RPNHead gives them; outputs boxes, then scores")


def rpn_scores(head, pre, post, nms, score, images, features):
    """filter_proposals' scores, which RegionProposalNetwork.forward drops."""
    module = rpn(head, pre, post, nms, score)
    objectness, deltas = module.head(list(features.values()))
    anchors = module.anchor_generator(images, list(features.values()))
    per_level = [o[0].numel() for o in objectness]
    objectness, deltas = concat_box_prediction_layers(objectness, deltas)
    proposals = module.box_coder.decode(deltas.detach(), anchors).view(len(anchors), -1, 4)
    with torch.no_grad():
        _, scores = module.filter_proposals(proposals, objectness, images.image_sizes, per_level)
    return scores


def rpn_head_cases(fx):
    op = "rpn_head"
    name = "three_levels"
    g = seeded(fx, op, name)
    head = RPNHead(6, 3)
    randomise(head, g)
    features = [torch.randn(2, 6, h, w, generator=g) for h, w in [(8, 7), (4, 4), (2, 3)]]
    with torch.no_grad():
        logits, deltas = head(features)
    record(fx, op, name, {"in_channels": 6, "num_anchors": 3},
           {**{f"x{i}": f for i, f in enumerate(features)}, **state("rpn.head.", head)}, logits + deltas,
           note="outputs: cls_logits of each level, then bbox_pred of each level (NCHW)")
    op, name = "rpn_forward", "head_and_filter"
    g = seeded(fx, op, name)
    head = RPNHead(4, 3)
    randomise(head, g, 0.5)
    features = OrderedDict((str(i), torch.randn(2, 4, h, w, generator=g)) for i, (h, w) in enumerate(RPN_GRIDS))
    images = ImageList(torch.zeros(2, 3, *RPN_IMAGE), RPN_SHAPES)
    module = rpn(head, 40, 30, 0.7, 0.0)
    with torch.no_grad():
        boxes, _ = module(images, features)
        scores = rpn_scores(head, 40, 30, 0.7, 0.0, images, features)
    record(fx, op, name, {"in_channels": 4, "pre_nms_top_n": 40, "post_nms_top_n": 30, "nms_thresh": 0.7,
                          "score_thresh": 0.0, "sizes": [list(s) for s in RPN_SIZES],
                          "aspect_ratios": [list(r) for r in RPN_RATIOS], "image_size": list(RPN_IMAGE),
                          "image_shapes": [list(s) for s in RPN_SHAPES]},
           {**{f"x{i}": f for i, f in enumerate(features.values())}, **state("rpn.head.", head)}, boxes + scores,
           note="outputs: boxes of each image, then scores of each image")


def box_head_cases(fx):
    op, name = "box_head", "two_mlp_head_and_predictor"
    g = seeded(fx, op, name)
    head, predictor = TwoMLPHead(8 * 3 * 3, 16), FastRCNNPredictor(16, 4)
    randomise(head, g)
    randomise(predictor, g)
    x = torch.randn(5, 8, 3, 3, generator=g)
    with torch.no_grad():
        rep = head(x)
        logits, regression = predictor(rep)
    record(fx, op, name, {"in_channels": 72, "representation_size": 16, "num_classes": 4},
           {"x": x, **state("roi_heads.box_head.", head), **state("roi_heads.box_predictor.", predictor)},
           [rep, logits, regression], note="x: pooled features NCHW [K, 8, 3, 3]")


def roi_heads(pool, head, predictor, score, nms, per_img):
    return RoIHeads(pool, head, predictor, 0.5, 0.5, 512, 0.25, None, score, nms, per_img).eval()


def roi_postprocess_cases(fx):
    op = "roi_postprocess"
    for name, classes, score, nms, per_img in (("c4_score0.05_nms0.5_top10", 4, 0.05, 0.5, 10),
                                               ("c6_score0.2_nms0.3_top100", 6, 0.2, 0.3, 100)):
        g = seeded(fx, op, name)
        shapes = [(40, 50), (48, 33)]
        centres = torch.tensor([[12.0, 10], [30, 25], [20, 35]])
        proposals = []
        for i, (h, w) in enumerate(shapes):
            c = centres[torch.randint(0, 3, (9,), generator=g)] + torch.randn(9, 2, generator=g) * 2
            s = torch.rand(9, 2, generator=g) * 14 + 6
            proposals.append(torch.cat([c - s / 2, c + s / 2], 1))
        proposals[1][8] = torch.tensor([10.0, 10.0, 10.05, 30.0])  # width 0.05 * exp(d): small after decoding
        logits = torch.randn(18, classes, generator=g) * 2
        regression = torch.randn(18, classes * 4, generator=g)
        regression[17, 2::4] = -15.0  # dw = -3: width 0.05 * exp(-3) < 1e-2, removed as small
        module = roi_heads(None, None, None, score, nms, per_img)
        with torch.no_grad():
            boxes, scores, labels = module.postprocess_detections(logits, regression, proposals, shapes)
        record(fx, op, name, {"num_classes": classes, "score_thresh": score, "nms_thresh": nms,
                              "detections_per_img": per_img, "image_shapes": [list(s) for s in shapes]},
               {"class_logits": logits, "box_regression": regression, "proposals0": proposals[0],
                "proposals1": proposals[1]}, boxes + scores + labels,
               note="outputs: boxes of each image, scores of each image, labels of each image")


def roi_heads_forward_cases(fx):
    op, name = "roi_heads_forward", "msroialign_twomlp_predictor"
    g = seeded(fx, op, name)
    pool = MultiScaleRoIAlign(["0", "1"], 3, 2, canonical_scale=28, canonical_level=4)
    head, predictor = TwoMLPHead(4 * 3 * 3, 12), FastRCNNPredictor(12, 3)
    randomise(head, g, 0.3)
    randomise(predictor, g, 0.5)
    features = OrderedDict((str(i), torch.randn(2, 4, s, s, generator=g)) for i, s in enumerate([16, 8]))
    shapes = [(64, 60), (50, 64)]
    proposals = [boxes_in(g, 8, h - 20, w - 20, 5.0, 30.0) for h, w in shapes]
    module = roi_heads(pool, head, predictor, 0.05, 0.5, 20)
    with torch.no_grad():
        result, _ = module(features, proposals, shapes)
        levels = pool.map_levels(proposals)
    assert sorted(set(levels.tolist())) == [0, 1], levels
    record(fx, op, name, {"featmap_names": ["0", "1"], "output_size": 3, "sampling_ratio": 2, "canonical_scale": 28,
                          "canonical_level": 4, "representation_size": 12, "num_classes": 3, "score_thresh": 0.05,
                          "nms_thresh": 0.5, "detections_per_img": 20, "image_shapes": [list(s) for s in shapes]},
           {**{f"x{i}": f for i, f in enumerate(features.values())}, "proposals0": proposals[0],
            "proposals1": proposals[1], **state("roi_heads.box_head.", head),
            **state("roi_heads.box_predictor.", predictor)},
           [r[k] for k in ("boxes", "scores", "labels") for r in result],
           note="outputs: boxes of each image, scores of each image, labels of each image")


def make(fx):
    transform_cases(fx)
    anchor_cases(fx)
    box_coder_cases(fx)
    rpn_filter_cases(fx)
    rpn_head_cases(fx)
    box_head_cases(fx)
    roi_postprocess_cases(fx)
    roi_heads_forward_cases(fx)
