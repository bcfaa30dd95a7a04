#!/usr/bin/env python3
"""Time the official PyTorch FasterViT and `hatscope bench` on the same checkpoint and input.

    "${HATSCOPE_PYTHON:-python3}" tools/bench_torch.py --model faster_vit_0_224 \
        --checkpoint C.pth.tar|C.safetensors --input x.npy [--repeat 20] [--threads 2] \
        [--hatscope .build/release/hatscope] [--rounds 5]

Prints `torch_forward_ms: <median>`. With --hatscope it then runs
`hatscope bench --checkpoint C --model M --input X --repeat N` (same checkpoint, input and
repeat count; hatscope uses every core, so keep --threads at the core count) and prints its
`forward_ms` / `forward_record_ms` and the ratios `ratio_record_over_torch` (the issue's target:
<= 0.75 for faster_vit_0_224) and `ratio_plain_over_torch`. With --rounds R the two are timed
alternately R times (torch, hatscope, torch, ...) and every figure is the median over rounds, each
ratio the median of the per-round ratios: on a shared machine a neighbour's burst then skews one
round, not the result. --swift-ms X instead takes a forward_record_ms measured separately.
Without --input a seeded torch.randn input is used.
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
    ap.add_argument("--rounds", type=int, default=5, help="alternate torch and hatscope timings this many times")
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
    if args.hatscope and not args.input:
        raise SystemExit("--hatscope needs --input (the same tensor for both)")

    def time_torch():
        times = []
        with torch.inference_mode():
            for _ in range(args.warmup):
                model(x)
            for _ in range(args.repeat):
                t = time.perf_counter()
                model(x)
                times.append((time.perf_counter() - t) * 1000)
        return statistics.median(times)

    def time_hatscope():
        cmd = [args.hatscope, "bench", "--checkpoint", args.checkpoint, "--model", args.model,
               "--input", args.input, "--repeat", str(args.repeat), "--warmup", str(args.warmup)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=os.environ).stdout
        plain = float(re.search(r"^forward_ms: ([0-9.]+)", out, re.M).group(1))
        record = float(re.search(r"^forward_record_ms: ([0-9.]+)", out, re.M).group(1))
        return out, plain, record

    rounds = max(1, args.rounds) if args.hatscope else 1
    torch_ms, plain_ms, record_ms, record_ratios, plain_ratios, last_out = [], [], [], [], [], ""
    for r in range(rounds):
        torch_ms.append(time_torch())
        if args.hatscope:
            last_out, plain, record = time_hatscope()
            plain_ms.append(plain)
            record_ms.append(record)
            record_ratios.append(record / torch_ms[-1])
            plain_ratios.append(plain / torch_ms[-1])
            if rounds > 1:
                print(f"round {r + 1}: torch {torch_ms[-1]:.2f} ms, hatscope {plain:.2f} ms (recording {record:.2f} ms), "
                      f"ratio {record_ratios[-1]:.3f}")
    med = statistics.median(torch_ms)
    print(f"torch_threads: {torch.get_num_threads()}")
    print(f"torch_forward_ms: {med:.2f}")
    if args.hatscope:
        # hatscope's own report (the last round), then the medians over rounds.
        print("\n".join(l for l in last_out.strip().splitlines() if not l.startswith(("forward_ms", "forward_record_ms"))))
        print(f"forward_ms: {statistics.median(plain_ms):.2f}")
        print(f"forward_record_ms: {statistics.median(record_ms):.2f}")
        print(f"ratio_record_over_torch: {statistics.median(record_ratios):.3f}")
        print(f"ratio_plain_over_torch: {statistics.median(plain_ratios):.3f}")
    elif args.swift_ms:
        print(f"ratio_record_over_torch: {args.swift_ms / med:.3f}")

if __name__ == "__main__":
    main()
