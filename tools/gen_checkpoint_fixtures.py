#!/usr/bin/env python3
"""Generates the HatCheckpoint test fixtures (Tests/HatCheckpointTests/Fixtures/).

Run:  HATSCOPE_PYTHON=/path/to/venv/bin/python tools/gen_checkpoint_fixtures.py   (from the repo root,
      or via `$HATSCOPE_PYTHON tools/gen_checkpoint_fixtures.py`). Needs torch==2.5.1, numpy,
      safetensors, fastervit==1.0.0 (variant shape lists only).

Every fixture is written by the official writers (torch.save, safetensors, numpy) with seeded
random values, and expected.json records what a correct reader must return: for each fixture file
the float32 values (as Python floats, exact) and shape of every tensor, plus wrapper facts.
"""
import io
import json
import os
import pickle
import sys
import zipfile

import numpy as np
import torch

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "HatCheckpointTests", "Fixtures")
os.makedirs(OUT, exist_ok=True)
gen = torch.Generator().manual_seed(20261130)
expected = {}


def rand(*shape, dtype=torch.float32):
    return torch.randn(*shape, generator=gen).to(dtype)


def record(fixture, tensors, **facts):
    """Expected float32 values of `tensors` (name -> tensor) read from `fixture`."""
    entry = {"tensors": {}}
    for name, t in tensors.items():
        f = t.detach().to(torch.float32).contiguous()
        entry["tensors"][name] = {"shape": list(f.shape), "values": [float(v) for v in f.flatten().tolist()]}
    entry.update(facts)
    expected[fixture] = entry


def path(name):
    return os.path.join(OUT, name)


# ---------------------------------------------------------------- safetensors and .npy
def gen_safetensors_npy():
    from safetensors.torch import save_file
    ts = {
        "a.f32": rand(2, 3),
        "b.f16": rand(4, dtype=torch.float16),
        "c.bf16": rand(3, 2, dtype=torch.bfloat16),
        "d.f64": rand(5, dtype=torch.float64),
        "e.i64": torch.tensor([-3, 0, 70000], dtype=torch.int64),
        "f.u8": torch.tensor([0, 255], dtype=torch.uint8),
        "g.scalar": torch.tensor(2.5),
        "h.empty": torch.zeros(0, 3),
    }
    save_file(ts, path("mixed.safetensors"), metadata={"format": "pt", "note": "hatscope fixture"})
    record("mixed.safetensors", ts, metadata={"format": "pt", "note": "hatscope fixture"})

    a = rand(2, 3, 4).numpy()
    np.save(path("c_f32.npy"), a)
    record("c_f32.npy", {"": torch.from_numpy(a)})
    b = np.asfortranarray(rand(3, 5, dtype=torch.float64).numpy())
    np.save(path("fortran_f64.npy"), b)
    record("fortran_f64.npy", {"": torch.from_numpy(np.ascontiguousarray(b))})
    c = np.arange(-4, 8, dtype=">i4").reshape(3, 4)
    np.save(path("bigendian_i4.npy"), c)
    record("bigendian_i4.npy", {"": torch.from_numpy(c.astype(np.float32))})


# ---------------------------------------------------------------- torch.save fixtures
class MarkedTensor(torch.Tensor):
    """A tensor subclass: torch.save writes it through torch._tensor._rebuild_from_type_v2."""


class RunsShell:
    """Pickles as os.system(...): loading it with pickle would create MARKER. Readers must refuse."""

    def __reduce__(self):
        return (os.system, ("touch /tmp/hatscope_checkpoint_test_marker",))


def small_state_dict():
    sd = {
        "conv.weight": rand(4, 3, 3, 3),
        "conv.bias": rand(4),
        "bn.weight": rand(4),
        "bn.running_var": rand(4).abs(),
        "bn.num_batches_tracked": torch.tensor(17, dtype=torch.int64),
        "head.weight": rand(5, 4),
    }
    return sd


