#!/usr/bin/env python3
"""Time the official PyTorch FasterViT and `hatscope bench` on the same checkpoint and input.

    "${HATSCOPE_PYTHON:-python3}" tools/bench_torch.py --model faster_vit_0_224 \
        --checkpoint C.pth.tar|C.safetensors --input x.npy [--repeat 20] [--threads 2] \
        [--hatscope .build/release/hatscope]

Prints `torch_forward_ms: <median>`. With --hatscope it then runs
`hatscope bench --checkpoint C --model M --input X --repeat N` (same checkpoint, input and
repeat count; hatscope uses every core, so keep --threads at the core count) and prints its
`forward_ms` / `forward_record_ms` and the ratios `ratio_record_over_torch` (the issue's target:
<= 0.75 for faster_vit_0_224) and `ratio_plain_over_torch`. --swift-ms X instead takes a
forward_record_ms measured separately. Without --input a seeded torch.randn input is used.
Pinned: torch 2.5.1, timm 1.0.31, fastervit 1.0.0.
"""
import argparse
import os
import re
import statistics
import subprocess
import time

import numpy as np
import torch


def load_state_dict(path):
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file
        return load_file(path)
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    sd = ckpt
    if isinstance(ckpt, dict):
        for key in ("state_dict", "model", "state_dict_ema"):
            if key in ckpt and isinstance(ckpt[key], dict):
                sd = ckpt[key]
                break
    return {k[7:] if k.startswith("module.") else k: v for k, v in sd.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True, help="official variant name, e.g. faster_vit_0_224")
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--input", help=".npy [1,3,H,W]")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--any-res", action="store_true", help="use faster_vit_any_res.py built at the input size")
    ap.add_argument("--swift-ms", type=float, help="hatscope's forward_record_ms, to print the ratio")
    ap.add_argument("--hatscope", help="path of the hatscope binary: also run `hatscope bench` and print the ratios")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    x = torch.from_numpy(np.load(args.input)) if args.input else torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    if args.any_res:
        import fastervit.models.faster_vit_any_res as m
        model = getattr(m, args.model.replace("_224", "") + "_any_res" if "21k" not in args.model else args.model + "_any_res")(resolution=list(x.shape[2:]))
    else:
        import fastervit.models.faster_vit as m
        model = getattr(m, args.model)()
    missing, unexpected = model.load_state_dict(load_state_dict(args.checkpoint), strict=False)
    missing = [k for k in missing if not k.endswith(("relative_position_index", "relative_coords_table", "relative_bias"))]
    if missing or unexpected:
        raise SystemExit(f"checkpoint does not match {args.model}: missing {missing[:5]}, unexpected {unexpected[:5]}")
    model.eval()
    times = []
    with torch.inference_mode():
        for _ in range(args.warmup):
            model(x)
        for _ in range(args.repeat):
            t = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t) * 1000)
    med = statistics.median(times)
    print(f"torch_threads: {torch.get_num_threads()}")
    print(f"torch_forward_ms: {med:.2f}")
    del model
    swift_record = args.swift_ms
    swift_plain = None
    if args.hatscope:
        if not args.input:
            raise SystemExit("--hatscope needs --input (the same tensor for both)")
        cmd = [args.hatscope, "bench", "--checkpoint", args.checkpoint, "--model", args.model,
               "--input", args.input, "--repeat", str(args.repeat), "--warmup", str(args.warmup)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=os.environ).stdout
        print(out.strip())
        swift_plain = float(re.search(r"^forward_ms: ([0-9.]+)", out, re.M).group(1))
        swift_record = float(re.search(r"^forward_record_ms: ([0-9.]+)", out, re.M).group(1))
    if swift_record:
        print(f"ratio_record_over_torch: {swift_record / med:.3f}")
    if swift_plain:
        print(f"ratio_plain_over_torch: {swift_plain / med:.3f}")


if __name__ == "__main__":
    main()
