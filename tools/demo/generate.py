#!/usr/bin/env python3
"""Procedural images for hatscope's embedded demo: "do the two marked shapes share a colour?"

Each 224 x 224 image shows two large *marked* shapes (a white ring with a thin black rim around a
saturated fill) over a cluttered, textured background. The label says whether the two fills have
the same colour. Shape kinds, sizes, positions and the clutter are nuisance variables.

Why this task: at 224 px, FasterViT's stage 3 is a 14 x 14 token map cut into 2 x 2 windows of
7 x 7 tokens, each window covering one 112 x 112 pixel quadrant. The two marked shapes are placed
in DIFFERENT quadrants in 90 % of images (two different windows), so no window can answer alone:
the colour of the other shape has to travel between windows (carrier tokens in stage 3, or global
attention in stage 4). Pooled per-location features plus a linear head cannot solve it either
(a linear function of per-colour counts cannot separate "two of one colour" from "one each").

The clutter contains small saturated items too, so "find the saturated pixels" is not enough: the
model has to find the ringed shapes.

Every image is a pure function of (seed, split, index): the same call always returns the same
pixels, and the train / held-out / demo splits draw from disjoint random streams.

Usage:
  generate.py --split train --count 20000 --out /work/demo-data/train.npz
  generate.py --split val   --count 3000  --out /work/demo-data/val.npz
  generate.py --split demo  --count 12    --png-dir assets/demo/images   # PNGs + labels.json
Needs numpy and Pillow.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SIZE = 224
QUADRANT = SIZE // 2  # one stage-3 window at 224 px input (7 tokens x 16 px)
CLASS_NAMES = ["different colours", "same colour"]

# Fill colours of the marked shapes: six hues far apart, so "same" is unambiguous by eye.
PALETTE = {
    "red": (220, 40, 40),
    "green": (40, 175, 60),
    "blue": (45, 85, 230),
    "yellow": (240, 215, 40),
    "magenta": (205, 50, 200),
    "cyan": (40, 205, 215),
}
PALETTE_NAMES = list(PALETTE)
SHAPES = ["circle", "square", "triangle", "diamond", "hexagon"]
SPLIT_IDS = {"train": 1, "val": 2, "demo": 3, "trial": 4}
SAME_QUADRANT_P = 0.10


def _rng(seed: int, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, SPLIT_IDS[split], index])


def _polygon(kind: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    """Vertices of a regular shape of circumradius r, rotated by `angle` radians."""
    sides = {"square": 4, "triangle": 3, "diamond": 4, "hexagon": 6}[kind]
    base = angle + (math.pi / 4 if kind == "square" else 0.0) - math.pi / 2
    pts = []
    for k in range(sides):
        a = base + 2 * math.pi * k / sides
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    if kind == "diamond":  # squashed square: tall, narrow
        pts = [(cx + (x - cx) * 0.65, y) for (x, y) in pts]
    return pts


def _draw_shape(draw: ImageDraw.ImageDraw, kind: str, cx: float, cy: float, r: float,
                angle: float, fill: tuple[int, int, int]) -> None:
    if kind == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    else:
        draw.polygon(_polygon(kind, cx, cy, r, angle), fill=fill)


def _background(rng: np.random.Generator) -> np.ndarray:
    """Smooth desaturated colour field + oriented stripes + pixel noise, float HxWx3 in 0..255."""
    coarse = rng.uniform(60, 190, size=(6, 6, 3)).astype(np.float32)
    grey = coarse.mean(axis=2, keepdims=True)
    coarse = grey + (coarse - grey) * 0.35  # keep the texture low in saturation
    field = np.asarray(Image.fromarray(coarse.astype(np.uint8)).resize((SIZE, SIZE), Image.BICUBIC),
                       dtype=np.float32)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    theta = rng.uniform(0, math.pi)
    period = rng.uniform(6, 20)
    stripes = np.sin(2 * math.pi * (xx * math.cos(theta) + yy * math.sin(theta)) / period)
    field += (rng.uniform(8, 22) * stripes)[..., None]
    field += rng.normal(0, 6, size=field.shape).astype(np.float32)
    return field


def _clutter(draw: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    """Many small distractors: muted lines, outlines, blobs, plus a few small saturated dots."""
    for _ in range(int(rng.integers(18, 34))):
        c = rng.uniform(40, 220, size=3)
        g = c.mean()
        c = tuple(int(v) for v in g + (c - g) * rng.uniform(0.2, 0.6))
        x, y = rng.uniform(0, SIZE, size=2)
        kind = rng.integers(0, 4)
        if kind == 0:
            a = rng.uniform(0, 2 * math.pi)
            ln = rng.uniform(10, 40)
            draw.line([x, y, x + ln * math.cos(a), y + ln * math.sin(a)], fill=c,
                      width=int(rng.integers(1, 4)))
        elif kind == 1:
            r = rng.uniform(4, 12)
            draw.ellipse([x - r, y - r, x + r, y + r], outline=c, width=2)
        elif kind == 2:
            r = rng.uniform(3, 10)
            draw.rectangle([x - r, y - r, x + r, y + r], fill=c)
        else:
            r = rng.uniform(5, 11)
            draw.polygon(_polygon("triangle", x, y, r, rng.uniform(0, 6.3)), fill=c)
    # Saturated distractors in palette colours, small and unmarked.
    for _ in range(int(rng.integers(2, 7))):
        c = PALETTE[PALETTE_NAMES[int(rng.integers(0, len(PALETTE_NAMES)))]]
        x, y = rng.uniform(0, SIZE, size=2)
        r = rng.uniform(2.5, 6)
        if rng.random() < 0.5:
            draw.ellipse([x - r, y - r, x + r, y + r], fill=c)
        else:
            a = rng.uniform(0, 2 * math.pi)
            draw.line([x, y, x + 4 * r * math.cos(a), y + 4 * r * math.sin(a)], fill=c, width=2)


def _jitter(rng: np.random.Generator, rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    return tuple(int(np.clip(v + rng.integers(-14, 15), 0, 255)) for v in rgb)


def _plan(rng: np.random.Generator, split: str, index: int) -> tuple[int, int, int]:
    """The answer and the two fill colours: the first draws of an image's random stream."""
    label = int(index % 2) if split != "train" else int(rng.integers(0, 2))
    c1 = int(rng.integers(0, len(PALETTE_NAMES)))
    c2 = c1 if label == 1 else int((c1 + rng.integers(1, len(PALETTE_NAMES))) % len(PALETTE_NAMES))
    return label, c1, c2