def gen_torch():
    import argparse
    from collections import OrderedDict

    # Bare state dict (an OrderedDict, as model.state_dict() returns).
    sd = OrderedDict(small_state_dict())
    torch.save(sd, path("bare.pt"))
    record("bare.pt", sd, source="(top level)", extras=[])

    # Training dict: state_dict + optimizer + argparse.Namespace + numpy scalars + plain values.
    model = torch.nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(2, 4, generator=gen)).sum().backward()
    opt.step()
    args = argparse.Namespace(model="faster_vit_0_224", lr=0.1, epochs=300, amp=True, mean=[0.485, 0.456, 0.406])
    sd2 = OrderedDict(small_state_dict())
    torch.save({"epoch": 309, "arch": "faster_vit_0_224", "state_dict": sd2, "optimizer": opt.state_dict(),
                "args": args, "best_metric": np.float64(0.8125), "step": np.int64(12), "device": torch.device("cpu"),
                "tags": {"a", "b"}, "raw": b"\x00\x01"}, path("train_state_dict.pt"))
    record("train_state_dict.pt", sd2, source="state_dict",
           extra_keys=["epoch", "arch", "optimizer", "args", "best_metric", "step", "device", "tags", "raw"])

    # `model` wrapper.
    sd3 = OrderedDict(small_state_dict())
    torch.save({"model": sd3, "epoch": 3}, path("model_key.pt"))
    record("model_key.pt", sd3, source="model", extra_keys=["epoch"])

    # model + state_dict_ema: default picks `model`, --ema picks the EMA weights.
    sd4 = OrderedDict(small_state_dict())
    ema = OrderedDict((k, (v * 0.5 if v.is_floating_point() else v)) for k, v in sd4.items())
    torch.save({"model": sd4, "state_dict_ema": ema, "epoch": 5}, path("ema.pt"))
    record("ema.pt", sd4, source="model", extra_keys=["state_dict_ema", "epoch"])
    record("ema.pt#ema", ema, source="state_dict_ema", extra_keys=["model", "epoch"])

    # DataParallel `module.` prefix.
    sd5 = OrderedDict(small_state_dict())
    torch.save({"state_dict": OrderedDict(("module." + k, v) for k, v in sd5.items())}, path("module_prefix.pt"))
    record("module_prefix.pt", sd5, source="state_dict", extra_keys=[])

    # A whole pickled nn.Module under `model` (torch.save(model)): not a state dict, explained.
    torch.save({"model": torch.nn.Linear(2, 2), "epoch": 1}, path("whole_module.pt"))

    # Storage element types.
    dt = OrderedDict([
        ("f16", rand(3, 4, dtype=torch.float16)), ("bf16", rand(2, 5, dtype=torch.bfloat16)),
        ("f64", rand(3, dtype=torch.float64)), ("i64", torch.tensor([-2, 5, 1 << 40])),
        ("i32", torch.tensor([7, -7], dtype=torch.int32)), ("u8", torch.tensor([0, 9, 255], dtype=torch.uint8)),
        ("b", torch.tensor([True, False])), ("scalar", torch.tensor(1.25)),
    ])
    torch.save(dt, path("dtypes.pt"))
    record("dtypes.pt", dt)

    # Views: a transposed tensor, two tensors sharing one storage at offsets, a stepped slice,
    # a Parameter (_rebuild_parameter) and a tensor subclass (_rebuild_from_type_v2).
    base = rand(24)
    grid = rand(4, 6)
    views = OrderedDict([
        ("transposed", rand(3, 5).t()),
        ("shared_a", base[2:8].view(2, 3)),
        ("shared_b", base[10:22].view(3, 4)),
        ("stepped", grid[:, ::2]),
        ("param", torch.nn.Parameter(rand(2, 2))),
        ("subclass", rand(3).as_subclass(MarkedTensor)),
        ("half_t", rand(4, 2, dtype=torch.float16).t()),
    ])
    assert not views["transposed"].is_contiguous() and views["shared_a"].storage_offset() == 2
    torch.save(views, path("views.pt"))
    record("views.pt", views)

    # Legacy (pre-1.6) format, wrapped, with views and fp16.
    leg_sd = OrderedDict(small_state_dict())
    leg_sd["half"] = rand(3, dtype=torch.float16)
    leg_sd["shared_t"] = base[1:13].view(3, 4).t()
    torch.save({"state_dict": leg_sd, "epoch": 2}, path("legacy.pt"), _use_new_zipfile_serialization=False)
    record("legacy.pt", leg_sd, source="state_dict", extra_keys=["epoch"])

    # A malicious pickle: os.system inside an otherwise normal checkpoint (never loaded with torch!).
    torch.save({"state_dict": OrderedDict(small_state_dict()), "payload": RunsShell()}, path("evil_os_system.pt"))
    torch.save({"state_dict": OrderedDict(small_state_dict()), "payload": RunsShell()}, path("evil_legacy.pt"),
               _use_new_zipfile_serialization=False)

    # Tiny checkpoints for the mutation test (every truncation point, random byte flips).
    tiny = OrderedDict([("w", rand(2, 3)), ("b", rand(2, dtype=torch.float16)), ("t", rand(2, 2).t())])
    torch.save({"state_dict": tiny, "epoch": 1}, path("tiny.pt"))
    record("tiny.pt", tiny, source="state_dict", extra_keys=["epoch"])
    torch.save({"state_dict": tiny, "epoch": 1}, path("tiny_legacy.pt"), _use_new_zipfile_serialization=False)
    record("tiny_legacy.pt", tiny, source="state_dict", extra_keys=["epoch"])

    # The same archive rewritten with ZIP64 records (force_zip64), stored entries, data 64-byte aligned
    # through local extra fields, and bit 3 data descriptors -- the layouts large torch files use.
    rezip_zip64(path("tiny.pt"), path("tiny_zip64.pt"))
    record("tiny_zip64.pt", tiny, source="state_dict", extra_keys=["epoch"])


