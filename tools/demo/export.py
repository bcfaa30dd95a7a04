#!/usr/bin/env python3
"""Export the trained demo into assets/demo/ and write the Swift tests' PyTorch reference.

Writes:
  assets/demo/fastervit_demo.pth.tar   the checkpoint (official training-dict format), re-saved
                                       with only state_dict / epoch / arch / args / class_names
  assets/demo/classes.txt              class names, one per line, in logit order
  assets/demo/images/demo_NN.png       --count generated demo images (224 x 224)
  assets/demo/images/labels.json       their true labels (sidecar, from generate.py)
  assets/demo/reference_logits.json    the official PyTorch model's logits and top-1 per image,
                                       computed from the PNG files through timm's eval transform
                                       (crop_pct 1.0, center, bicubic, ImageNet mean/std), i.e.
                                       the same preprocessing hatscope applies

and, with --ablate N, prints held-out accuracy on N images with carrier attention switched off
and with propagation switched off (what the carrier tokens contribute).

Usage:
  $HATSCOPE_PYTHON tools/demo/export.py --checkpoint /work/demo-data/final.pth.tar [--ablate 1000]
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402

from fastervit.models.faster_vit import FasterViT  # noqa: E402
from timm.data import create_transform  # noqa: E402

MEAN = (0.485, 0.456, 0.406)  # ImageNet, as in train.py and hatscope's preprocessing
STD = (0.229, 0.224, 0.225)
REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def load_model(path: str) -> tuple[torch.nn.Module, dict]:
    # weights_only=False: our own file, holding an argparse.Namespace like the official checkpoints.
    ck = torch.load(path, map_location="cpu", weights_only=False)
    arch = dict(vars(ck["args"])["arch"])
    model = FasterViT(drop_path_rate=0.0, **arch)
    missing, unexpected = model.load_state_dict(ck["state_dict"], strict=True)
    assert not missing and not unexpected
    model.eval()
    return model, ck


def transform_for(args: argparse.Namespace):
    return create_transform(input_size=(3, 224, 224), is_training=False, crop_pct=args.crop_pct,
                            crop_mode=args.crop_mode, interpolation=args.interpolation,
                            mean=args.mean, std=args.std)


@torch.no_grad()
def ablation(model: torch.nn.Module, count: int, seed: int) -> dict:
    """Held-out accuracy: intact / carrier attention off / propagation off / both."""
    xs = np.empty((count, 224, 224, 3), dtype=np.uint8)
    ys = np.empty((count,), dtype=np.int64)
    for i in range(count):
        xs[i], ys[i], _ = generate.render(seed, "val", i)
    x = torch.from_numpy(xs).permute(0, 3, 1, 2).float().div(255)
    x = (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)

    blocks = [b for lvl in model.levels for b in getattr(lvl, "blocks", []) if getattr(b, "sr_ratio", 1) > 1]
    hooks = []

    def acc() -> float:
        correct = 0
        for s in range(0, count, 100):
            correct += int((model(x[s:s + 100]).argmax(1) == torch.from_numpy(ys[s:s + 100])).sum())
        return correct / count

    out = {"intact": acc()}
    # Carrier attention off: the hat_attn branch adds nothing to the carrier tokens.
    for b in blocks:
        hooks.append(b.hat_attn.register_forward_hook(lambda m, i, o: torch.zeros_like(o)))
    out["carrier_attention_off"] = acc()
    for h in hooks:
        h.remove()
    # Propagation off: the last block does not add the carrier tokens back into its window.
    for b in blocks:
        b.do_propagation_saved = b.do_propagation
        b.do_propagation = False
    out["propagation_off"] = acc()
    for b in blocks:
        hooks.append(b.hat_attn.register_forward_hook(lambda m, i, o: torch.zeros_like(o)))
    out["carrier_attention_and_propagation_off"] = acc()
    for h in hooks:
        h.remove()
    for b in blocks:
        b.do_propagation = b.do_propagation_saved
    out["images"] = count
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--assets", default=os.path.join(REPO, "assets"))
    ap.add_argument("--count", type=int, default=12)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--ablate", type=int, default=0, help="held-out images for the ablation (0 = skip)")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)

    model, ck = load_model(a.checkpoint)
    args = ck["args"]
    demo = os.path.join(a.assets, "demo")
    images_dir = os.path.join(demo, "images")
    os.makedirs(images_dir, exist_ok=True)

    slim = {"state_dict": ck["state_dict"], "epoch": ck["epoch"], "arch": ck["arch"], "args": args,
            "class_names": list(generate.CLASS_NAMES)}
    dst = os.path.join(demo, "fastervit_demo.pth.tar")
    torch.save(slim, dst + ".tmp")
    os.replace(dst + ".tmp", dst)
    with open(os.path.join(demo, "classes.txt"), "w") as f:
        f.write("\n".join(generate.CLASS_NAMES) + "\n")

    # Demo images + sidecar through the generator's own CLI path.
    sys.argv = ["generate.py", "--split", "demo", "--count", str(a.count), "--seed", str(a.seed),
                "--png-dir", images_dir]
    generate.main()
    with open(os.path.join(images_dir, "labels.json")) as f:
        labels = json.load(f)["images"]

    tf = transform_for(args)
    ref = {"checkpoint": "fastervit_demo.pth.tar", "classes": list(generate.CLASS_NAMES),
           "preprocessing": {"size": 224, "crop_pct": args.crop_pct, "crop_mode": args.crop_mode,
                             "interpolation": args.interpolation, "mean": list(args.mean),
                             "std": list(args.std), "transform": str(tf).replace("\n", " ")},
           "generator": "tools/demo/export.py", "images": {}}
    correct = 0
    with torch.no_grad():
        for name in sorted(labels):
            img = Image.open(os.path.join(images_dir, name)).convert("RGB")
            logits = model(tf(img).unsqueeze(0))[0]
            top1 = int(logits.argmax())
            correct += top1 == labels[name]["label"]
            ref["images"][name] = {"logits": [float(v) for v in logits], "top1": top1,
                                   "label": labels[name]["label"]}
            print(f"{name}: top1 {generate.CLASS_NAMES[top1]!r} logits {[round(float(v), 3) for v in logits]} "
                  f"label {labels[name]['class']!r}")
    with open(os.path.join(demo, "reference_logits.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    print(f"{correct}/{len(labels)} demo images correct; checkpoint {os.path.getsize(dst) / 1e6:.2f} MB")

    if a.ablate:
        print(json.dumps(ablation(model, a.ablate, a.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
