"""MultiScaleDeformableAttention layer fixtures (ms_deform_attn_layer.json): Deformable DETR's MSDeformAttn.

Deformable DETR is not a package of torch 1.13: MSDeformAttn and ms_deform_attn_core_pytorch are written out here as in
fundamentalvision/Deformable-DETR (models/ops/modules/ms_deform_attn.py, models/ops/functions/ms_deform_attn_func.py),
the CUDA function replaced by its pure PyTorch reference (F.grid_sample, bilinear, zeros, align_corners=False).
A case runs the module through functional_call so that gradients reach the inputs and every parameter:
  op      "MultiScaleDeformableAttention", args {"config": the tfjs layer config, "spatial_shapes": [[H, W], ...],
          "level_start_index": [...], "perturbed": whether the parameters were moved off their initialisation},
  inputs  query, reference_points, input_flatten, [input_padding_mask (bool)], "state.<state_dict key>" (torch layouts),
  output, dy, grads (w.r.t. query, reference_points, input_flatten and every state.<key>).
The default_init case keeps Deformable DETR's _reset_parameters (xavier draws seeded), so its state holds the
sampling_offsets bias grid the layer must reproduce.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import stateless

from fixtures_ms_deform_attn import ms_deform_attn_core_pytorch

FILE = "ms_deform_attn_layer.json"
OP = "MultiScaleDeformableAttention"


class MSDeformAttn(nn.Module):
    def __init__(self, d_model=256, n_levels=4, n_heads=8, n_points=4):
        super().__init__()
        if d_model % n_heads != 0:
            raise ValueError(f"d_model must be divisible by n_heads, but got {d_model} and {n_heads}")
        self.d_model, self.n_levels, self.n_heads, self.n_points = d_model, n_levels, n_heads, n_points
        self.sampling_offsets = nn.Linear(d_model, n_heads * n_levels * n_points * 2)
        self.attention_weights = nn.Linear(d_model, n_heads * n_levels * n_points)
        self.value_proj = nn.Linear(d_model, d_model)
        self.output_proj = nn.Linear(d_model, d_model)
        self._reset_parameters()

    def _reset_parameters(self):
        nn.init.constant_(self.sampling_offsets.weight.data, 0.)
        thetas = torch.arange(self.n_heads, dtype=torch.float32) * (2.0 * math.pi / self.n_heads)
        grid_init = torch.stack([thetas.cos(), thetas.sin()], -1)
        grid_init = (grid_init / grid_init.abs().max(-1, keepdim=True)[0]).view(self.n_heads, 1, 1, 2).repeat(
            1, self.n_levels, self.n_points, 1)
        for i in range(self.n_points):
            grid_init[:, :, i, :] *= i + 1
        with torch.no_grad():
            self.sampling_offsets.bias = nn.Parameter(grid_init.view(-1))
        nn.init.constant_(self.attention_weights.weight.data, 0.)
        nn.init.constant_(self.attention_weights.bias.data, 0.)
        nn.init.xavier_uniform_(self.value_proj.weight.data)
        nn.init.constant_(self.value_proj.bias.data, 0.)
        nn.init.xavier_uniform_(self.output_proj.weight.data)
        nn.init.constant_(self.output_proj.bias.data, 0.)

    def forward(self, query, reference_points, input_flatten, input_spatial_shapes, input_level_start_index,
                input_padding_mask=None):
        n, len_q, _ = query.shape
        n, len_in, _ = input_flatten.shape
        assert (input_spatial_shapes[:, 0] * input_spatial_shapes[:, 1]).sum() == len_in
        value = self.value_proj(input_flatten)
        if input_padding_mask is not None:
            value = value.masked_fill(input_padding_mask[..., None], float(0))
        value = value.view(n, len_in, self.n_heads, self.d_model // self.n_heads)
        sampling_offsets = self.sampling_offsets(query).view(n, len_q, self.n_heads, self.n_levels, self.n_points, 2)
        attention_weights = self.attention_weights(query).view(n, len_q, self.n_heads, self.n_levels * self.n_points)
        attention_weights = F.softmax(attention_weights, -1).view(n, len_q, self.n_heads, self.n_levels, self.n_points)
        if reference_points.shape[-1] == 2:
            offset_normalizer = torch.stack([input_spatial_shapes[..., 1], input_spatial_shapes[..., 0]], -1)
            sampling_locations = reference_points[:, :, None, :, None, :] \
                + sampling_offsets / offset_normalizer[None, None, None, :, None, :]
        elif reference_points.shape[-1] == 4:
            sampling_locations = reference_points[:, :, None, :, None, :2] \
                + sampling_offsets / self.n_points * reference_points[:, :, None, :, None, 2:] * 0.5
        else:
            raise ValueError(f"Last dim of reference_points must be 2 or 4, but get {reference_points.shape[-1]}")
        output = ms_deform_attn_core_pytorch(value, [tuple(s) for s in input_spatial_shapes.tolist()],
                                             sampling_locations, attention_weights)
        return self.output_proj(output)


def case(fx, name, d_model, n_levels, n_heads, n_points, shapes, batch=2, len_q=5, ref_dim=2, mask=None,
         perturb=True):
    g = fx.gen(OP, name)
    torch.manual_seed(fx.zlib.crc32(f"{OP}/{name}".encode()))
    module = MSDeformAttn(d_model, n_levels, n_heads, n_points)
    if perturb:  # move every parameter (the zero-initialised ones included) so that a misplaced one shows
        with torch.no_grad():
            for p in module.parameters():
                p.add_(torch.randn(p.shape, generator=g) * 0.3)
    spatial_shapes = torch.tensor(shapes, dtype=torch.int64)
    starts = [sum(h * w for h, w in shapes[:i]) for i in range(len(shapes))]
    size = sum(h * w for h, w in shapes)
    inputs = {
        "query": torch.randn(batch, len_q, d_model, generator=g),
        "reference_points": torch.rand(batch, len_q, n_levels, 2, generator=g) * 1.2 - 0.1,
        "input_flatten": torch.randn(batch, size, d_model, generator=g),
    }
    if ref_dim == 4:
        wh = torch.rand(batch, len_q, n_levels, 2, generator=g) * 0.6 + 0.1
        inputs["reference_points"] = torch.cat([inputs["reference_points"], wh], -1)
    if mask is not None:
        inputs["input_padding_mask"] = mask
    state = {f"state.{k}": v.detach().clone() for k, v in module.state_dict().items()}

    def run(query, reference_points, input_flatten, input_padding_mask=None, **params):
        weights = {k[len("state."):]: v for k, v in params.items()}
        return stateless.functional_call(module, weights, (query, reference_points, input_flatten, spatial_shapes,
                                                           torch.tensor(starts), input_padding_mask))

    config = {"dModel": d_model, "nLevels": n_levels, "nHeads": n_heads, "nPoints": n_points}
    fx.add(FILE, OP, name, run, {**inputs, **state},
           {"config": config, "spatial_shapes": shapes, "level_start_index": starts, "perturbed": perturb})


def make(fx):
    case(fx, "ref2d", 12, 2, 3, 2, [[3, 4], [1, 1]])
    case(fx, "ref4d", 8, 2, 2, 3, [[2, 3], [1, 1]], ref_dim=4)
    mask = torch.zeros(2, 13, dtype=torch.bool)
    mask[1, :12] = torch.tensor([[False, False, True, True]] * 3).flatten()  # image 1: level 0 padded right of x = 1
    mask[1, 12] = True
    case(fx, "padding_mask", 12, 2, 3, 2, [[3, 4], [1, 1]], mask=mask)
    case(fx, "default_init", 16, 2, 8, 4, [[2, 2], [1, 1]], batch=1, len_q=3, perturb=False)
