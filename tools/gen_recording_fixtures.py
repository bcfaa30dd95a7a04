#!/usr/bin/env python3
"""The committed record_torch.py fixture (Tests/HatscopeCLITests/Fixtures/torch_recording/).

    "${HATSCOPE_PYTHON:-python3}" tools/gen_recording_fixtures.py [--out DIR]

Builds a SMALL official any-res model through the `faster_vit_0_any_res` factory with keyword
arguments (hierarchical attention in both transformer stages, a non-square 4 x 6 carrier grid,
propagation, layer scale, 10 classes), randomises every learned tensor as the parity fixtures do
(gen_model_fixtures.randomize), and writes

    small.pth.tar          torch.save({"state_dict": ..., "arch": ...}): the checkpoint
    small.kwargs.json      the factory's keyword arguments (also a hatscope --config)
    small.input.npy        the network input [1, 3, 128, 192]
    small.recording.safetensors   tools/record_torch.py's recording of it (float32 maps)

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

KWARGS = {
    "dim": 4, "in_dim": 4, "depths": [1, 1, 2, 2], "num_heads": [1, 1, 2, 2], "window_size": [7, 7, 4, 4],
    "ct_size": 2, "resolution": [128, 192], "hat": [False, False, True, True], "layer_scale": 1e-5,
    "do_propagation": True, "num_classes": 10, "drop_path_rate": 0.0,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(HERE, "..", "Tests", "HatscopeCLITests", "Fixtures", "torch_recording"))
    args = ap.parse_args()
    check_versions()
    import fastervit.models.faster_vit_any_res as anyres
    torch.set_num_threads(2)
    os.makedirs(args.out, exist_ok=True)
    gen = torch.Generator().manual_seed(4242)
    model = anyres.faster_vit_0_any_res(pretrained=False, **KWARGS).eval()
    randomize(model, gen)
    ckpt = os.path.join(args.out, "small.pth.tar")
    torch.save({"state_dict": model.state_dict(), "arch": "faster_vit_0_any_res"}, ckpt)
    with open(os.path.join(args.out, "small.kwargs.json"), "w") as f:
        json.dump(KWARGS, f, indent=1, sort_keys=True)
    x = torch.randn(1, 3, *KWARGS["resolution"], generator=gen)
    np.save(os.path.join(args.out, "small.input.npy"), x.numpy().astype(np.float32))
    # Paths relative to the repository root, as the recording's provenance shows them.
    root = os.path.join(HERE, "..")
    rel = os.path.relpath(args.out, root)
    subprocess.run([sys.executable, os.path.join("tools", "record_torch.py"), "--model", "faster_vit_0_any_res",
                    "--config", os.path.join(rel, "small.kwargs.json"), "--checkpoint", os.path.join(rel, "small.pth.tar"),
                    "--input", os.path.join(rel, "small.input.npy"), "--out", os.path.join(rel, "small.recording.safetensors"),
                    "--threads", "2"], check=True, cwd=root)


if __name__ == "__main__":
    main()