def colours(seed: int, split: str, index: int) -> tuple[int, int, int]:
    """(label, colour index of shape 1, of shape 2) without drawing the image."""
    return _plan(_rng(seed, split, index), split, index)


def _place(rng: np.random.Generator, c1: int, c2: int) -> list[dict]:
    """Where the two marked shapes go: the draws that follow the background and the clutter."""
    # Quadrants (stage-3 windows) of the two marked shapes.
    q1 = int(rng.integers(0, 4))
    q2 = q1 if rng.random() < SAME_QUADRANT_P else int((q1 + rng.integers(1, 4)) % 4)
    objects = []
    for (q, ci) in ((q1, c1), (q2, c2)):
        kind = SHAPES[int(rng.integers(0, len(SHAPES)))]
        # Two shapes sharing a quadrant are drawn smaller so they fit side by side.
        r = float(rng.uniform(12, 15) if q1 == q2 else rng.uniform(15, 24))
        ring = r + 6
        qx, qy = (q % 2) * QUADRANT, (q // 2) * QUADRANT
        for _ in range(200):  # keep the ringed shape inside its quadrant, apart from the other
            cx = qx + rng.uniform(ring + 2, QUADRANT - ring - 2)
            cy = qy + rng.uniform(ring + 2, QUADRANT - ring - 2)
            if all(math.hypot(cx - o["x"], cy - o["y"]) > ring + o["ring"] + 4 for o in objects):
                break
        angle = float(rng.uniform(0, 2 * math.pi))
        objects.append({"x": float(cx), "y": float(cy), "r": r, "ring": ring, "shape": kind,
                        "colour": PALETTE_NAMES[ci], "window": q, "angle": angle})
    return objects


class _NoDraw:
    """Stands in for ImageDraw when only the random draws matter (marked_shapes)."""
    def line(self, *a, **k): pass
    def ellipse(self, *a, **k): pass
    def rectangle(self, *a, **k): pass
    def polygon(self, *a, **k): pass


def marked_shapes(seed: int, split: str, index: int) -> list[dict]:
    """The two marked shapes of render(seed, split, index) -- centre x, y (pixels), fill radius r,
    ring (circumradius of the ring, everything drawn for the shape lies within it), colour,
    window -- by replaying the image's random stream without drawing it."""
    rng = _rng(seed, split, index)
    _, c1, c2 = _plan(rng, split, index)
    _background(rng)
    _clutter(_NoDraw(), rng)
    return _place(rng, c1, c2)


def render(seed: int, split: str, index: int) -> tuple[np.ndarray, int, dict]:
    """One image (uint8 224x224x3), its label (index into CLASS_NAMES) and a description."""
    rng = _rng(seed, split, index)
    label, c1, c2 = _plan(rng, split, index)

    img = Image.fromarray(np.clip(_background(rng), 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    _clutter(draw, rng)
    objects = _place(rng, c1, c2)
    for o in objects:
        _draw_shape(draw, o["shape"], o["x"], o["y"], o["ring"], o["angle"], (10, 10, 10))
        _draw_shape(draw, o["shape"], o["x"], o["y"], o["ring"] - 1.5, o["angle"], (250, 250, 250))
        fill = _jitter(rng, PALETTE[o["colour"]])
        _draw_shape(draw, o["shape"], o["x"], o["y"], o["r"], o["angle"], fill)

    if rng.random() < 0.3:  # mild blur now and then, so edges are not always crisp
        img = img.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(0.3, 0.8))))
    meta = {"label": label, "class": CLASS_NAMES[label],
            "objects": [{k: (round(v, 1) if isinstance(v, float) else v) for k, v in o.items()
                         if k not in ("ring", "angle")} for o in objects]}
    return np.asarray(img, dtype=np.uint8), label, meta