def rezip_zip64(src, dst):
    """Rewrites a torch zip by hand: ZIP64 extra fields in local and central headers, padding extra
    fields so data starts 64-byte aligned, sizes only in data descriptors (bit 3), ZIP64 end records."""
    import struct
    import zlib
    zin = zipfile.ZipFile(src)
    out = bytearray()
    central = bytearray()
    names = zin.namelist()
    for name in names:
        data = zin.read(name)
        nb = name.encode()
        offset = len(out)
        z64 = struct.pack("<HHQQ", 1, 16, 0, 0)  # sizes deferred to the data descriptor
        base = offset + 30 + len(nb) + len(z64) + 4
        pad = (-base) % 64
        local_extra = z64 + struct.pack("<HH", 0x4850, pad) + b"Z" * pad  # padding record
        crc = zlib.crc32(data)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 8, 0, 0, 0, 0, 0xFFFFFFFF, 0xFFFFFFFF, len(nb), len(local_extra))
        out += nb + local_extra
        assert len(out) % 64 == 0
        out += data
        out += struct.pack("<IIQQ", 0x08074B50, crc, len(data), len(data))
        cz64 = struct.pack("<HHQQQ", 1, 24, len(data), len(data), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 8, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                               len(nb), len(cz64), 0, 0, 0, 0, 0xFFFFFFFF)
        central += nb + cz64
    cd_offset = len(out)
    out += central
    z64_end = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(names), len(names), len(central), cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, z64_end, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    with open(dst, "wb") as f:
        f.write(out)
    # The official reader accepts it and returns the same tensors.
    a = torch.load(src, weights_only=True)
    b = torch.load(dst, weights_only=True)
    assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])


# ---------------------------------------------------------------- a whole (tiny) FasterViT checkpoint
TINY_FASTERVIT = dict(dim=8, in_dim=8, depths=[1, 1, 1, 1], num_heads=[1, 2, 4, 8], window_size=[7, 7, 3, 3],
                      ct_size=1, mlp_ratio=2, resolution=96, layer_scale=1e-5, hat=[False, False, True, False],
                      do_propagation=True, num_classes=10)


