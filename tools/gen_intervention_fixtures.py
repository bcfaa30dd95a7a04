#!/usr/bin/env python3
"""Intervention and batch fixtures for the Swift engine (Tests/HatModelTests/Fixtures/iv_*).

    "${HATSCOPE_PYTHON:-python3}" tools/gen_intervention_fixtures.py [--out Tests/HatModelTests/Fixtures]

For each case it builds a SMALL official model with every learned tensor randomised
(gen_model_fixtures.build / randomize), and runs ONE batch of distinct random images through it in
which image i gets its own list of interventions (image 0 none: plain parity at batch N). The
interventions are applied to the official modules at run time, never by editing the package:

  --occlude MASK / --occlude-box S:R0-R1,C0-C1
        the image's input pixels are set to 0 before the forward (box: stage S's token rows/cols,
        2^(S+1) pixels per token)
  --ablate-head levels.L.blocks.B.attn:H (.hat_attn:H)
        forward pre-hook on that module's `proj`: columns H*d..(H+1)*d of its input (head H's
        softmax(QK^T + bias) V) are zero for the image's rows
  --cut-carriers levels.L[.blocks.B]
        forward hook on `attn.pos_emb_funct` (its output is QK^T*scale + bias, the logits): rows of
        window tokens, columns of carrier tokens set to -inf for the image's windows
  --cut-global levels.L[.blocks.B]
        forward hook on `hat_attn.pos_emb_funct`: off-diagonal logits -inf for the image
  --no-propagation levels.L
        forward hook on the last block's `upsampler` (nearest upsampling of the carriers, only
        called to propagate): its output is zero for the image's windows, so x + gamma1 * 0 = x

Writes <case>.weights.safetensors (learned tensors, float16-exact like gen_model_fixtures) and
<case>.expected.safetensors: input [N,3,H,W] (before occlusion, F16), logits [N,classes], every
softmax output of the batch (levels.I.blocks.J.attn.probs [N*windows,heads,T,T],
.hat_attn.probs [N,heads,C,C]), occlusion masks as mask.<i> [H,W] (1 = occluded; a mask made
from an image also stores that image as mask_image.<i> [h,w,3] uint8); metadata
"config" (hatscope ModelConfig JSON) and "interventions" (JSON: per image, a list of
[option, value] in the CLI spelling; a mask's value is the name of its tensor).
Pinned: torch 2.5.1, timm 1.0.31, fastervit 1.0.0.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_model_fixtures as fx  # noqa: E402  (build, randomize, ProbeSoftmax, swift_config, DERIVED)

# name, module, config, per-image intervention lists ([option, value]; "mask:<kind>" makes a mask)
CASES = [
    # faster_vit.py (fixed resolution) at 224, the real faster_vit_0 geometry: level 2 is 14x14 in
    # 2x2 windows of 7 (4x4 carrier grid), level 3 one 7x7 window (no carriers). Propagation and
    # layer scale on.
    ("iv_fixed224", "fixed", dict(dim=8, in_dim=4, depths=[1, 1, 2, 2], heads=[1, 1, 2, 4], window=[7, 7, 7, 7],
                                  ct=2, ls=1e-5, ls_conv=None, hat=[False, False, True, False], prop=True, res=[224, 224]),
     [[],
      [["occlude-box", "3:2-5,4-9"]],
      [["occlude-box", "1:10-30,0-55"]],
      [["ablate-head", "levels.2.blocks.0.attn:1"]],
      [["ablate-head", "levels.2.blocks.1.hat_attn:0"]],
      [["cut-carriers", "levels.2"]],
      [["cut-carriers", "levels.2.blocks.1"]],
      [["cut-global", "levels.2.blocks.0"]],
      [["cut-global", "levels.2"]],
      [["no-propagation", "levels.2"]],
      [["ablate-head", "levels.3.blocks.1.attn:0"], ["ablate-head", "levels.3.blocks.1.attn:2"]],
      [["occlude", "mask:disc"]],
      [["cut-global", "levels.2"], ["cut-carriers", "levels.2.blocks.1"], ["ablate-head", "levels.3.blocks.0.attn:3"],
       ["no-propagation", "levels.2"], ["occlude-box", "4:0-1,0-6"], ["ablate-head", "levels.2.blocks.0.hat_attn:1"]]]),
    # any-res, hierarchical attention in both stages with propagation, square: 256 -> level 2 16x16
    # in 4x4 windows of 4 (8x8 carriers), level 3 8x8 in 2x2 windows (4x4 carriers).
    ("iv_square_prop", "anyres", dict(dim=8, in_dim=4, depths=[1, 1, 2, 2], heads=[1, 1, 2, 2], window=[7, 7, 4, 4],
                                      ct=2, ls=None, ls_conv=None, hat=[False, False, True, True], prop=True, res=[256, 256]),
     [[],
      [["cut-carriers", "levels.3"]],
      [["cut-global", "levels.3.blocks.1"]],
      [["no-propagation", "levels.3"]],
      [["no-propagation", "levels.2"], ["no-propagation", "levels.3"]],
      [["ablate-head", "levels.3.blocks.0.hat_attn:1"], ["cut-carriers", "levels.2.blocks.0"]]]),
    # any-res, non-square: 128x192 -> level 2 8x12 in 2x3 windows (4x6 carriers: no hat_pos_embed,
    # swapped carrier order), level 3 4x6 padded to 4x8 (1x2 windows, 2x4 carriers); propagation.
    ("iv_nonsquare", "anyres", dict(dim=8, in_dim=4, depths=[1, 1, 2, 2], heads=[1, 1, 2, 2], window=[7, 7, 4, 4],
                                    ct=2, ls=1e-5, ls_conv=None, hat=[False, False, True, True], prop=True, res=[128, 192]),
     [[],
      [["cut-carriers", "levels.2.blocks.0"]],
      [["cut-global", "levels.3"]],
      [["no-propagation", "levels.2"]],
      [["ablate-head", "levels.2.blocks.1.hat_attn:1"]],
      [["occlude-box", "3:0-3,6-11"], ["cut-global", "levels.2.blocks.1"], ["no-propagation", "levels.3"],
       ["ablate-head", "levels.3.blocks.0.attn:0"], ["cut-carriers", "levels.3"]],
      [["occlude", "mask:stripes"]]]),
    # any-res, ct_size 1, padding in both stages: 160x224 -> level 2 10x14 padded to 12x16 (3x4
    # windows of 4, one carrier each: 3x4 carriers, no hat_pos_embed), level 3 5x7 padded to 8x8
    # (2x2 windows, 2x2 carriers); propagation and layer scale. The mask is a 37x53 RGB image
    # resized to the input by F.interpolate(mode="nearest") (the --occlude rule).
    ("iv_pad_ct1", "anyres", dict(dim=8, in_dim=4, depths=[1, 1, 2, 2], heads=[1, 1, 2, 2], window=[7, 7, 4, 4],
                                  ct=1, ls=1e-5, ls_conv=None, hat=[False, False, True, True], prop=True, res=[160, 224]),
     [[],
      [["cut-carriers", "levels.2"]],
      [["cut-global", "levels.3"]],
      [["no-propagation", "levels.2"], ["no-propagation", "levels.3"]],
      [["ablate-head", "levels.2.blocks.1.hat_attn:1"], ["ablate-head", "levels.2.blocks.1.hat_attn:1"]],
      [["occlude-box", "3:9-9,10-13"], ["occlude-box", "4:4-4,6-6"], ["cut-carriers", "levels.3.blocks.1"]],
      [["occlude", "mask:image37x53"], ["cut-global", "levels.2.blocks.0"], ["ablate-head", "levels.3.blocks.0.attn:1"]]]),
]


def carriers_matter(model, gen):
    """Window attention's position bias (16 sigmoid(mlp), 0 for carrier keys) mostly between 0 and
    2 instead of up to 16, so window tokens give their carriers a real share of attention and a
    carrier cut moves the logits (with the fixtures' generic randomisation the carriers get ~1e-4
    of it and a cut would hardly show). Values stay float16-exact."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("attn.pos_emb_funct.cpb_mlp.2.weight") and ".hat_attn." not in name:
                p.copy_((-p.abs() * 4 - 0.5 * torch.rand(p.shape, generator=gen)).half().float())


