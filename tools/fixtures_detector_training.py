"""Faster R-CNN training losses and gradients (test/fixtures/detector_training.json) from the real torchvision 0.14.1.

The models, weights and images are those of tools/fixtures_detector.py (detector.json): every floating-point
state_dict entry except the box predictor's comes from its shared hash formula (`fill_formula`, args.weights), the
box predictor (with every BatchNorm's num_batches_tracked) is read back from test/fixtures/detector/<name>.pth
(args.pth, written by fixtures_detector.py, which make_fixtures.py runs first), the images are its
`structured_images()`. One case per model:
  mobilenet_v3_large_fpn  fasterrcnn_mobilenet_v3_large_fpn
  resnet50_fpn            fasterrcnn_resnet50_fpn
with detector.json's kwargs except rpn_{pre,post}_nms_top_n_test -> rpn_pre_nms_top_n_train=300,
rpn_post_nms_top_n_train=25, plus rpn_batch_size_per_image=box_batch_size_per_image=100000: the
BalancedPositiveNegativeSamplers then keep every positive and every negative (asserted below), so the losses do not
depend on torch.randperm.

Mode: model.train(), then every nn.BatchNorm2d .eval() (running statistics, i.e. FrozenBatchNorm2d arithmetic).
Targets (args.targets, in the original image's pixels): the rectangles structured_images() paints,
img[:, y0:y1, x0:x1] -> box [x0, y0, x1, y1], labels args.targets[i].labels (int64 in torch).
losses = model(images, targets); (sum of the four losses).backward().

Outputs, in args.output_names order:
  loss_classifier, loss_box_reg, loss_objectness, loss_rpn_box_reg   float32 scalars, shape []
  proposal_boxes<i> [<=20, 4], proposal_scores<i> [<=20]            the first 20 training proposals of image i
                                                                     (filter_proposals' output, before the gt
                                                                     boxes are appended), for diagnosis
  grad:<key>                                                         float32 [66]: the gradient of the total loss
                                                                     w.r.t. state_dict entry <key> in torch layout
                                                                     (OIHW / [out, in]), 64 values at flat indices
                                                                     (k * 7919) mod numel, then [mean, mean |x|]
args.grad_shapes gives each key's full shape; args.counts the matcher/sampler counts per image.
"""
import os

import torch
from torch import nn

from fixtures_detector import CASES as EVAL_CASES
from fixtures_detector import DIR, fill_formula, formula, rule, samples, structured_images

FILE = "detector_training.json"
TOP_PROPOSALS = 20

# labels of structured_images()'s rectangles, in drawing order
TARGET_LABELS = ([1, 2], [3, 4, 1])

# the gradients recorded (state_dict keys; both torchvision models share the RPN and RoI head layouts)
COMMON_GRAD_KEYS = [
    "rpn.head.conv.0.0.weight",
    "rpn.head.cls_logits.weight",
    "rpn.head.cls_logits.bias",
    "rpn.head.bbox_pred.weight",
    "roi_heads.box_head.fc6.weight",
    "roi_heads.box_head.fc7.bias",
    "roi_heads.box_predictor.cls_score.weight",
    "roi_heads.box_predictor.bbox_pred.bias",
    "backbone.fpn.inner_blocks.0.0.weight",
    "backbone.fpn.layer_blocks.1.0.weight",
]
BODY_GRAD_KEYS = {
    # the stem conv and the last inverted-residual block's expansion conv (features[15])
    "mobilenet_v3_large_fpn": ["backbone.body.0.0.weight", "backbone.body.15.block.0.0.weight"],
    # the stem conv and the last bottleneck's 3x3 conv
    "resnet50_fpn": ["backbone.body.conv1.weight", "backbone.body.layer4.2.conv2.weight"],
}


def training_kwargs(eval_kwargs):
    kw = {k: v for k, v in eval_kwargs.items() if k not in ("rpn_pre_nms_top_n_test", "rpn_post_nms_top_n_test")}
    assert len(kw) == len(eval_kwargs) - 2, eval_kwargs
    kw.update(rpn_pre_nms_top_n_train=300, rpn_post_nms_top_n_train=25,
              rpn_batch_size_per_image=100000, box_batch_size_per_image=100000)
    return kw


