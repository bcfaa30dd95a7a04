#!/usr/bin/env python3
"""Reference per-head statistics for `hatscope stats`, computed independently from the OFFICIAL
attention probabilities stored in the model parity fixtures (Tests/HatModelTests/Fixtures/
<case>.expected.safetensors, written by gen_model_fixtures.py from fastervit==1.0.0).

Geometry is not re-derived by hand: pixel-centre coordinates are pushed through the official
functions themselves (TokenInitializer's average pooling, ct_dewindow, ct_window, window_partition
of faster_vit_any_res.py), so each carrier token's position is the mean of the token centres it
pooled (= the centre of its pooling box), in exactly the order the official attention sees it,
block after block. Definitions (same as Sources/HatViews/HeadStatistics.swift):
  mean distance  = mean over queries of sum_k p(k) |centre(q) - centre(k)|   (input pixels)
  entropy        = mean over queries of -sum_k p ln p / ln(#keys)
  carrier share  = mean over queries of sum over the window's carrier keys of p
  padding share  = mean over queries of sum over padded keys of p
  window queries = real (unpadded) grid tokens of every window; carrier queries = all carriers.

Writes Tests/StatsReference/<case>.json (and <case>.config.json, the fixture's ModelConfig):
  {"window": {"L/B/H": [distance, entropy, carrierShare|null, paddingShare|null, queries]}, "carrier": {...}}

Usage: HATSCOPE_PYTHON=/work/venv/bin/python $HATSCOPE_PYTHON tools/gen_stats_reference.py
"""
import json
import math
import os
import sys

import numpy as np
import torch
from safetensors import safe_open
from fastervit.models.faster_vit_any_res import TokenInitializer, ct_dewindow, ct_window, window_partition

torch.set_num_threads(1)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "HatModelTests", "Fixtures")
# Outside every test target folder, so SwiftPM does not see them as undeclared resources.
OUT = os.path.join(ROOT, "Tests", "StatsReference")
CASES = ["fixed224_ct2", "anyres_pad", "anyres_4x6", "k21_style", "hat4_ls_noprop", "ct1_ls_prop"]


def head_stats(p, qpos, kpos, carrier_keys, pad_keys):
    """p: [Q, K] probabilities of the chosen query rows; qpos [Q, 2], kpos [K, 2] pixel centres."""
    d = np.sqrt(((qpos[:, None, :] - kpos[None, :, :]) ** 2).sum(-1))            # [Q, K]
    dist = (p * d).sum(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.where(p > 0, p * np.log(p), 0.0).sum(1) / (math.log(p.shape[1]) if p.shape[1] > 1 else 1.0)
    share = p[:, carrier_keys].sum(1) if len(carrier_keys) else np.zeros(len(p))
    pad = p[:, pad_keys].sum(1) if len(pad_keys) else np.zeros(len(p))
    return dist.sum(), ent.sum(), share.sum(), pad.sum(), len(p)


def case_stats(name):
    f = safe_open(os.path.join(FIXTURES, name + ".expected.safetensors"), "np")
    cfg = json.loads(f.metadata()["config"])
    H, W = f.get_tensor("input").shape[2:]
    out = {"window": {}, "carrier": {}}
    for level in (2, 3):
        s = 2 ** (2 + level)
        rh, rw = int(H / s), int(W / s)
        w = cfg["windowSize"][level]
        ph, pw = rh + (w - rh % w) % w, rw + (w - rw % w) % w
        yy, xx = torch.meshgrid(torch.arange(ph), torch.arange(pw), indexing="ij")
        # [1, 3, ph, pw]: x centre, y centre (input pixels), real (1) / padded (0)
        grid = torch.stack([(xx + 0.5) * s, (yy + 0.5) * s, ((yy < rh) & (xx < rw)).double()], 0)[None].double()
        windows = window_partition(grid, w).numpy()                                # [nW, w*w, 3]
        c = cfg["ctSize"]
        sr = [ph // w, pw // w]
        ct = None
        blocks = cfg["depths"][level]
        hier = any(f"levels.{level}.blocks.{b}.hat_attn.probs" in f.keys() for b in range(blocks))
        if hier:
            ti = TokenInitializer(2, [ph, pw], w, c).double()
            ti.to_global_feature.pos = torch.nn.Identity()                          # positions only
            ct = ti(grid[:, :2])                                                    # [1, N, 2] window-grouped
        for b in range(blocks):
            key = f"levels.{level}.blocks.{b}.attn.probs"
            if key not in f.keys():
                continue
            probs = f.get_tensor(key)                                              # [nW, h, T, T]
            cc = probs.shape[-1] - w * w
            slots = None
            if hier:
                ctd = ct_dewindow(ct, c * sr[0], c * sr[1], c)                      # hat_attn order
                hp = f.get_tensor(f"levels.{level}.blocks.{b}.hat_attn.probs")[0]  # [h, N, N]
                pos = ctd[0].numpy()
                for h in range(hp.shape[0]):
                    out["carrier"][f"{level}/{b}/{h}"] = list(head_stats(hp[h], pos, pos, [], []))
                ctw = ct_window(ctd, c * sr[0], c * sr[1], c).reshape(probs.shape[0], -1, 2)  # [nW, cc, 2]
                slots = ctw.numpy()
                ct = ctw.reshape(1, -1, 2)                                          # next block's input
            for g in range(probs.shape[0]):
                tok = windows[g]
                kpos = tok[:, :2] if slots is None else np.concatenate([slots[g], tok[:, :2]], 0)
                real = [cc + i for i in range(w * w) if tok[i, 2] > 0.5]
                pads = [cc + i for i in range(w * w) if tok[i, 2] < 0.5]
                if not real:
                    continue
                for h in range(probs.shape[1]):
                    k = f"{level}/{b}/{h}"
                    r = head_stats(probs[g, h][real], kpos[real], kpos, list(range(cc)), pads)
                    acc = out["window"].setdefault(k, [0.0, 0.0, 0.0, 0.0, 0])
                    for i in range(5):
                        acc[i] += r[i]
    result = {"window": {}, "carrier": {}}
    for kind in ("window", "carrier"):
        for k, (d, e, sh, pd, n) in out[kind].items():
            level = int(k.split("/")[0])
            w = cfg["windowSize"][level]
            s = 2 ** (2 + level)
            padded = (int(H / s) % w != 0) or (int(W / s) % w != 0)
            has_ct = any(kk.startswith(f"{level}/") for kk in out["carrier"])
            result[kind][k] = [float(d / n), float(e / n),
                               float(sh / n) if kind == "window" and has_ct else None,
                               float(pd / n) if kind == "window" and padded else None, int(n)]
    return result


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in CASES:
        r = case_stats(name)
        with open(os.path.join(OUT, name + ".json"), "w") as fh:
            json.dump(r, fh, indent=1, sort_keys=True)
        cfg = safe_open(os.path.join(FIXTURES, name + ".expected.safetensors"), "np").metadata()["config"]
        with open(os.path.join(OUT, name + ".config.json"), "w") as fh:
            fh.write(cfg)
        print(f"{name}: {len(r['window'])} window heads, {len(r['carrier'])} carrier heads")


if __name__ == "__main__":
    sys.exit(main())