def make_mask(kind, h, w, gen=None):
    """[h, w] bool; for "image37x53" also the RGB uint8 image [37, 53, 3] it is resized from."""
    if kind == "image37x53":
        rgb = (torch.rand(37, 53, 3, generator=gen) * 255).to(torch.uint8)
        rgb[5:20, 10:40] = 255
        rgb[22:30, 3:9] = torch.tensor([255, 127, 255], dtype=torch.uint8)   # not white: green < 128
        white = (rgb >= 128).all(-1).float()[None, None]
        return torch.nn.functional.interpolate(white, size=(h, w), mode="nearest")[0, 0].bool(), rgb
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    if kind == "disc":
        return ((yy - h * 0.4) ** 2 + (xx - w * 0.6) ** 2 < (min(h, w) * 0.2) ** 2)
    if kind == "stripes":
        return ((xx // 9) % 3 == 0) & (yy > h // 3)
    raise ValueError(kind)


def parse_path(value):
    """levels.L[.blocks.B][.module] -> (L, B or None, module or None)."""
    parts = value.split(".")
    level = int(parts[1])
    block = int(parts[3]) if len(parts) >= 4 else None
    module = parts[4] if len(parts) == 5 else None
    return level, block, module


class Interventions:
    """Hooks on the official modules that apply each image's interventions inside one batch."""

    def __init__(self, model, lists, images):
        self.handles = []
        self.images = images
        blocks = {}
        for name, m in model.named_modules():
            p = name.split(".")
            if len(p) == 4 and p[0] == "levels" and p[2] == "blocks" and hasattr(m, "attn"):
                blocks[(int(p[1]), int(p[3]))] = m
        self.blocks = blocks
        # (level, block) -> {"ablate_attn": {image: [heads]}, "ablate_hat": ..., "cut": set(images), "global": set()}
        edits = {}
        prop_off = {}

        def at(level, block):
            targets = [block] if block is not None else sorted(b for (l, b) in blocks if l == level)
            return [edits.setdefault((level, b), {"attn": {}, "hat_attn": {}, "cut": set(), "global": set()}) for b in targets]

        for image, items in enumerate(lists):
            for option, value in items:
                if option == "ablate-head":
                    path, head = value.split(":")
                    level, block, module = parse_path(path)
                    at(level, block)[0][module].setdefault(image, []).append(int(head))
                elif option == "cut-carriers":
                    level, block, _ = parse_path(value)
                    for e in at(level, block):
                        e["cut"].add(image)
                elif option == "cut-global":
                    level, block, _ = parse_path(value)
                    for e in at(level, block):
                        e["global"].add(image)
                elif option == "no-propagation":
                    level, _, _ = parse_path(value)
                    prop_off.setdefault(level, set()).add(image)
        for (level, block), e in edits.items():
            blk = blocks[(level, block)]
            if e["attn"]:
                self.handles.append(blk.attn.proj.register_forward_pre_hook(self._ablate(e["attn"], blk.attn.num_heads)))
            if e["hat_attn"]:
                self.handles.append(blk.hat_attn.proj.register_forward_pre_hook(self._ablate(e["hat_attn"], blk.hat_attn.num_heads)))
            if e["cut"]:
                lead = blk.cr_window ** 2
                self.handles.append(blk.attn.pos_emb_funct.register_forward_hook(self._cut(e["cut"], lead)))
            if e["global"]:
                self.handles.append(blk.hat_attn.pos_emb_funct.register_forward_hook(self._diagonal(e["global"])))
        for level, imgs in prop_off.items():
            last = max(b for (l, b) in blocks if l == level)
            self.handles.append(blocks[(level, last)].upsampler.register_forward_hook(self._zero(imgs)))

    def _rows(self, total, image):
        per = total // self.images   # windows (or carrier groups) per image, image-major
        return slice(image * per, (image + 1) * per)

    def _ablate(self, per_image, heads):
        def hook(module, args):
            x = args[0].clone()                    # [B', T, C], B' = images * groups
            d = x.shape[-1] // heads
            for image, hs in per_image.items():
                for h in hs:
                    x[self._rows(x.shape[0], image), :, h * d:(h + 1) * d] = 0
            return (x,)
        return hook

    def _cut(self, images, lead):
        def hook(module, args, out):
            out = out.clone()                      # [B', heads, T, T] logits
            for image in images:
                out[self._rows(out.shape[0], image), :, lead:, :lead] = float("-inf")
            return out
        return hook

    def _diagonal(self, images):
        def hook(module, args, out):
            out = out.clone()                      # [images, heads, N, N] logits
            n = out.shape[-1]
            off = ~torch.eye(n, dtype=torch.bool)
            for image in images:
                sl = out[self._rows(out.shape[0], image)]
                sl[:, :, off] = float("-inf")
                out[self._rows(out.shape[0], image)] = sl
            return out
        return hook

    def _zero(self, images):
        def hook(module, args, out):
            out = out.clone()                      # [B', C, w, w] upsampled carriers
            for image in images:
                out[self._rows(out.shape[0], image)] = 0
            return out
        return hook

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for h in self.handles:
            h.remove()


def occlude(x, lists, masks):
    """The batch with each image's occlusions applied (pixels set to 0, every channel)."""
    x = x.clone()
    for image, items in enumerate(lists):
        for option, value in items:
            if option == "occlude-box":
                stage, spans = value.split(":")
                rows, cols = spans.split(",")
                r0, r1 = (int(v) for v in rows.split("-"))
                c0, c1 = (int(v) for v in cols.split("-"))
                s = 2 ** (int(stage) + 1)
                x[image, :, r0 * s:(r1 + 1) * s, c0 * s:(c1 + 1) * s] = 0
            elif option == "occlude":
                x[image, :, masks[value]] = 0
    return x


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "Tests", "HatModelTests", "Fixtures"))
    args = ap.parse_args()
    fx.check_versions()
    from safetensors.torch import save_file
    torch.set_num_threads(2)
    for index, (name, module, cfg, lists) in enumerate(CASES):
        gen = torch.Generator().manual_seed(7000 + index)
        model = fx.build(module, cfg)
        fx.randomize(model, gen)
        carriers_matter(model, gen)
        n = len(lists)
        h, w = cfg["res"]
        x = torch.randn(n, 3, h, w, generator=gen).half().float()
        masks, sources, stored = {}, {}, []
        for image, items in enumerate(lists):
            for k, (option, value) in enumerate(items):
                if option == "occlude":
                    tensor = f"mask.{image}"
                    made = make_mask(value.split(":")[1], h, w, gen)
                    if isinstance(made, tuple):
                        masks[tensor], sources[f"mask_image.{image}"] = made
                    else:
                        masks[tensor] = made
                    items[k] = [option, tensor]
            stored.append(items)
        with torch.no_grad(), Interventions(model, lists, n), fx.ProbeSoftmax(model) as probe:
            logits = model(occlude(x, lists, masks))
        # Image 0 has no intervention: alone it must give the same logits (the hooks touch only
        # their own images), and the whole batch with no hooks differs where interventions act.
        with torch.no_grad():
            plain = model(x)
            alone = model(x[:1])
        assert (plain[0] - logits[0]).abs().max() <= 1e-5 * plain.abs().max(), "image 0 changed"
        assert (alone[0] - logits[0]).abs().max() <= 1e-5 * plain.abs().max(), "batch != single"
        moved = [(logits[i] - plain[i]).abs().max().item() for i in range(n)]
        print(f"{name}: batch of {n}, |logit change| per image: " + ", ".join(f"{m:.3g}" for m in moved))
        assert all(m > 0 for m in moved[1:]), "an intervention changed nothing"
        weights = {k: v.half().contiguous() for k, v in model.state_dict().items() if not k.endswith(fx.DERIVED)}
        expected = {"input": x.half().contiguous(), "logits": logits.contiguous()}
        expected.update({k: v.contiguous() for k, v in probe.probs.items()})
        expected.update({k: v.to(torch.uint8).contiguous() for k, v in masks.items()})
        expected.update({k: v.contiguous() for k, v in sources.items()})
        save_file(weights, os.path.join(args.out, f"{name}.weights.safetensors"))
        save_file(expected, os.path.join(args.out, f"{name}.expected.safetensors"),
                  metadata={"config": json.dumps(fx.swift_config(name, cfg)), "interventions": json.dumps(stored),
                            "generator": "tools/gen_intervention_fixtures.py", "module": module})


if __name__ == "__main__":
    main()