def gen_tiny_fastervit():
    """The official FasterViT class with a small custom configuration, random weights, saved as a
    DataParallel training checkpoint in fp16 (state_dict with 'module.', optimizer-free extras)."""
    import argparse
    import warnings
    warnings.filterwarnings("ignore")
    from fastervit.models.faster_vit import FasterViT
    torch.manual_seed(7)
    m = FasterViT(**TINY_FASTERVIT)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
    sd = {"module." + k: (v.half() if v.is_floating_point() else v) for k, v in m.state_dict().items()}
    torch.save({"epoch": 3, "state_dict": sd, "args": argparse.Namespace(model="tiny")}, path("tiny_fastervit.pth.tar"))
    # The same weights inside larger models, as trainers save them: a LightningModule holding the
    # network as `self.model` (Lightning's checkpoint layout: state_dict keys 'model.*' beside a
    # loss module's tensors, optimizer_states, hyper_parameters), and a distillation checkpoint
    # holding two FasterViTs ('student.*', 'teacher.*').
    plain = {k[len("module."):]: v for k, v in sd.items()}
    lightning = {"model." + k: v for k, v in plain.items()}
    lightning["criterion.weight"] = torch.ones(c_classes := TINY_FASTERVIT["num_classes"])
    torch.save({"epoch": 7, "global_step": 700, "pytorch-lightning_version": "2.4.0", "state_dict": lightning,
                "loops": {}, "callbacks": {}, "optimizer_states": [{"state": {}, "param_groups": [{"lr": 0.001}]}],
                "lr_schedulers": [], "hparams_name": "kwargs", "hyper_parameters": {"num_classes": c_classes}},
               path("lightning_tiny.ckpt"))
    # A LightningModule keeping timm's EMA copy beside the network (`self.model_ema =
    # ModelEmaV3(self.model)`): 'model.*' and 'model_ema.module.*'. The EMA copy's weights differ
    # (one update towards perturbed weights) so a test can tell which one was loaded.
    import copy
    from timm.utils import ModelEmaV3
    trained = copy.deepcopy(m)
    ema = ModelEmaV3(trained, decay=0.5)
    nudge = torch.Generator().manual_seed(31)  # its own stream: the fixtures after this one stay as they were
    with torch.no_grad():
        for p in trained.parameters():
            p.add_(torch.randn(p.shape, generator=nudge) * 0.05)
    ema.update(trained)
    with_ema = {"model." + k: v for k, v in plain.items()}
    with_ema.update({"model_ema." + k: (v.half() if v.is_floating_point() else v)
                     for k, v in ema.state_dict().items()})  # its keys are "module.*"
    torch.save({"epoch": 9, "pytorch-lightning_version": "2.4.0", "state_dict": with_ema, "callbacks": {},
                "optimizer_states": [], "lr_schedulers": []}, path("lightning_ema_tiny.ckpt"))
    distill = {"student." + k: v for k, v in plain.items()}
    distill.update({"teacher." + k: v for k, v in plain.items()})
    torch.save({"state_dict": distill, "epoch": 1}, path("distill_tiny.pth"))
    # The same model saved whole (torch.save(model), fp16): its state dict must equal the one above.
    torch.save(m.half(), path("whole_fastervit.pt"))
    c = TINY_FASTERVIT
    expected["tiny_fastervit.pth.tar"] = {
        "config": {"dim": c["dim"], "inDim": c["in_dim"], "depths": c["depths"], "heads": c["num_heads"],
                   "windowSize": c["window_size"], "ctSize": c["ct_size"], "mlpRatio": c["mlp_ratio"],
                   "hat": c["hat"], "doPropagation": c["do_propagation"], "numClasses": c["num_classes"],
                   "resolution": [c["resolution"], c["resolution"]]},
        "tensor_count": len(sd),
        "parameters": sum(p.numel() for p in m.parameters()),
    }


# ---------------------------------------------------------------- official variant shape lists
PRESETS = ["faster_vit_0_224", "faster_vit_1_224", "faster_vit_2_224", "faster_vit_3_224", "faster_vit_4_224",
           "faster_vit_5_224", "faster_vit_6_224", "faster_vit_4_21k_224", "faster_vit_4_21k_384",
           "faster_vit_4_21k_512", "faster_vit_4_21k_768"]


