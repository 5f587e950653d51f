"""msDeformAttn fixtures (ms_deform_attn.json) from the pure-PyTorch reference of Deformable DETR.

torchvision has no multi-scale deformable attention; the reference every implementation is checked against is
Deformable DETR's `ms_deform_attn_core_pytorch` (F.grid_sample, bilinear, zero padding, align_corners=False),
restated below and run with torch 1.13's F.grid_sample and autograd.

Cases: small shapes with locations inside and outside [0, 1], several levels including 1x1 levels, many points,
channel counts around the 4-wide lanes of the wasm kernel, several samples in one cell, locations that put pixel
coordinates exactly on -1, 0, H - 1 and H (power-of-two sizes keep them float32-exact), far-away locations,
and a batch of 2.
"""
import torch
import torch.nn.functional as F

FILE = "ms_deform_attn.json"


def ms_deform_attn_core_pytorch(value, value_spatial_shapes, sampling_locations, attention_weights):
    n, _, m, d = value.shape
    _, lq, m, lvl, p, _ = sampling_locations.shape
    value_list = value.split([h * w for h, w in value_spatial_shapes], dim=1)
    sampling_grids = 2 * sampling_locations - 1
    sampled = []
    for level, (h, w) in enumerate(value_spatial_shapes):
        value_l = value_list[level].flatten(2).transpose(1, 2).reshape(n * m, d, h, w)
        grid_l = sampling_grids[:, :, :, level].transpose(1, 2).flatten(0, 1)
        sampled.append(F.grid_sample(value_l, grid_l, mode="bilinear", padding_mode="zeros", align_corners=False))
    weights = attention_weights.transpose(1, 2).reshape(n * m, 1, lq, lvl * p)
    output = (torch.stack(sampled, dim=-2).flatten(-2) * weights).sum(-1).view(n, m * d, lq)
    return output.transpose(1, 2).contiguous()


def case(fx, name, batch, shapes, heads, channels, queries, points, lo=-0.2, hi=1.2, locations=None):
    g = fx.gen("ms_deform_attn", name)
    levels = len(shapes)
    size = sum(h * w for h, w in shapes)
    value = torch.rand(batch, size, heads, channels, generator=g) * 2 - 1
    if locations is None:
        locations = torch.rand(batch, queries, heads, levels, points, 2, generator=g) * (hi - lo) + lo
    weights = torch.rand(batch, queries, heads, levels, points, generator=g) * 2 - 0.5  # negative weights too
    starts = [sum(h * w for h, w in shapes[:i]) for i in range(levels)]
    fx.add(FILE, "ms_deform_attn", name,
           lambda value, sampling_locations, attention_weights:
           ms_deform_attn_core_pytorch(value, shapes, sampling_locations, attention_weights),
           {"value": value, "sampling_locations": locations, "attention_weights": weights},
           {"spatial_shapes": [list(s) for s in shapes], "level_start_index": starts})


def exact_positions(fx):
    """Pixel coordinates exactly on -1, 0, 1, H - 1 and H (and halfway): loc = (k + 0.5) / size."""
    name = "integer_positions_and_edges"
    g = fx.gen("ms_deform_attn", name)
    shapes = [(4, 8), (2, 2), (1, 1)]
    batch, heads, queries, points = 1, 2, 6, 5
    cols = []
    for axis in (1, 0):  # x scales by W, y by H
        per_level = []
        for shape in shapes:
            n = shape[axis]
            ks = torch.tensor([-1.0, 0.0, 1.0, n - 1.0, float(n), -1.5, n - 0.5, 0.5])
            pick = ks[torch.randint(0, 8, (batch, queries, heads, 1, points), generator=g)]
            per_level.append((pick + 0.5) / n)
        cols.append(torch.cat(per_level, 3))
    locations = torch.stack(cols, -1)
    case(fx, name, batch, shapes, heads, 3, queries, points, locations=locations)


def make(fx):
    case(fx, "two_levels_h2_c3", 1, [(4, 4), (2, 3)], 2, 3, 5, 2)
    case(fx, "three_levels_b2_h4_c8_p4", 2, [(8, 8), (4, 4), (2, 2)], 4, 8, 7, 4)
    case(fx, "one_by_one_levels", 1, [(1, 1), (1, 1), (3, 2)], 2, 4, 4, 3, lo=-1.0, hi=2.0)
    case(fx, "many_points_p16", 1, [(5, 7)], 1, 5, 3, 16)
    case(fx, "lanes_c1", 1, [(3, 5), (2, 2)], 3, 1, 4, 2)
    case(fx, "lanes_c17", 1, [(3, 5), (2, 2)], 1, 17, 4, 2)
    case(fx, "crowded_cells", 1, [(2, 2)], 2, 6, 30, 4, lo=0.2, hi=0.8)
    case(fx, "far_outside", 1, [(4, 4), (2, 2)], 2, 4, 5, 3, lo=-40.0, hi=40.0)
    exact_positions(fx)
