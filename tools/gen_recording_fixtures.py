#!/usr/bin/env python3
"""The committed record_torch.py fixture (Tests/HatscopeCLITests/Fixtures/torch_recording/).

    "${HATSCOPE_PYTHON:-python3}" tools/gen_recording_fixtures.py [--out DIR]

Builds two SMALL official models through factories with keyword arguments, randomises every
learned tensor as the parity fixtures do (gen_model_fixtures.randomize), and writes for each
case NAME:
  - `small`: faster_vit_0_any_res, hierarchical attention in both transformer stages, a
    non-square 4 x 6 carrier grid, propagation, layer scale, 10 classes, 128 x 192;
  - `fixed`: faster_vit_0_224 (faster_vit.py, the fixed-resolution file), carriers in stage 3,
    propagation, layer scale, 7 classes, 224 x 224;

    NAME.pth.tar          torch.save({"state_dict": ..., "arch": FACTORY}): the checkpoint
    NAME.kwargs.json      the factory's keyword arguments (also a hatscope --config)
    NAME.input.npy        the network input [1, 3, H, W]
    NAME.recording.safetensors   tools/record_torch.py's recording of it (float32 maps)

The Swift test runs `hatscope record` on the same checkpoint and input and compares the two
recordings (every tensor within 1e-5), and, when HATSCOPE_PYTHON is set, runs record_torch.py
again itself.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gen_model_fixtures import check_versions, randomize  # noqa: E402

CASES = [
    ("small", "faster_vit_0_any_res", {
        "dim": 4, "in_dim": 4, "depths": [1, 1, 2, 2], "num_heads": [1, 1, 2, 2], "window_size": [7, 7, 4, 4],
        "ct_size": 2, "resolution": [128, 192], "hat": [False, False, True, True], "layer_scale": 1e-5,
        "do_propagation": True, "num_classes": 10, "drop_path_rate": 0.0}, [128, 192]),
    ("fixed", "faster_vit_0_224", {
        "dim": 4, "in_dim": 4, "depths": [1, 1, 2, 1], "num_heads": [1, 1, 2, 2], "window_size": [7, 7, 7, 7],
        "ct_size": 2, "layer_scale": 1e-5, "do_propagation": True, "num_classes": 7, "drop_path_rate": 0.0}, [224, 224]),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(HERE, "..", "Tests", "HatscopeCLITests", "Fixtures", "torch_recording"))
    args = ap.parse_args()
    check_versions()
    import fastervit.models.faster_vit as fixed
    import fastervit.models.faster_vit_any_res as anyres
    torch.set_num_threads(2)
    os.makedirs(args.out, exist_ok=True)
    # Paths relative to the repository root, as the recordings' provenance shows them.
    root = os.path.join(HERE, "..")
    rel = os.path.relpath(args.out, root)
    for index, (name, factory, kwargs, size) in enumerate(CASES):
        gen = torch.Generator().manual_seed(4242 + index)
        module = anyres if factory.endswith("any_res") else fixed
        model = getattr(module, factory)(pretrained=False, **kwargs).eval()
        randomize(model, gen)
        torch.save({"state_dict": model.state_dict(), "arch": factory}, os.path.join(args.out, f"{name}.pth.tar"))
        with open(os.path.join(args.out, f"{name}.kwargs.json"), "w") as f:
            json.dump(kwargs, f, indent=1, sort_keys=True)
        x = torch.randn(1, 3, *size, generator=gen)
        np.save(os.path.join(args.out, f"{name}.input.npy"), x.numpy().astype(np.float32))
        subprocess.run([sys.executable, os.path.join("tools", "record_torch.py"), "--model", factory,
                        "--config", os.path.join(rel, f"{name}.kwargs.json"), "--checkpoint", os.path.join(rel, f"{name}.pth.tar"),
                        "--input", os.path.join(rel, f"{name}.input.npy"),
                        "--out", os.path.join(rel, f"{name}.recording.safetensors"), "--threads", "2"], check=True, cwd=root)


if __name__ == "__main__":
    main()
