#!/usr/bin/env python3
"""Time the official PyTorch FasterViT on the same checkpoint and input as `hatscope bench`.

    "${HATSCOPE_PYTHON:-python3}" tools/bench_torch.py --model faster_vit_0_224 \
        --checkpoint C.pth.tar|C.safetensors [--input x.npy] [--repeat 20] [--threads 2] \
        [--swift-ms <forward_record_ms from hatscope bench>]

Prints `torch_forward_ms: <median>` and, with --swift-ms, `ratio_swift_over_torch: <r>`.
Without --input it uses hatscope's fixed pseudo-random input only if given as a file; otherwise a
seeded torch.randn input (timing does not depend on the values).
Pinned: torch 2.5.1, timm 1.0.31, fastervit 1.0.0. Same thread count as hatscope (2 by default).
"""
import argparse
import statistics
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
    if args.swift_ms:
        print(f"ratio_swift_over_torch: {args.swift_ms / med:.3f}")


if __name__ == "__main__":
    main()