def cases():
    by_name = {name: (builder, kwargs) for name, builder, kwargs in EVAL_CASES}
    for name in ("mobilenet_v3_large_fpn", "resnet50_fpn"):
        builder, kwargs = by_name[name]
        yield name, builder, training_kwargs(kwargs)


def structured_targets():
    """structured_images() and its rectangles (y0, x0, y1, x1, colour), painted in order as img[:, y0:y1, x0:x1], as
    xyxy boxes [x0, y0, x1, y1] in pixels. The rectangles are not exposed by structured_images(): they are checked
    against its pixels (each rectangle's visible part has one colour, the ring just outside it does not)."""
    rects = (((6, 8, 30, 28), (20, 36, 44, 60)),
             ((10, 4, 34, 22), (30, 18, 56, 38), (4, 26, 14, 36)))
    images = structured_images()
    targets = []
    for img, rs, labels in zip(images, rects, TARGET_LABELS):
        assert len(rs) == len(labels)
        h, w = img.shape[1:]
        owner = torch.full((h, w), -1, dtype=torch.int64)
        for r, (y0, x0, y1, x1) in enumerate(rs):
            assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
            owner[y0:y1, x0:x1] = r
        for r, (y0, x0, y1, x1) in enumerate(rs):
            assert int(owner[y0, x0]) == r
            colour = img[:, y0, x0]
            assert bool((img[:, owner == r] == colour[:, None]).all()), (r, "not one colour")
            ring = torch.zeros((h, w), dtype=torch.bool)
            ring[max(y0 - 1, 0):y1 + 1, max(x0 - 1, 0):x1 + 1] = True
            ring[y0:y1, x0:x1] = False
            ring &= owner == -1
            assert bool(ring.any()) and bool((img[:, ring] != colour[:, None]).any(0).all()), (r, "ring")
        boxes = torch.tensor([[x0, y0, x1, y1] for y0, x0, y1, x1 in rs], dtype=torch.float32)
        targets.append({"boxes": boxes, "labels": torch.tensor(labels, dtype=torch.int64)})
    return images, targets


def counting_sampler(sampler, log):
    """Wrap a BalancedPositiveNegativeSampler: log per image (#labels>=1, #labels==0, #sampled pos, #sampled neg)."""

    def run(labels):
        pos, neg = sampler(labels)
        log.append([[int((lab >= 1).sum()), int((lab == 0).sum()), int(p.sum()), int(n.sum())]
                    for lab, p, n in zip(labels, pos, neg)])
        return pos, neg

    return run


