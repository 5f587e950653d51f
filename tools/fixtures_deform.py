"""deform_conv2d fixtures (deform_conv2d.json) from the real torchvision.ops, NCHW, OIHW weights.

Cases: torchvision's own test geometry (Cin 6, Cout 2, weight groups 2, offset groups 3, stride (2, 1), padding
(1, 0), dilation (2, 1), kernel (3, 2), input 5x4) at batch 1 and 33, with and without mask; negative mask values;
offsets that push samples far outside the map; samples exactly on integer positions (including -1 and the far
edge, where torchvision's offset gradient ignores the forward cut-off); channel counts around the 4- and 16-wide
lanes of the wasm kernels; no bias. The specs transpose to channelsLast.
"""
import torch
import torchvision.ops as tvo

FILE = "deform_conv2d.json"


def out_size(size, k, s, p, d):
    return (size + 2 * p - (d * (k - 1) + 1)) // s + 1


def case(fx, name, batch, cin, cout, groups, offset_groups, kernel, stride, padding, dilation, size, use_mask=True,
         use_bias=True, offset_scale=1.5, far=0.15):
    g = fx.gen("deform_conv2d", name)
    kh, kw = kernel
    oh = out_size(size[0], kh, stride[0], padding[0], dilation[0])
    ow = out_size(size[1], kw, stride[1], padding[1], dilation[1])
    x = torch.rand(batch, cin, *size, generator=g) * 2 - 1
    offset = torch.randn(batch, 2 * offset_groups * kh * kw, oh, ow, generator=g) * offset_scale
    if far > 0:  # a fraction of the samples pushed far outside the map, both directions and both axes
        pick = torch.rand(offset.shape, generator=g) < far
        sign = torch.where(torch.rand(offset.shape, generator=g) < 0.5, -1.0, 1.0)
        offset = torch.where(pick, sign * (torch.rand(offset.shape, generator=g) * 1000 + 20), offset)
    weight = torch.randn(cout, cin // groups, kh, kw, generator=g)
    inputs = {"input": x, "offset": offset, "weight": weight}
    if use_mask:
        inputs["mask"] = torch.randn(batch, offset_groups * kh * kw, oh, ow, generator=g)  # negative values too
    if use_bias:
        inputs["bias"] = torch.randn(cout, generator=g)
    args = {"stride": list(stride), "padding": list(padding), "dilation": list(dilation), "mask": use_mask,
            "bias": use_bias}
    fx.add(FILE, "deform_conv2d", name,
           lambda input, offset, weight, mask=None, bias=None:
           tvo.deform_conv2d(input, offset, weight, bias, stride, padding, dilation, mask),
           inputs, args)


def boundary_case(fx):
    """Offsets that put samples exactly on integer positions, -1 and H (or W) included."""
    name = "integer_positions_and_edges"
    g = fx.gen("deform_conv2d", name)
    batch, cin, cout, h, w = 1, 2, 3, 4, 5
    oh, ow = h, w  # 3x3, padding 1
    x = torch.rand(batch, cin, h, w, generator=g) * 2 - 1
    def positions(size):
        return torch.tensor([-1.0, 0.0, 1.0, size - 1.0, float(size), -1.5, size - 0.5, 2.25])

    ty = positions(h)[torch.randint(0, 8, (batch, 9, oh, ow), generator=g)]
    tx = positions(w)[torch.randint(0, 8, (batch, 9, oh, ow), generator=g)]
    oy = torch.arange(oh).view(1, 1, oh, 1).float()
    ox = torch.arange(ow).view(1, 1, 1, ow).float()
    ki = torch.arange(3).repeat_interleave(3).view(1, 9, 1, 1).float()
    kj = torch.arange(3).repeat(3).view(1, 9, 1, 1).float()
    offset = torch.stack([ty - (oy - 1 + ki), tx - (ox - 1 + kj)], 2).reshape(batch, 18, oh, ow)
    mask = torch.rand(batch, 9, oh, ow, generator=g) * 2 - 0.5
    weight = torch.randn(cout, cin, 3, 3, generator=g)
    fx.add(FILE, "deform_conv2d", name,
           lambda input, offset, weight, mask: tvo.deform_conv2d(input, offset, weight, None, 1, 1, 1, mask),
           {"input": x, "offset": offset, "weight": weight, "mask": mask},
           {"stride": [1, 1], "padding": [1, 1], "dilation": [1, 1], "mask": True, "bias": False},
           note="sample positions exactly on integers: at y or x == -1 the forward value is 0 but torchvision's "
                "offset gradient (floor corners, no cut-off) is not")


def make(fx):
    tv = dict(cin=6, cout=2, groups=2, offset_groups=3, kernel=(3, 2), stride=(2, 1), padding=(1, 0),
              dilation=(2, 1), size=(5, 4))
    for batch in (1, 33):
        for use_mask in (True, False):
            case(fx, f"torchvision_geometry_b{batch}_{'mask' if use_mask else 'nomask'}", batch, use_mask=use_mask,
                 **tv)
    case(fx, "groups_2_offset_groups_2_c20", 1, 20, 18, 2, 2, (3, 3), (1, 1), (1, 1), (1, 1), (4, 5))
    case(fx, "lanes_c37_cout21", 1, 37, 21, 1, 1, (2, 2), (1, 1), (0, 0), (1, 1), (4, 5), far=0.05)
    case(fx, "offset_groups_4_c8_cout5", 2, 8, 5, 1, 4, (2, 3), (1, 2), (0, 1), (1, 1), (5, 7))
    case(fx, "no_mask_no_bias_stride2_dilation2", 2, 4, 3, 1, 2, (3, 3), (2, 2), (2, 2), (2, 2), (7, 8),
         use_mask=False, use_bias=False)
    boundary_case(fx)
