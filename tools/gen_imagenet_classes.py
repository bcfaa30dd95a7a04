#!/usr/bin/env python3
"""Write assets/imagenet_classes.txt: the 1000 ImageNet-1k class names in class-index order.

Source (offline): timm's bundled tables (timm is Apache-2.0):
  timm/data/_info/imagenet_synsets.txt          1000 WordNet ids, in the index order every
                                                 ImageNet-1k classifier (and FasterViT) uses
  timm/data/_info/imagenet_synset_to_lemma.txt  WordNet id <TAB> "name, synonym, ..."
Each output line is the lemma text for that index, e.g. line 1 = "tench, Tinca tinca".
hatscope shows the first comma-separated name; the rest are kept for disambiguation.

Usage: $HATSCOPE_PYTHON tools/gen_imagenet_classes.py [--out assets/imagenet_classes.txt]
Needs timm installed (the venv of tools/README.md).
"""
import argparse
import os
import sys

import timm


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(here, "..", "assets", "imagenet_classes.txt"))
    a = ap.parse_args()
    info = os.path.join(os.path.dirname(timm.__file__), "data", "_info")
    with open(os.path.join(info, "imagenet_synsets.txt")) as f:
        synsets = [line.strip() for line in f if line.strip()]
    lemmas = {}
    with open(os.path.join(info, "imagenet_synset_to_lemma.txt")) as f:
        for line in f:
            wnid, _, lemma = line.rstrip("\n").partition("\t")
            lemmas[wnid] = lemma.strip()
    if len(synsets) != 1000:
        print(f"expected 1000 synsets, found {len(synsets)}", file=sys.stderr)
        return 1
    missing = [s for s in synsets if not lemmas.get(s)]
    if missing:
        print(f"no lemma for {missing[:5]}", file=sys.stderr)
        return 1
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        for s in synsets:
            f.write(lemmas[s].replace("\n", " ") + "\n")
    os.replace(tmp, a.out)
    print(f"wrote {a.out} (timm {timm.__version__})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
