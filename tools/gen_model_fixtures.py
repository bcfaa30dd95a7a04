#!/usr/bin/env python3
"""Parity fixtures for the Swift FasterViT engine (Tests/HatModelTests/Fixtures/).

Run with the pinned environment (torch 2.5.1, timm 1.0.31, fastervit 1.0.0, safetensors):

    "${HATSCOPE_PYTHON:-python3}" tools/gen_model_fixtures.py [--out Tests/HatModelTests/Fixtures]

For each case it builds a SMALL official model (faster_vit.py for the fixed-resolution case,
faster_vit_any_res.py otherwise), randomizes every learned tensor (BatchNorm statistics, layer-scale
gammas, position MLPs, attention projections, ...: default initialization leaves them nearly inert
and would hide bugs), runs one random input, and writes

    <case>.weights.safetensors   learned tensors under official state_dict names (derived buffers
                                 relative_* and num_batches_tracked left out), float16: the values
                                 are rounded to float16 before the run, so the files are exact
    <case>.expected.safetensors  input [1,3,H,W] (float16-exact, stored as F16), logits [1,classes]
                                 and every softmax output (float32) as
                                 levels.I.blocks.J.attn.probs [windows,heads,T,T] /
                                 levels.I.blocks.J.hat_attn.probs [1,heads,N,N];
                                 metadata "config" = the case as hatscope's ModelConfig JSON.
    preset_keys.json             for each of the 11 official presets (built on the meta device, no
                                 memory): number of learned keys and the SHA-256 of the sorted lines
                                 "key:d0,d1,..." (what FasterViT.parameterShapes must list).

The attention probabilities are captured from the official modules themselves: a forward pre-hook
marks which attention module is running and a temporary wrapper around torch.Tensor.softmax stores
its output under that module's name.
"""
import argparse
import json
import os
import sys

import torch

PINNED = {"torch": "2.5.1", "timm": "1.0.31", "fastervit": "1.0.0"}


def check_versions():
    import importlib.metadata as md
    for pkg, want in PINNED.items():
        have = md.version(pkg)
        if not have.startswith(want):
            sys.exit(f"gen_model_fixtures: {pkg} {have} installed, fixtures are pinned to {want}")


# name, module ("fixed" = faster_vit.py, "anyres" = faster_vit_any_res.py), config, input [H, W]
CASES = [
    # Native 224 layout (windows 7, ct 2, hat on level 2 only), checked against faster_vit.py and,
    # inside this script, against faster_vit_any_res.py on the same weights (they must agree).
    ("fixed224_ct2", "fixed", dict(dim=4, in_dim=4, depths=[1, 1, 2, 1], heads=[1, 1, 2, 2], window=[7, 7, 7, 7],
                                   ct=2, ls=None, ls_conv=None, hat=[False, False, True, False], prop=False, res=[224, 224])),
    # ct_size 1, layer scale with propagation, conv layer scale, resolution 128.
    ("ct1_ls_prop", "anyres", dict(dim=4, in_dim=4, depths=[1, 1, 2, 1], heads=[1, 1, 2, 2], window=[7, 7, 4, 4],
                                   ct=1, ls=1e-5, ls_conv=1e-5, hat=[False, False, True, False], prop=True, res=[128, 128])),
    # ct_size 2, hat on level 3 too (no downsample after it), layer scale without propagation, 256.
    ("hat4_ls_noprop", "anyres", dict(dim=4, in_dim=4, depths=[1, 1, 2, 2], heads=[1, 1, 2, 2], window=[7, 7, 4, 4],
                                      ct=2, ls=1e-5, ls_conv=None, hat=[False, False, True, True], prop=False, res=[256, 256])),
    # 21k-style: every window covers its whole stage, no carrier tokens; layer scale + propagation flag.
    ("k21_style", "anyres", dict(dim=4, in_dim=4, depths=[1, 1, 2, 1], heads=[1, 1, 2, 2], window=[7, 7, 8, 4],
                                 ct=2, ls=1e-5, ls_conv=None, hat=[False, False, False, False], prop=True, res=[128, 128])),
    # Non-square any-res: level 2 is 8x12 tokens in 2x3 windows (4x6 carrier grid, not square), level 3
    # 4x6 padded to 4x8 (1x2 windows, 2x4 carriers, bias side int(sqrt(8)) = 2); propagation on.
    ("anyres_4x6", "anyres", dict(dim=4, in_dim=4, depths=[1, 1, 2, 2], heads=[1, 1, 2, 2], window=[7, 7, 4, 4],
                                  ct=2, ls=1e-5, ls_conv=None, hat=[False, False, True, True], prop=True, res=[128, 192])),
    # Padding: level 2 is 10x10 padded to 12x12 (3x3 windows, ct 1), level 3 5x5 padded to 8x8.
    ("anyres_pad", "anyres", dict(dim=4, in_dim=4, depths=[1, 1, 2, 1], heads=[1, 1, 2, 2], window=[7, 7, 4, 4],
                                  ct=1, ls=None, ls_conv=None, hat=[False, False, True, False], prop=True, res=[160, 160])),
]

