#!/usr/bin/env python3
"""Full-size parity check: official presets with every weight randomised, against `hatscope record`.

    "$HATSCOPE_PYTHON" tools/check_presets.py --hatscope .build/release/hatscope \
        [--work DIR] [--threads 2] [faster_vit_1_224 faster_vit_4_21k_384 ...]

For each preset (default: the seven 224 models; a 21k one runs at the resolution in its name,
and hatscope then keeps only some blocks' window maps, so fewer maps are compared): builds the official model, randomises it the way
the test fixtures are (gen_model_fixtures.randomize: BatchNorm statistics, layer-scale gammas,
position-bias MLPs, every linear and convolution), writes it as safetensors into --work (default:
a temporary folder, removed afterwards), runs the official forward on a seeded input with every
softmax captured, runs `hatscope record` on the same files, and prints the logits' max |diff|
relative to max |logit| and the worst attention-probability difference over every map both
have. Exits 1 if any preset misses the issue's tolerances (1e-4 relative, 1e-4 absolute).
Not a unit test: the largest presets need several GB of memory and disk, and minutes.
Pinned: torch 2.5.1, timm 1.0.31, fastervit 1.0.0.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_model_fixtures as fixtures  # noqa: E402  (randomize, ProbeSoftmax, DERIVED)

PRESETS_224 = [f"faster_vit_{i}_224" for i in range(7)]


def check(name, hatscope, work):
    import fastervit.models.faster_vit as fv
    from safetensors.torch import load_file, save_file

    gen = torch.Generator().manual_seed(1)
    model = getattr(fv, name)().eval()
    fixtures.randomize(model, gen)
    ckpt = os.path.join(work, f"{name}.safetensors")
    state = {k: v.clone().contiguous() for k, v in model.state_dict().items() if not k.endswith(fixtures.DERIVED)}
    save_file(state, ckpt)
    del state
    size = int(name.rsplit("_", 1)[1])   # faster_vit_4_21k_384 takes 384 x 384
    x = torch.randn(1, 3, size, size, generator=gen)
    inp = os.path.join(work, "input.npy")
    np.save(inp, x.numpy())
    with torch.no_grad(), fixtures.ProbeSoftmax(model) as probe:
        logits = model(x)
    probs = probe.probs
    del model
    out = os.path.join(work, f"{name}.recording.safetensors")
    # The 21k presets share every weight shape, so their resolution is named; the others are
    # inferred from the checkpoint, as a user would load them.
    named = ["--model", name] if "21k" in name else []
    run = subprocess.run([hatscope, "record", "--checkpoint", ckpt, "--input", inp, "--out", out] + named,
                         capture_output=True, text=True)
    os.remove(ckpt)
    if run.returncode:
        print(f"{name}: hatscope record failed: {run.stderr.strip()}")
        return False
    rec = load_file(out)
    os.remove(out)
    rel = ((rec["logits"] - logits).abs().max() / logits.abs().max()).item()
    shared = [k for k in probs if k in rec]
    worst = max(((rec[k] - probs[k]).abs().max().item(), k) for k in shared) if shared else (0.0, "-")
    ok = rel <= 1e-4 and worst[0] <= 1e-4 and (len(shared) == len(probs) or "21k" in name)
    print(f"{name}: logits {rel:.2e} x max|logit|, worst attention probability diff {worst[0]:.2e} ({worst[1]}), "
          f"{len(shared)}/{len(probs)} maps compared{'' if ok else '  <-- FAILS'}", flush=True)
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("presets", nargs="*", default=PRESETS_224)
    ap.add_argument("--hatscope", required=True, help="path of the hatscope binary")
    ap.add_argument("--work", help="folder for the temporary checkpoints (default: a new temporary folder)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    work = args.work or tempfile.mkdtemp(prefix="hatscope-presets-")
    os.makedirs(work, exist_ok=True)
    try:
        results = [check(name, os.path.abspath(args.hatscope), work) for name in args.presets]
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
