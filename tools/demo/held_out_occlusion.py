#!/usr/bin/env python3
"""Held-out answers of the embedded demo model with part of the image covered (PyTorch).

The table "Covering part of the image" in assets/demo/description.md. The first --count images of
the held-out split (`generate.render(seed, "val", i)`, the images `export.py --ablate` and
`held_out_interventions.py` use) go through the official model (the shipped checkpoint) with
stage-3 cells (16 x 16 px) set to 0 after normalisation, as `hatscope predict --occlude-box 3:...`
does:

  nothing                      the plain images
  one shape's ring box         the cells under marked shape 1 / 2's ring (train.py's boxes)
  one shape's whole window     the 7 x 7-cell window holding shape 1 / 2 (generate.py's window),
                               on the images whose two shapes are in different windows
  a window holding neither     the first window (0-3, row-major) holding neither shape's centre

For each: accuracy against the true label and the share answered "same colour" (for the last row
also on the same-colour images alone). With a shape covered the right answer is "different
colours", so that accuracy is not a measure of the model and the table leaves it empty.

Usage:
  $HATSCOPE_PYTHON tools/demo/held_out_occlusion.py [--count 2000] [--threads 2]
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export  # noqa: E402  (same folder: load_model)
import generate  # noqa: E402
import train  # noqa: E402  (shape_boxes, box_mask, to_input, occlude: the training-time covering)

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SAME = generate.CLASS_NAMES.index("same colour")


def window_mask(w: int) -> np.ndarray:
    """bool [14,14]: the cells of stage-3 window w (0-3, row-major: 0 top left, 3 bottom right)."""
    r0, c0 = 7 * (w // 2), 7 * (w % 2)
    return train.box_mask(np.array([r0, r0 + 6, c0, c0 + 6]))


@torch.no_grad()
def answers(model: torch.nn.Module, x: torch.Tensor, masks: np.ndarray | None, batch: int = 100) -> np.ndarray:
    """Top-1 class of every image of x [N,3,224,224] with masks (bool [N,14,14]) covered."""
    out = []
    for s in range(0, len(x), batch):
        xb = x[s:s + batch]
        if masks is not None:
            xb = train.occlude(xb, masks[s:s + batch])
        out.append(model(xb).argmax(1).numpy())
    return np.concatenate(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", default=os.path.join(REPO, "assets", "demo", "fastervit_demo.pth.tar"))
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)

    model, _ = export.load_model(a.checkpoint)
    n = a.count
    xs = np.empty((n, 224, 224, 3), dtype=np.uint8)
    ys = np.empty((n,), dtype=np.int64)
    for i in range(n):
        xs[i], ys[i], _ = generate.render(a.seed, "val", i)
    x = train.to_input(xs)
    boxes, _ = train.shape_boxes(a.seed, "val", n)                       # int [N, 2, 4]
    windows = np.array([[o["window"] for o in generate.marked_shapes(a.seed, "val", i)] for i in range(n)])

    rows = []

    def row(label: str, top: np.ndarray, sel: np.ndarray | None = None) -> None:
        sel = np.ones(n, dtype=bool) if sel is None else sel
        acc = float(np.mean(top[sel] == ys[sel]))
        same = float(np.mean(top[sel] == SAME))
        rows.append((label, int(sel.sum()), acc, same))
        print(f"{label}: {int(sel.sum())} images, accuracy {100 * acc:.2f} %, answers 'same colour' {100 * same:.2f} %",
              flush=True)

    row("nothing", answers(model, x, None))
    for j in (0, 1):
        row(f"shape {j + 1}'s ring box", answers(model, x, np.stack([train.box_mask(b[j]) for b in boxes])))
    apart = windows[:, 0] != windows[:, 1]
    for j in (0, 1):
        row(f"shape {j + 1}'s whole window (shapes in different windows)",
            answers(model, x, np.stack([window_mask(w[j]) for w in windows])), apart)
    neither = np.array([next(w for w in range(4) if w not in set(ws)) for ws in windows])
    top = answers(model, x, np.stack([window_mask(w) for w in neither]))
    row("a window holding neither shape", top)
    row("a window holding neither shape, same-colour images only", top, ys == SAME)

    print()
    print(f"| covered ({n} held-out images) | images | accuracy | answers \"same colour\" |")
    print("|---|---|---|---|")
    for label, k, acc, same in rows:
        print(f"| {label} | {k} | {100 * acc:.2f} % | {100 * same:.2f} % |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