NUM_CLASSES = 10

# The same weights run at another input size: (fixture name, weights of case, input [H, W]).
# At 64x64 the level-2 map (4x4) is one window: the official any-res model built for 64x64 has no
# carrier-token parts and loads the checkpoint non-strictly (carrier weights unused).
OTHER_INPUTS = [("ct1_ls_prop_at64", "ct1_ls_prop", [64, 64])]


def build(module, cfg):
    if module == "fixed":
        from fastervit.models.faster_vit import FasterViT
        res = cfg["res"][0]
    else:
        from fastervit.models.faster_vit_any_res import FasterViT
        res = list(cfg["res"])
    return FasterViT(dim=cfg["dim"], in_dim=cfg["in_dim"], depths=cfg["depths"], window_size=cfg["window"],
                     ct_size=cfg["ct"], mlp_ratio=4, num_heads=cfg["heads"], resolution=res,
                     drop_path_rate=0.0, num_classes=NUM_CLASSES, layer_scale=cfg["ls"],
                     layer_scale_conv=cfg["ls_conv"], hat=cfg["hat"], do_propagation=cfg["prop"]).eval()


DERIVED = ("relative_position_index", "relative_coords_table", "relative_bias", "num_batches_tracked")


def randomize(model, gen):
    """Every learned tensor gets values that make it matter."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if leaf.startswith("gamma"):
                p.copy_(torch.empty_like(p).uniform_(0.3, 1.2, generator=gen) * torch.sign(torch.randn(p.shape, generator=gen)))
            elif p.dim() == 1 and ("norm" in name or name.startswith("patch_embed.conv_down.1") or name.startswith("patch_embed.conv_down.4")):
                if leaf == "weight":
                    p.copy_(1 + 0.3 * torch.randn(p.shape, generator=gen))
                else:
                    p.copy_(0.2 * torch.randn(p.shape, generator=gen))
            elif p.dim() == 1:  # biases of linear / conv layers
                p.copy_(0.2 * torch.randn(p.shape, generator=gen))
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) / fan_in ** 0.5)
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.3 * torch.randn(b.shape, generator=gen))
            elif name.endswith("running_var"):
                b.copy_(torch.empty_like(b).uniform_(0.5, 2.0, generator=gen))
        # Round every learned value to float16 so the fixtures can store them in half the space
        # while the model runs (in float32) on exactly the stored values.
        # Derived buffers (relative_coords_table, ...) keep their exact float32 values.
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if t.is_floating_point() and not name.endswith(DERIVED):
                t.copy_(t.half().float())


class ProbeSoftmax:
    """Stores the softmax output of each attention module under `<module path>.probs`."""

    def __init__(self, model):
        self.current = None
        self.probs = {}
        self.handles = []
        for name, m in model.named_modules():
            if type(m).__name__ == "WindowAttention":
                self.handles.append(m.register_forward_pre_hook(self._enter(name)))
                self.handles.append(m.register_forward_hook(self._leave))

    def _enter(self, name):
        def hook(module, args):
            self.current = name
        return hook

    def _leave(self, module, args, out):
        self.current = None

    def __enter__(self):
        self.original = torch.Tensor.softmax
        probe = self

        def softmax(t, *a, **k):
            y = probe.original(t, *a, **k)
            if probe.current is not None:
                probe.probs[probe.current + ".probs"] = y.detach().clone()
            return y
        torch.Tensor.softmax = softmax
        return self

    def __exit__(self, *exc):
        torch.Tensor.softmax = self.original
        for h in self.handles:
            h.remove()


def swift_config(name, cfg):
    return {
        "name": name, "dim": cfg["dim"], "inDim": cfg["in_dim"], "depths": cfg["depths"], "heads": cfg["heads"],
        "windowSize": cfg["window"], "ctSize": cfg["ct"], "mlpRatio": 4.0, "layerScale": cfg["ls"],
        "layerScaleConv": cfg["ls_conv"], "hat": cfg["hat"], "doPropagation": cfg["prop"],
        "numClasses": NUM_CLASSES, "resolution": cfg["res"], "cropPct": 1.0, "cropMode": "center",
    }


def preset_key_digests():
    import hashlib
    import fastervit.models.faster_vit as fv
    names = ["faster_vit_%d_224" % i for i in range(7)] + ["faster_vit_4_21k_%d" % r for r in (224, 384, 512, 768)]
    out = {}
    linspace = torch.linspace
    # The builders call .item() on a linspace (drop-path rates): keep just that on the CPU.
    torch.linspace = lambda *a, **k: linspace(*a, **{**k, "device": "cpu"})
    try:
        models = {}
        for name in names:
            with torch.device("meta"):
                models[name] = getattr(fv, name)()
    finally:
        torch.linspace = linspace
    for name in names:
        model = models[name]
        lines = sorted(f"{k}:{','.join(str(d) for d in v.shape)}" for k, v in model.state_dict().items()
                       if not k.endswith(DERIVED))
        out[name] = {"count": len(lines), "sha256": hashlib.sha256("\n".join(lines).encode()).hexdigest()}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "Tests", "HatModelTests", "Fixtures"))
    args = ap.parse_args()
    check_versions()
    from safetensors.torch import save_file
    torch.set_num_threads(2)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "preset_keys.json"), "w") as f:
        json.dump(preset_key_digests(), f, indent=1, sort_keys=True)
    for index, (name, module, cfg) in enumerate(CASES):
        gen = torch.Generator().manual_seed(1000 + index)
        model = build(module, cfg)
        randomize(model, gen)
        x = torch.randn(1, 3, *cfg["res"], generator=gen).half().float()  # exactly representable in fp16
        with torch.no_grad(), ProbeSoftmax(model) as probe:
            logits = model(x)
        if module == "fixed":
            # The any-res file must compute the same thing at the native resolution.
            other = build("anyres", cfg)
            other.load_state_dict(model.state_dict())
            with torch.no_grad():
                diff = (other(x) - logits).abs().max().item()
            print(f"{name}: faster_vit.py vs faster_vit_any_res.py at native resolution: max|diff| {diff:.3g}")
            assert diff <= 1e-5 * logits.abs().max().item(), "fixed and any-res disagree"
        weights = {k: v.half().contiguous() for k, v in model.state_dict().items() if not k.endswith(DERIVED)}
        expected = {"input": x.half().contiguous(), "logits": logits.contiguous()}
        expected.update({k: v.contiguous() for k, v in probe.probs.items()})
        save_file(weights, os.path.join(args.out, f"{name}.weights.safetensors"))
        save_file(expected, os.path.join(args.out, f"{name}.expected.safetensors"),
                  metadata={"config": json.dumps(swift_config(name, cfg)),
                            "generator": "tools/gen_model_fixtures.py", "module": module})
        shapes = {k: list(v.shape) for k, v in probe.probs.items()}
        print(f"{name}: logits max|{logits.abs().max().item():.3f}|, probs {shapes}")
        for other, base, res in OTHER_INPUTS:
            if base != name:
                continue
            small = build("anyres", {**cfg, "res": res})
            # Derived buffers change shape with the size; the official loader reports and skips them.
            learned = {k: v for k, v in model.state_dict().items() if not k.endswith(DERIVED)}
            result = small.load_state_dict(learned, strict=False)
            print(f"{other}: unused at {res}: {len(result.unexpected_keys)} keys, missing {result.missing_keys}")
            y = torch.randn(1, 3, *res, generator=gen).half().float()
            with torch.no_grad(), ProbeSoftmax(small) as p2:
                out = small(y)
            exp2 = {"input": y.half().contiguous(), "logits": out.contiguous()}
            exp2.update({k: v.contiguous() for k, v in p2.probs.items()})
            save_file(exp2, os.path.join(args.out, f"{other}.expected.safetensors"),
                      metadata={"config": json.dumps(swift_config(name, cfg)), "weights": name,
                                "generator": "tools/gen_model_fixtures.py", "module": "anyres"})


if __name__ == "__main__":
    main()
