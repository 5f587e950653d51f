"""Layer fixtures (layers.json, faster_rcnn_box_branch.safetensors) from the real torchvision modules.

A layer case runs a torchvision module (seeded init, biases and norm statistics randomised so that every weight
matters) on NCHW inputs through torch.func-style functional_call, so gradients reach the inputs and every parameter:
  op      the tfjs layer class, args {"config": the tfjs layer config, "training", "trainable", "non_trainable"},
  inputs  "x0", "x1", ... (NCHW, in order) and "state.<state_dict key>" (torch layouts; num_batches_tracked left out),
  outputs one per module output (NCHW), dys, grads (w.r.t. the inputs and parameters), state_after (buffers after a
          training-mode forward).
drop_block2d/3d and stochastic_depth cases replay torchvision's own Bernoulli draw: torch.manual_seed(s), the
torchvision function, torch.manual_seed(s), the same torch.empty(...).bernoulli_(rate); the noise (int 0/1) is an
input and the output is torchvision's.

The end-to-end case writes test/fixtures/faster_rcnn_box_branch.safetensors: the state_dict of a
FeaturePyramidNetwork([8, 16, 32], 16, LastLevelMaxPool()) under 'backbone.fpn.' and of Faster R-CNN's TwoMLPHead
(16*7*7 -> 32) under 'roi_heads.box_head.', written without the safetensors package; its inputs and the outputs of
FPN, MultiScaleRoIAlign(['0', '1', '2'], 7, 2) and the head are the case 'faster_rcnn_box_branch' in layers.json.
"""
import json
import os
import struct
from collections import OrderedDict

import torch
import torchvision.ops as tvo
from torch.nn.utils import stateless
from torchvision.models.detection.faster_rcnn import TwoMLPHead
from torchvision.ops import misc
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool, LastLevelP6P7

LAYERS = "layers.json"
SAFETENSORS = "faster_rcnn_box_branch.safetensors"
ACT = {"relu": torch.nn.ReLU, "relu6": torch.nn.ReLU6, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh,
       "silu": torch.nn.SiLU, "hardswish": torch.nn.Hardswish, "hardsigmoid": torch.nn.Hardsigmoid,
       "gelu": torch.nn.GELU, None: None}