def _render_range(args: tuple[int, str, int, int]) -> tuple[np.ndarray, np.ndarray]:
    seed, split, start, stop = args
    xs = np.empty((stop - start, SIZE, SIZE, 3), dtype=np.uint8)
    ys = np.empty((stop - start,), dtype=np.int64)
    for i in range(start, stop):
        xs[i - start], ys[i - start], _ = render(seed, split, i)
    return xs, ys


def generate_arrays(seed: int, split: str, count: int, workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """`count` images of a split as (uint8 [N,224,224,3], int64 [N])."""
    chunk = 500
    jobs = [(seed, split, s, min(s + chunk, count)) for s in range(0, count, chunk)]
    if workers > 1:
        from multiprocessing import Pool
        with Pool(workers) as pool:
            parts = pool.map(_render_range, jobs)
    else:
        parts = [_render_range(j) for j in jobs]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", choices=sorted(SPLIT_IDS), required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", help="write images and labels to this .npz (uint8 NHWC + int64)")
    ap.add_argument("--png-dir", help="write PNGs (demo_NN.png) and labels.json to this folder")
    ap.add_argument("--workers", type=int, default=1)
    a = ap.parse_args()
    if not a.out and not a.png_dir:
        ap.error("give --out and/or --png-dir")
    if a.out:
        xs, ys = generate_arrays(a.seed, a.split, a.count, a.workers)
        tmp = a.out + ".tmp.npz"
        np.savez(tmp, images=xs, labels=ys)
        os.replace(tmp, a.out)
        print(f"wrote {a.out}: {xs.shape}, {int(ys.sum())} '{CLASS_NAMES[1]}'", file=sys.stderr)
    if a.png_dir:
        os.makedirs(a.png_dir, exist_ok=True)
        labels = {}
        for i in range(a.count):
            x, y, meta = render(a.seed, a.split, i)
            name = f"demo_{i:02d}.png"
            Image.fromarray(x).save(os.path.join(a.png_dir, name), optimize=True)
            labels[name] = {"label": y, "class": CLASS_NAMES[y], "objects": meta["objects"]}
        doc = {"classes": CLASS_NAMES, "seed": a.seed, "split": a.split,
               "generator": "tools/demo/generate.py", "images": labels}
        with open(os.path.join(a.png_dir, "labels.json"), "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        print(f"wrote {a.count} PNGs and labels.json to {a.png_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