def make_case(fx, name, builder, kwargs):
    torch.manual_seed(fx.zlib.crc32(f"detector_training/{name}".encode()))
    model = builder(weights=None, weights_backbone=None, **kwargs)
    weights = fill_formula(model)
    pth = f"{DIR}/{name}.pth"
    saved = torch.load(os.path.join(fx.OUT_DIR, pth))
    missing, unexpected = model.load_state_dict(saved, strict=False)
    assert not unexpected, unexpected
    assert all(not k.startswith("roi_heads.box_predictor.") for k in missing), missing
    assert any(k.startswith("roi_heads.box_predictor.") for k in saved), list(saved)

    model.train()
    norms = 0
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()
            norms += 1
        assert not isinstance(m, nn.Dropout), "unexpected dropout"
    assert norms > 0

    params = dict(model.named_parameters())
    grad_keys = COMMON_GRAD_KEYS + BODY_GRAD_KEYS[name]
    formula_keys = {w[0] for w in weights}
    for k in grad_keys:
        assert k in params, (name, k)
        assert params[k].requires_grad, (name, k, "frozen")
        p = params[k].detach()
        if k in formula_keys:  # not a norm: rule() needs no norm keys
            expect = formula(k, p.numel(), *rule(k, list(p.shape), set()))
            assert torch.equal(p.reshape(-1), torch.from_numpy(expect)), k
        else:
            assert torch.equal(p, saved[k]), k

    images, targets = structured_targets()
    targets_in = [{k: v.clone() for k, v in t.items()} for t in targets]

    captured = {}
    rpn_log, roi_log = [], []
    model.rpn.fg_bg_sampler = counting_sampler(model.rpn.fg_bg_sampler, rpn_log)
    model.roi_heads.fg_bg_sampler = counting_sampler(model.roi_heads.fg_bg_sampler, roi_log)
    rpn_filter = model.rpn.filter_proposals
    model.rpn.filter_proposals = lambda *a: captured.setdefault("proposals", rpn_filter(*a))
    model.transform.register_forward_hook(lambda m, i, o: captured.update(image_list=o[0], targets=o[1]))
    anchor_gen = model.rpn.anchor_generator
    anchor_gen.register_forward_hook(lambda m, i, o: captured.update(anchors=o))

    model.zero_grad(set_to_none=True)
    losses = model(images, targets_in)
    assert sorted(losses) == ["loss_box_reg", "loss_classifier", "loss_objectness", "loss_rpn_box_reg"], list(losses)
    total = sum(losses.values())
    total.backward()

    # the samplers kept every candidate: the losses are deterministic
    assert len(rpn_log) == 1 and len(roi_log) == 1, (rpn_log, roi_log)
    for log in (rpn_log[0], roi_log[0]):
        for n_pos, n_neg, s_pos, s_neg in log:
            assert (s_pos, s_neg) == (n_pos, n_neg), log
            assert n_pos > 0 and n_neg > 0, log

    boxes, scores = captured["proposals"]
    image_list = captured["image_list"]
    loss_names = ["loss_classifier", "loss_box_reg", "loss_objectness", "loss_rpn_box_reg"]
    outputs, names = [], []
    for k in loss_names:
        v = losses[k].detach()
        assert v.shape == () and v.dtype == torch.float32 and torch.isfinite(v), (k, v)
        outputs.append(v)
        names.append(k)
    for i in range(len(images)):
        outputs += [boxes[i][:TOP_PROPOSALS], scores[i][:TOP_PROPOSALS]]
        names += [f"proposal_boxes{i}", f"proposal_scores{i}"]
    grad_shapes = {}
    for k in grad_keys:
        g = params[k].grad
        assert g is not None, (name, k)
        assert torch.isfinite(g).all() and bool(g.abs().sum() > 0), (name, k)
        outputs.append(samples(g))
        names.append(f"grad:{k}")
        grad_shapes[k] = list(g.shape)

    frozen = [k for k, p in model.named_parameters() if not p.requires_grad]
    args = {
        "builder": builder.__name__, "kwargs": kwargs, "pth": pth, "weights": weights,
        "mode": "model.train(), every BatchNorm2d .eval()",
        "image_sizes": [list(s) for s in image_list.image_sizes],
        "batched_shape": list(image_list.tensors.shape),
        "targets": [{"boxes": t["boxes"].tolist(), "labels": t["labels"].tolist()} for t in targets],
        "resized_target_boxes": [t["boxes"].tolist() for t in captured["targets"]],
        "anchor_counts": [len(a) for a in captured["anchors"]],
        "counts": {
            "rpn_positive": [c[0] for c in rpn_log[0]], "rpn_negative": [c[1] for c in rpn_log[0]],
            "roi_positive": [c[0] for c in roi_log[0]], "roi_negative": [c[1] for c in roi_log[0]],
        },
        "proposal_counts": [len(b) for b in boxes],
        "grad_keys": grad_keys, "grad_shapes": grad_shapes,
        "frozen_parameters": frozen,
        "loss_shape": [],
        "output_names": names,
    }
    case = {"op": "detector_training", "name": name, "args": args,
            "inputs": {f"image{i}": fx.enc(img) for i, img in enumerate(images)},
            "outputs": [fx.enc(o) for o in outputs],
            "note": "images CHW in [0, 1]; weights: the formula of tools/fixtures_detector.py, the box predictor from "
                    "args.pth; losses of model.train() with the BatchNorms in eval mode; grad:<key> = d(sum of the "
                    "four losses)/d(<key>) sampled at (k * 7919) mod numel, then [mean, mean |x|]"}
    fx.CASES.setdefault(FILE, []).append(case)
    print(f"  {FILE} {name}: " + ", ".join(f"{k}={float(losses[k]):.6f}" for k in loss_names)
          + f"; counts {args['counts']}; proposals {args['proposal_counts']}")


def make(fx):
    # leave the global RNG as found, so the tools after this one see the same state as without it
    state = torch.get_rng_state()
    try:
        for name, builder, kwargs in cases():
            make_case(fx, name, builder, kwargs)
    finally:
        torch.set_rng_state(state)