def randomise(module, g):
    """Non-zero biases and BN affine/statistics, so that a misplaced weight shows."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("bias"):
                p.copy_(torch.rand(p.shape, generator=g) * 0.4 - 0.2)
        for m in module.modules():
            if isinstance(m, (torch.nn.modules.batchnorm._BatchNorm, misc.FrozenBatchNorm2d, torch.nn.LayerNorm)):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.rand(m.bias.shape, generator=g) - 0.5)
                if hasattr(m, "running_mean") and m.running_mean is not None:
                    m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=g) - 0.5)
                    m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)


def layer_case(fx, op, name, module, config, xs, training=False, grad=True):
    """Record module(xs) (a list of NCHW inputs; a dict input for FPN) as a case of layers.json."""
    module.train(training)
    params = OrderedDict((k, v.detach().clone().requires_grad_(grad)) for k, v in module.named_parameters())
    buffers = OrderedDict((k, v.detach().clone()) for k, v in module.named_buffers() if "num_batches" not in k)
    state_before = OrderedDict((k, v.detach().clone()) for k, v in module.state_dict().items() if "num_batches" not in k)
    leaves = [x.detach().clone().requires_grad_(grad) for x in xs]
    arg = OrderedDict((str(i), x) for i, x in enumerate(leaves)) if op == "FeaturePyramidNetwork" else leaves[0]
    out = stateless.functional_call(module, {**params, **buffers}, (arg,))
    outs = list(out.values()) if isinstance(out, dict) else [out]
    case = {
        "op": op, "name": name,
        "args": {"config": config, "training": training,
                 "trainable": sum(p.numel() for p in params.values()),
                 "non_trainable": sum(b.numel() for b in buffers.values()),
                 "trainable_count": len(params), "non_trainable_count": len(buffers)},
        "inputs": {**{f"x{i}": fx.enc(x) for i, x in enumerate(xs)},
                   **{f"state.{k}": fx.enc(v) for k, v in state_before.items()}},
        "outputs": [fx.enc(o) for o in outs],
    }
    if grad:
        dys = [torch.randn(o.shape, generator=fx.gen(op, name, "dy", i)) for i, o in enumerate(outs)]
        total = sum((o * dy).sum() for o, dy in zip(outs, dys))
        wrt = {**{f"x{i}": x for i, x in enumerate(leaves)}, **{f"state.{k}": v for k, v in params.items()}}
        gs = torch.autograd.grad(total, list(wrt.values()), allow_unused=True)
        case["dys"] = [fx.enc(d) for d in dys]
        case["grads"] = {k: fx.enc(torch.zeros_like(v) if g is None else g) for (k, v), g in zip(wrt.items(), gs)}
    if training and buffers:
        case["state_after"] = {k: fx.enc(v) for k, v in buffers.items()}
    for c in fx.CASES.setdefault(LAYERS, []):
        assert (c["op"], c["name"]) != (op, name), ("duplicate case", op, name)
    fx.CASES[LAYERS].append(case)


def frozen_bn_cases(fx):
    op = "FrozenBatchNorm2d"
    for name, eps in (("eps_default", 1e-5), ("eps_0.1", 0.1)):
        g = fx.gen(op, name)
        m = misc.FrozenBatchNorm2d(5, eps=eps)
        randomise(m, g)
        layer_case(fx, op, name, m, {"numFeatures": 5, "eps": eps}, [torch.randn(2, 5, 4, 3, generator=g)])


def conv_norm_act_cases(fx):
    variants = [
        # name, kwargs of torchvision, tfjs config, training
        ("default_eval", {}, {}, False),
        ("default_train", {}, {}, True),
        ("k1_s2_no_norm_no_act", {"kernel_size": 1, "stride": 2, "norm_layer": None, "activation_layer": None},
         {"kernelSize": 1, "stride": 2, "normLayer": None, "activation": None}, False),
        ("k3_s2_groups2_frozen_relu6", {"stride": 2, "groups": 2, "norm_layer": misc.FrozenBatchNorm2d,
                                        "activation_layer": torch.nn.ReLU6},
         {"stride": 2, "groups": 2, "normLayer": "frozenBatchNorm", "activation": "relu6"}, False),
        ("dilation2_hardswish_train", {"dilation": 2, "activation_layer": torch.nn.Hardswish},
         {"dilation": 2, "activation": "hardswish"}, True),
        ("k3x5_s1x2_bias_silu", {"kernel_size": (3, 5), "stride": (1, 2), "bias": True,
                                 "activation_layer": torch.nn.SiLU},
         {"kernelSize": [3, 5], "stride": [1, 2], "bias": True, "activation": "silu"}, False),
        ("pad0_gelu_no_norm", {"padding": 0, "norm_layer": None, "activation_layer": torch.nn.GELU, "inplace": None},
         {"padding": 0, "normLayer": None, "activation": "gelu"}, False),
        ("s2_dilation2_eval", {"stride": 2, "dilation": 2}, {"stride": 2, "dilation": 2}, False),
        ("same_k4_groups2_sigmoid", {"kernel_size": 4, "padding": "same", "groups": 2, "norm_layer": None,
                                       "activation_layer": torch.nn.Sigmoid, "inplace": None},
         {"kernelSize": 4, "padding": "same", "groups": 2, "normLayer": None, "activation": "sigmoid"}, False),
    ]
    variants3d = [
        ("default_eval", {}, {}, False),
        ("default_train", {}, {}, True),
        ("dilation2_s2_train", {"dilation": 2, "stride": 2}, {"dilation": 2, "stride": 2}, True),
        ("s2_groups2_no_norm_tanh", {"stride": 2, "groups": 2, "norm_layer": None, "activation_layer": torch.nn.Tanh,
                                      "inplace": None},
         {"stride": 2, "groups": 2, "normLayer": None, "activation": "tanh"}, False),
    ]
    for op, module, cases, input_shape in (
        ("Conv2dNormActivation", misc.Conv2dNormActivation, variants, (2, 4, 9, 8)),
        ("Conv3dNormActivation", misc.Conv3dNormActivation, variants3d, (2, 4, 5, 6, 4)),
    ):
        for name, kw, cfg, training in cases:
            g = fx.gen(op, name)
            torch.manual_seed(fx.zlib.crc32(f"{op}/{name}".encode()))
            m = module(4, 6, **kw)
            randomise(m, g)
            layer_case(fx, op, name, m, {"inChannels": 4, "outChannels": 6, **cfg},
                       [torch.randn(*input_shape, generator=g)], training)


def mlp_cases(fx):
    op = "MLP"
    variants = [
        ("default_2d", {}, {}, False, (5, 6)),
        ("default_3d", {}, {}, False, (2, 3, 6)),
        ("batchnorm_eval", {"norm_layer": torch.nn.BatchNorm1d}, {"normLayer": "batchNorm"}, False, (5, 6)),
        ("batchnorm_train", {"norm_layer": torch.nn.BatchNorm1d}, {"normLayer": "batchNorm"}, True, (5, 6)),
        ("layernorm_gelu_no_bias", {"norm_layer": torch.nn.LayerNorm, "activation_layer": torch.nn.GELU, "bias": False,
                                    "inplace": None},
         {"normLayer": "layerNorm", "activation": "gelu", "bias": False}, False, (2, 3, 6)),
        ("three_layers_dropout_eval", {"dropout": 0.5}, {"dropout": 0.5}, False, (5, 6)),
    ]
    for name, kw, cfg, training, shape in variants:
        g = fx.gen(op, name)
        torch.manual_seed(fx.zlib.crc32(f"{op}/{name}".encode()))
        hidden = [8, 7, 4] if name.startswith("three") else [8, 4]
        m = misc.MLP(6, hidden, **kw)
        randomise(m, g)
        layer_case(fx, op, name, m, {"inChannels": 6, "hiddenChannels": hidden, **cfg},
                   [torch.randn(*shape, generator=g)], training)


def permute_cases(fx):
    op = "Permute"
    for name, dims, shape in (("nchw_to_nhwc", [0, 2, 3, 1], (2, 3, 4, 5)), ("rank3_batch_moves", [2, 0, 1], (2, 3, 4))):
        g = fx.gen(op, name)
        layer_case(fx, op, name, misc.Permute(dims), {"dims": dims}, [torch.randn(*shape, generator=g)])


def squeeze_excitation_cases(fx):
    op = "SqueezeExcitation"
    for name, kw, cfg in (("default", {}, {}),
                          ("silu_hardsigmoid", {"activation": torch.nn.SiLU, "scale_activation": torch.nn.Hardsigmoid},
                           {"activation": "silu", "scaleActivation": "hardsigmoid"})):
        g = fx.gen(op, name)
        torch.manual_seed(fx.zlib.crc32(f"{op}/{name}".encode()))
        m = misc.SqueezeExcitation(6, 3, **kw)
        randomise(m, g)
        layer_case(fx, op, name, m, {"inputChannels": 6, "squeezeChannels": 3, **cfg},
                   [torch.randn(2, 6, 5, 4, generator=g)])


def fpn_cases(fx):
    op = "FeaturePyramidNetwork"
    sizes = [(13, 11), (7, 6), (3, 3)]  # not powers of two: torch's float nearest indices
    variants = [
        ("no_extra", None, {}, {}, False),
        ("maxpool", LastLevelMaxPool(), {"extraBlocks": {"type": "lastLevelMaxPool"}}, {}, False),
        ("p6p7_from_c5", LastLevelP6P7(8, 5), {"extraBlocks": {"type": "lastLevelP6P7", "inChannels": 8,
                                                               "outChannels": 5}}, {}, False),
        ("p6p7_from_p5", LastLevelP6P7(5, 5), {"extraBlocks": {"type": "lastLevelP6P7", "inChannels": 5,
                                                               "outChannels": 5}}, {}, False),
        ("batchnorm_train", None, {"normLayer": "batchNorm"}, {"norm_layer": torch.nn.BatchNorm2d}, True),
        ("batchnorm_eval_maxpool", LastLevelMaxPool(), {"normLayer": "batchNorm", "extraBlocks": "lastLevelMaxPool"},
         {"norm_layer": torch.nn.BatchNorm2d}, False),
    ]
    for name, extra, cfg, kw, training in variants:
        g = fx.gen(op, name)
        torch.manual_seed(fx.zlib.crc32(f"{op}/{name}".encode()))
        m = tvo.FeaturePyramidNetwork([4, 6, 8], 5, extra_blocks=extra, **kw)
        randomise(m, g)
        xs = [torch.randn(2, c, h, w, generator=g) for c, (h, w) in zip([4, 6, 8], sizes)]
        layer_case(fx, op, name, m, {"inChannelsList": [4, 6, 8], "outChannels": 5, **cfg}, xs, training)
    # exact doubling (the i >> 1 branch), as in a real backbone
    name = "doubling_sizes_maxpool"
    g = fx.gen(op, name)
    torch.manual_seed(fx.zlib.crc32(f"{op}/{name}".encode()))
    m = tvo.FeaturePyramidNetwork([4, 6], 5, extra_blocks=LastLevelMaxPool())
    randomise(m, g)
    xs = [torch.randn(1, 4, 8, 6, generator=g), torch.randn(1, 6, 4, 3, generator=g)]
    layer_case(fx, op, name, m, {"inChannelsList": [4, 6], "outChannels": 5, "extraBlocks": "lastLevelMaxPool"}, xs)


def regulariser_cases(fx):
    for op, fn, shape, bs in (("drop_block2d", tvo.drop_block2d, (2, 3, 9, 8), 3),
                              ("drop_block3d", tvo.drop_block3d, (2, 3, 5, 6, 7), 3)):
        for p in (0.2, 0.6):
            for block in (bs, 1, 5):
                name = f"p{p:g}_block{block}"
                g = fx.gen(op, name)
                x = torch.randn(*shape, generator=g)
                spatial = shape[2:]
                b = min(block, *spatial)
                area, centres = 1, 1
                for s in spatial:
                    area *= s
                    centres *= s - b + 1
                gamma = (p * area) / ((b ** len(spatial)) * centres)
                seed = fx.zlib.crc32(f"{op}/{name}/noise".encode())
                torch.manual_seed(seed)
                out = fn(x, p, block)
                torch.manual_seed(seed)
                noise = torch.empty((shape[0], shape[1], *[s - b + 1 for s in spatial])).bernoulli_(gamma)
                padded = torch.nn.functional.pad(noise, [b // 2] * (2 * len(spatial)), value=0)
                pool = torch.nn.functional.max_pool2d if len(spatial) == 2 else torch.nn.functional.max_pool3d
                mask = 1 - pool(padded, kernel_size=b, stride=1, padding=b // 2)
                assert torch.equal(x * mask * (mask.numel() / (1e-6 + mask.sum())), out), (op, name)

                def replay(input, noise, fn=fn, p=p, block=block, seed=seed):
                    torch.manual_seed(seed)
                    return fn(input, p, block)

                fx.add(LAYERS, op, name, replay, {"input": x, "noise": noise.to(torch.int32)},
                       {"p": p, "block_size": block, "effective_block_size": b, "eps": 1e-6},
                       note="noise = torchvision's own Bernoulli draw of the block centres (replayed)")
    op = "stochastic_depth"
    for mode in ("row", "batch"):
        for p in (0.3, 1.0):
            name = f"{mode}_p{p:g}"
            g = fx.gen(op, name)
            x = torch.randn(6, 3, 4, 2, generator=g)
            seed = fx.zlib.crc32(f"{op}/{name}/noise".encode())
            size = [6, 1, 1, 1] if mode == "row" else [1, 1, 1, 1]
            torch.manual_seed(seed)
            noise = torch.empty(size).bernoulli_(1 - p)

            def replay(input, noise, mode=mode, p=p, seed=seed):
                torch.manual_seed(seed)
                return tvo.stochastic_depth(input, p, mode)

            fx.add(LAYERS, op, name, replay, {"input": x, "noise": noise.to(torch.int32)}, {"p": p, "mode": mode},
                   note="noise = torchvision's own Bernoulli draw (replayed)")


def write_safetensors(path, tensors, metadata):
    header, blobs, offset = OrderedDict(), [], 0
    for key, t in tensors.items():
        data = t.detach().contiguous().numpy().astype("<f4").tobytes()
        header[key] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    return os.path.getsize(path)


def box_branch_case(fx):
    """FPN + MultiScaleRoIAlign + TwoMLPHead of Faster R-CNN, weights in a safetensors file."""
    op, name = "faster_rcnn_box_branch", "fpn_maxpool_msroialign_twomlphead"
    g = fx.gen(op, name)
    torch.manual_seed(fx.zlib.crc32(f"{op}/{name}".encode()))
    fpn = tvo.FeaturePyramidNetwork([8, 16, 32], 16, extra_blocks=LastLevelMaxPool())
    head = TwoMLPHead(16 * 7 * 7, 32)
    randomise(fpn, g)
    randomise(head, g)
    # A 64x64 image stands for a 256x256 one: canonical_scale 224 / 4 = 56 spreads the boxes over all three levels.
    pooler = tvo.MultiScaleRoIAlign(["0", "1", "2"], 7, 2, canonical_scale=56, canonical_level=4)
    features = OrderedDict((str(i), torch.randn(2, c, s, s, generator=g)) for i, (c, s) in
                           enumerate(zip([8, 16, 32], [16, 8, 4])))
    image_shapes = [(64, 64), (64, 64)]
    sides = torch.tensor([[6.0, 14, 20, 30, 40, 60], [10, 25, 35, 50, 8, 64]])
    boxes = []
    for i in range(2):
        xy = torch.rand(6, 2, generator=g) * (64 - sides[i, :, None])
        wh = sides[i, :, None] * (0.8 + 0.4 * torch.rand(6, 2, generator=g))
        boxes.append(torch.cat([xy, (xy + wh).clamp(max=64)], 1))
    with torch.no_grad():
        pyramid = fpn(features)
        pooled = pooler(pyramid, boxes, image_shapes)
        levels = pooler.map_levels(boxes)
        assert sorted(set(levels.tolist())) == [0, 1, 2], levels
        out = head(pooled)
    state = OrderedDict([(f"backbone.fpn.{k}", v) for k, v in fpn.state_dict().items()] +
                        [(f"roi_heads.box_head.{k}", v) for k, v in head.state_dict().items()])
    size = write_safetensors(os.path.join(fx.OUT_DIR, SAFETENSORS), state,
                             {"generator": fx.GENERATOR, "format": "pt"})
    assert size < 1_000_000, size
    fx.CASES.setdefault(LAYERS, []).append({
        "op": op, "name": name,
        "args": {"safetensors": SAFETENSORS, "image_shape": [64, 64], "featmap_names": ["0", "1", "2"],
                 "output_size": 7, "sampling_ratio": 2, "canonical_scale": 56, "canonical_level": 4,
                 "representation_size": 32, "levels": levels.tolist()},
        "inputs": {**{f"x{i}": fx.enc(f) for i, f in enumerate(features.values())},
                   "boxes": fx.enc(torch.stack(boxes))},
        "outputs": [fx.enc(v) for v in pyramid.values()] + [fx.enc(pooled), fx.enc(out)],
        "note": "outputs: FPN '0', '1', '2', 'pool', then MultiScaleRoIAlign [12, 16, 7, 7], then TwoMLPHead [12, 32]",
    })


def make(fx):
    frozen_bn_cases(fx)
    conv_norm_act_cases(fx)
    mlp_cases(fx)
    permute_cases(fx)
    squeeze_excitation_cases(fx)
    fpn_cases(fx)
    regulariser_cases(fx)
    box_branch_case(fx)