def gen_variant_shapes():
    """state_dict key -> shape of every official preset, built on the meta device (no weights)."""
    import warnings
    warnings.filterwarnings("ignore")
    import fastervit.models.faster_vit as fv
    linspace = torch.linspace
    # The constructor calls .item() on a linspace (drop-path rates), impossible on meta: make it on the CPU.
    torch.linspace = lambda *a, **k: linspace(*a, **{**k, "device": "cpu"})
    try:
        shapes = {}
        for n in PRESETS:
            with torch.device("meta"):
                m = getattr(fv, n)(pretrained=False)
            shapes[n] = {k: list(v.shape) for k, v in m.state_dict().items()}
    finally:
        torch.linspace = linspace
    with open(path("variant_shapes.json"), "w") as f:
        json.dump(shapes, f, separators=(",", ":"))


class Small(torch.nn.Module):
    """A small module to save whole (its class must be importable by name to be pickled)."""
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.bn = torch.nn.BatchNorm2d(4)
        self.head = torch.nn.Linear(4, 5, bias=False)


def gen_wrapped_prefixes():
    """State dicts of wrapped modules, saved as people save them: torch.compile's OptimizedModule
    prefixes every key with `_orig_mod.`; around DataParallel `_orig_mod.module.`, inside it
    `module._orig_mod.`. Own generator: the fixtures above keep their values."""
    from collections import OrderedDict
    own = torch.Generator().manual_seed(20261202)

    def small():
        m = Small()
        with torch.no_grad():
            for t in m.state_dict().values():
                if t.is_floating_point():
                    t.copy_(torch.randn(t.shape, generator=own))
        return m

    # Whole modules (torch.save(model)): the state dict is read from the pickled attributes;
    # a non-persistent buffer stays out, as in state_dict(). Protocol 2 (torch's default) pickles
    # its set of non-persistent names as builtins.set([...]), protocol 4 as EMPTY_SET/ADDITEMS.
    for name, protocol, wrap, key in [("whole_small.pt", 2, lambda m: m, None),
                                      ("whole_small_p4.pt", 4, lambda m: m, None),
                                      ("whole_dp_in_dict.pt", 2, lambda m: torch.nn.DataParallel(m), "model")]:
        m = small()
        m.register_buffer("scratch", torch.ones(3), persistent=False)
        obj = wrap(m) if key is None else {key: wrap(m), "epoch": 4}
        torch.save(obj, path(name), pickle_protocol=protocol)
        record(name, OrderedDict(m.state_dict()), source=key or "(top level)", extra_keys=[] if key is None else ["epoch"],
               module=type(wrap(m)).__module__ + "." + type(wrap(m)).__qualname__)

    # A module that holds itself among its submodules: torch.save writes the cycle through the
    # memo; a reader must refuse it rather than loop.
    m = small()
    m._modules["again"] = m
    torch.save(m, path("whole_cycle.pt"))
    # Forty levels, each holding the next level twice: 2^40 paths through 41 small objects.
    # state_dict() would walk every path; a reader must stop at a bound, not run for days.
    shared = torch.nn.Module()
    for _ in range(40):
        parent = torch.nn.Module()
        parent._modules["a"] = shared
        parent._modules["b"] = shared
        shared = parent
    torch.save(shared, path("whole_shared.pt"))

    for name, wrap in [("compiled_prefix.pt", lambda m: torch.compile(m)),
                       ("compiled_dp_prefix.pt", lambda m: torch.compile(torch.nn.DataParallel(m))),
                       ("dp_compiled_prefix.pt", lambda m: torch.nn.DataParallel(torch.compile(m)))]:
        m = small()
        wrapped = wrap(m).state_dict()
        torch.save({"state_dict": wrapped, "epoch": 2}, path(name))
        record(name, OrderedDict(m.state_dict()), source="state_dict", extra_keys=["epoch"],
               stored_keys=list(wrapped.keys())[:2])


def main():
    gen_safetensors_npy()
    gen_torch()
    gen_tiny_fastervit()
    gen_wrapped_prefixes()
    if "--skip-variants" not in sys.argv:
        gen_variant_shapes()
    with open(path("expected.json"), "w") as f:
        json.dump(expected, f, indent=None, separators=(",", ":"))
    total = sum(os.path.getsize(path(n)) for n in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {OUT}")


if __name__ == "__main__":
    main()
