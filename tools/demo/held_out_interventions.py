#!/usr/bin/env python3
"""Held-out accuracy of the embedded demo model under hatscope's interventions.

Renders the first --count images of the held-out split (`generate.render(seed, "val", i)`, the
images `export.py --ablate` uses), writes them as PNGs to a temporary folder and runs
`hatscope predict --json` on them once per intervention set (the options as a user types them),
counting correct answers and how often the answer is "same colour". Prints one JSON object per
set and a Markdown table (the one in assets/demo/description.md).

Usage:
  $HATSCOPE_PYTHON tools/demo/held_out_interventions.py --hatscope .build/release/hatscope [--count 2000]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402

# (label, options) in the order of the table.
SETS = [
    ("none", []),
    ("--cut-global levels.2 (carriers attend only to themselves)", ["--cut-global", "levels.2"]),
    ("--cut-carriers levels.2 (window tokens read no carriers)", ["--cut-carriers", "levels.2"]),
    ("--no-propagation levels.2 (carriers not added back)", ["--no-propagation", "levels.2"]),
    ("--cut-carriers levels.2 --no-propagation levels.2 (windows get nothing from the carriers)",
     ["--cut-carriers", "levels.2", "--no-propagation", "levels.2"]),
    ("--cut-global levels.2 --no-propagation levels.2",
     ["--cut-global", "levels.2", "--no-propagation", "levels.2"]),
]


def predict(hatscope: str, paths: list[str], options: list[str], chunk: int = 400) -> list[int]:
    """Top-1 class of every path, in order."""
    out: list[int] = []
    for s in range(0, len(paths), chunk):
        args = [hatscope, "predict", "--json", "--top", "1"] + options
        for p in paths[s:s + chunk]:
            args += ["--image", p]
        r = subprocess.run(args, capture_output=True, text=True, check=True)
        out += [res["top"][0]["index"] for res in json.loads(r.stdout)["results"]]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hatscope", required=True, help="the hatscope binary")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=2026)
    a = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="hatscope-heldout-") as d:
        paths, labels = [], []
        for i in range(a.count):
            x, y, _ = generate.render(a.seed, "val", i)
            p = os.path.join(d, f"val_{i:05d}.png")
            Image.fromarray(x).save(p)
            paths.append(p)
            labels.append(int(y))
        same = generate.CLASS_NAMES.index("same colour")
        rows = []
        for label, options in SETS:
            top = predict(a.hatscope, paths, options)
            correct = sum(int(t == y) for t, y in zip(top, labels))
            said_same = sum(int(t == same) for t in top)
            row = {"interventions": label, "options": options, "images": a.count,
                   "accuracy": correct / a.count, "answered_same_colour": said_same / a.count}
            print(json.dumps(row), flush=True)
            rows.append(row)
    print()
    print(f"| interventions (hatscope, {a.count} held-out images) | accuracy | answers \"same colour\" |")
    print("|---|---|---|")
    for r in rows:
        print(f"| {r['interventions']} | {100 * r['accuracy']:.2f} % | {100 * r['answered_same_colour']:.2f} % |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
