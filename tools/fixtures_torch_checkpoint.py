"""torch.save checkpoints (test/fixtures/torch_checkpoint/*.pth) and their expected tensors (expected.json).

Written by the real torch.save (the zip format: <archive>/data.pkl, <archive>/data/<key>, <archive>/version), so
test/torch_checkpoint.spec.ts reads what PyTorch users have:
  state_dict.pth   a torchvision Conv2dNormActivation's state_dict (an OrderedDict with _metadata, BatchNorm's int64
                   num_batches_tracked) plus one tensor of every storage type (float64, float16, bfloat16, int64,
                   int32, int16, int8, uint8, bool), a scalar and an empty tensor;
  views.pth        a plain dict of views saved as they are (storage + offset + strides): a transpose, an offset slice,
                   two tensors sharing one storage, expand()'s stride 0, a channels_last tensor;
  checkpoint.pth   {'model': state_dict, 'optimizer': SGD state with momentum buffers, 'epoch': 3, ...}, written to a
                   BytesIO (archive name 'archive');
  parameters.pth   model.state_dict(keep_vars=True): nn.Parameters (torch._utils._rebuild_parameter).
expected.json: {"generator", "files": {file: {"archive", "tensors": {key: {"shape", "dtype", "data", "source"}}}}}
with the tensors as tools/make_fixtures.py encodes them (float32 / int32 / bool as uint8) and "source" the
safetensors-style dtype name. torch.save output is deterministic: fixed archive names, sequential storage keys and
zip entries dated 1980.
"""
import io
import json
import os
import zipfile
from collections import OrderedDict

import torch
from torchvision.ops.misc import Conv2dNormActivation

DIR = "torch_checkpoint"
SOURCE = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
          torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
          torch.bool: "BOOL"}


def conv_bn(fx, name):
    """A torchvision conv + BatchNorm block with seeded, non-trivial weights and statistics."""
    torch.manual_seed(fx.zlib.crc32(f"torch_checkpoint/{name}".encode()))
    block = Conv2dNormActivation(2, 3, kernel_size=3)
    g = fx.gen("torch_checkpoint", name)
    with torch.no_grad():
        bn = block[1]
        bn.weight.copy_(torch.rand(3, generator=g) + 0.5)
        bn.bias.copy_(torch.rand(3, generator=g) - 0.5)
        bn.running_mean.copy_(torch.rand(3, generator=g) - 0.5)
        bn.running_var.copy_(torch.rand(3, generator=g) + 0.5)
        bn.num_batches_tracked.fill_(7)
    return block


def every_dtype(fx):
    g = fx.gen("torch_checkpoint", "dtypes")
    x = torch.randn(2, 3, generator=g)
    return OrderedDict([
        ("extra.f64", torch.tensor([0.1, -1e10, 3.5], dtype=torch.float64)),
        ("extra.f16", torch.tensor([1.0, -2.5, 65504.0, 2.0 ** -24], dtype=torch.float16)),
        ("extra.bf16", x.to(torch.bfloat16)),
        ("extra.i64", torch.tensor([[5, -7], [2 ** 31 - 1, -(2 ** 31)]], dtype=torch.int64)),
        ("extra.i32", torch.tensor([-3, 4, 2 ** 30], dtype=torch.int32)),
        ("extra.i16", torch.tensor([-32768, 32767], dtype=torch.int16)),
        ("extra.i8", torch.tensor([-128, 127, 0], dtype=torch.int8)),
        ("extra.u8", torch.tensor([255, 1, 0], dtype=torch.uint8)),
        ("extra.bool", torch.tensor([[True, False, True]])),
        ("extra.scalar", torch.tensor(2.75)),
        ("extra.empty", torch.zeros(0, 3)),
    ])


def views(fx):
    g = fx.gen("torch_checkpoint", "views")
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    shared = torch.randn(3, 4, generator=g)
    out = {
        "transposed": base.t(),
        "offset_slice": base[1:, 1:3],
        "shared.a": shared,
        "shared.row1": shared[1],
        "expanded": torch.tensor([7.0, -1.0]).reshape(2, 1).expand(2, 3),
        "channels_last": torch.randn(1, 3, 2, 2, generator=g).contiguous(memory_format=torch.channels_last),
    }
    assert not out["transposed"].is_contiguous() and out["offset_slice"].storage_offset() == 5
    assert out["shared.row1"].storage_offset() == 4 and out["expanded"].stride() == (1, 0)
    return out


def checkpoint(fx):
    block = conv_bn(fx, "checkpoint")
    optimizer = torch.optim.SGD(block.parameters(), lr=0.1, momentum=0.9)
    g = fx.gen("torch_checkpoint", "checkpoint_input")
    block(torch.randn(1, 2, 5, 5, generator=g)).sum().backward()
    optimizer.step()
    return {"model": block.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3, "best_score": 0.5,
            "note": "trained", "hparams": {"lr": 0.1, "milestones": [8, 11], "amp": False, "seed": 2 ** 70}}


def save(fx, file, obj, to_bytes=False):
    path = os.path.join(fx.OUT_DIR, DIR, file)
    if to_bytes:  # torch.save to a file object names the archive 'archive'
        buffer = io.BytesIO()
        torch.save(obj, buffer)
        with open(path, "wb") as fh:
            fh.write(buffer.getvalue())
    else:  # to a path, the archive is named after the file
        torch.save(obj, path)
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist()), file
    loaded = torch.load(path)
    state, back = (obj["model"], loaded["model"]) if "model" in obj else (obj, loaded)
    assert list(back) == list(state) and all(torch.equal(back[k], state[k]) for k in state), file
    size = os.path.getsize(path)
    assert size < 100_000, (file, size)
    return names[0].split("/")[0]


def expected(fx, archive, state):
    tensors = OrderedDict()
    for key, t in state.items():
        if isinstance(t, torch.Tensor):
            t = t.detach()
            enc = fx.enc(t.float() if t.dtype in (torch.float16, torch.bfloat16, torch.float64) else t)
            tensors[key] = {**enc, "source": SOURCE[t.dtype]}
    return {"archive": archive, "tensors": tensors}


def make(fx):
    os.makedirs(os.path.join(fx.OUT_DIR, DIR), exist_ok=True)
    files = OrderedDict()

    state = conv_bn(fx, "state_dict").state_dict()
    state.update(every_dtype(fx))
    files["state_dict.pth"] = expected(fx, save(fx, "state_dict.pth", state), state)

    view_dict = views(fx)
    files["views.pth"] = expected(fx, save(fx, "views.pth", view_dict), view_dict)

    ckpt = checkpoint(fx)
    assert any(isinstance(v, torch.Tensor) for s in ckpt["optimizer"]["state"].values() for v in s.values())
    files["checkpoint.pth"] = expected(fx, save(fx, "checkpoint.pth", ckpt, to_bytes=True), ckpt["model"])

    params = conv_bn(fx, "parameters").state_dict(keep_vars=True)
    assert isinstance(params["0.weight"], torch.nn.Parameter)
    files["parameters.pth"] = expected(fx, save(fx, "parameters.pth", params), params)

    path = os.path.join(fx.OUT_DIR, DIR, "expected.json")
    with open(path, "w") as fh:
        fh.write(json.dumps({"generator": fx.GENERATOR, "files": files}, separators=(",", ":"), allow_nan=False) + "\n")
    for file in files:
        print(f"{os.path.relpath(os.path.join(fx.OUT_DIR, DIR, file), fx.ROOT)}: "
              f"{os.path.getsize(os.path.join(fx.OUT_DIR, DIR, file))} bytes")
