#!/usr/bin/env python3
"""Time `hatscope occlude` and the same batched work in PyTorch, side by side.

    "${HATSCOPE_PYTHON:-python3}" tools/bench_occlude.py --model faster_vit_0_224 \
        --checkpoint C.pth.tar|C.safetensors --input x.npy --hatscope .build/release/hatscope \
        [--batch 32] [--rounds 5] [--threads 2]

The work: the clean input and one copy per stage-3 token (196 at 224 x 224) with that token's
16 x 16 input pixels set to 0 after normalisation, through the official model in batches of
--batch, then softmax. hatscope's figure is the time its `occlude` command prints for exactly
that (copies made, forwards, probabilities; not loading or writing files); PyTorch's is the same
steps timed in this process. Rounds alternate (torch, hatscope, torch, ...); every figure is the
median over rounds, the ratio the median of the per-round ratios. The probabilities of the two
are compared too (largest difference of any copy's top-1 probability).
Pinned: torch 2.5.1, timm 1.0.31, fastervit 1.0.0.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import time

import numpy as np
import torch

from bench_torch import load_state_dict


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="official variant name, e.g. faster_vit_0_224")
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--input", required=True, help=".npy [1,3,H,W] (the same tensor for both)")
    ap.add_argument("--hatscope", required=True, help="path of the hatscope binary")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    import fastervit.models.faster_vit as m
    model = getattr(m, args.model)()
    missing, unexpected = model.load_state_dict(load_state_dict(args.checkpoint), strict=False)
    missing = [k for k in missing if not k.endswith(("relative_position_index", "relative_coords_table", "relative_bias"))]
    if missing or unexpected:
        raise SystemExit(f"checkpoint does not match {args.model}: missing {missing[:5]}, unexpected {unexpected[:5]}")
    model.eval()
    x = torch.from_numpy(np.load(args.input)).float()
    _, _, h, w = x.shape
    stride = 16  # stage 3
    rows, cols = h // stride, w // stride

    def torch_run():
        t = time.perf_counter()
        copies = x.repeat(1 + rows * cols, 1, 1, 1)
        for i in range(rows * cols):
            r, c = divmod(i, cols)
            copies[1 + i, :, r * stride:(r + 1) * stride, c * stride:(c + 1) * stride] = 0
        probs = []
        with torch.inference_mode():
            for s in range(0, copies.shape[0], args.batch):
                probs.append(torch.softmax(model(copies[s:s + args.batch]).double(), dim=1))
        probs = torch.cat(probs)
        return time.perf_counter() - t, probs

    def hatscope_run(out):
        cmd = [args.hatscope, "occlude", "--checkpoint", args.checkpoint, "--model", args.model, "--input", args.input,
               "--out", out, "--patch", "tokens", "--batch", str(args.batch)]
        text = subprocess.run(cmd, check=True, capture_output=True, text=True, env=os.environ).stdout
        seconds = float(re.search(r"in batches of \d+: ([0-9.]+) s", text).group(1))
        with open(os.path.join(out, "occlusion.json")) as f:
            doc = json.load(f)
        return seconds, doc

    torch_run()  # warm-up
    torch_s, hat_s, ratios = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(max(1, args.rounds)):
            ts, probs = torch_run()
            hs, doc = hatscope_run(os.path.join(tmp, f"r{r}"))
            torch_s.append(ts)
            hat_s.append(hs)
            ratios.append(hs / ts)
            print(f"round {r + 1}: torch {ts:.3f} s, hatscope {hs:.3f} s, ratio {hs / ts:.3f}")
    top = doc["classes"][0]
    k = top["index"]
    diff = max(abs(a - b) for a, b in zip(top["probabilities"], probs[1:, k].tolist()))
    diff = max(diff, abs(top["cleanProbability"] - probs[0, k].item()))
    print(f"copies: {rows * cols} occluded + 1 clean, {h}x{w}, batches of {args.batch}, torch threads {torch.get_num_threads()}")
    print(f"torch_s: {statistics.median(torch_s):.3f}")
    print(f"hatscope_s: {statistics.median(hat_s):.3f}")
    print(f"ratio_hatscope_over_torch: {statistics.median(ratios):.3f}")
    print(f"max_probability_difference: {diff:.2e}")


if __name__ == "__main__":
    main()
