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


def main():
    gen_safetensors_npy()
    if "--npy-only" not in sys.argv:
        from gen_checkpoint_torch import gen_torch  # noqa: E402  (torch.save fixtures, see below)
        gen_torch(record, path, rand)
    with open(path("expected.json"), "w") as f:
        json.dump(expected, f, indent=None, separators=(",", ":"))
    total = sum(os.path.getsize(path(n)) for n in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {OUT}")


if __name__ == "__main__":
    main()
