#!/usr/bin/env python3
"""Write a hatscope recording file from a PyTorch FasterViT, with forward hooks.

    "${HATSCOPE_PYTHON:-python3}" tools/record_torch.py --model FACTORY [--config KWARGS.json] \\
        --checkpoint C --input X.npy --out R.safetensors [--dtype f32|f16] [--ema]

FACTORY is a factory of the official `fastervit` package (faster_vit_0_224, faster_vit_4_21k_768,
faster_vit_0_any_res, ...), KWARGS a JSON object of its keyword arguments (num_classes,
resolution, depths, ...), so fine-tuned models and models with another head work as long as the
package builds them. C is a torch.save file (a bare state dict, or a training dict holding
`state_dict`, `model` or, with --ema, `state_dict_ema`; `module.` prefixes are dropped) or a
.safetensors state dict. X.npy is the network input [1, 3, H, W] float32, already normalised
(`hatscope preprocess` makes it from a photo); H and W must be multiples of 32.

The result is the file `hatscope record` writes (docs/recording-format.md): `hatscope explore
--recording R.safetensors` then shows a model hatscope itself may not be able to load. What is
recorded, and where it is taken from, without changing the model:
  - attention probabilities: a forward hook on each attention module's `attn_drop` (the dropout
    right after the softmax; identity in eval mode) stores its input under
    `<attention module path>.probs`;
  - conv-stage energies: a forward pre-hook on `levels.0/1.downsample` takes the stage output and
    stores the per-position L2 norm over channels as `levels.L.energy`;
  - propagation: a forward hook on the last block's `upsampler` of each propagating stage; the
    output times that block's gamma1, put back on the padded token grid, is
    `levels.L.blocks.B.propagation` [Hp, Wp, C];
  - the input and the logits.
The configuration in the metadata is read from the arguments the factory passes to the FasterViT
constructor (captured by a subclass while the factory runs).
"""
import argparse
import hashlib
import importlib.metadata as md
import inspect
import json
import os
import sys

SCHEMA_VERSION = 1
GEOMETRY_VERSION = 1
DERIVED = ("relative_position_index", "relative_coords_table", "relative_bias", "num_batches_tracked")


def fail(msg):
    sys.exit(f"record_torch: {msg}")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build(factory, kwargs):
    """The model the factory builds, and the FasterViT constructor's arguments (defaults filled)."""
    import fastervit.models.faster_vit as fixed
    import fastervit.models.faster_vit_any_res as anyres
    module = next((m for m in (fixed, anyres) if callable(getattr(m, factory, None)) and factory.startswith("faster_vit")), None)
    if module is None:
        fail(f"--model {factory}: not a factory of the fastervit package (e.g. faster_vit_0_224, faster_vit_0_any_res)")
    base = module.FasterViT
    captured = {}

    class Capturing(base):
        def __init__(self, *args, **kw):
            bound = inspect.signature(base.__init__).bind(self, *args, **kw)
            bound.apply_defaults()
            captured.update({k: v for k, v in bound.arguments.items() if k not in ("self", "kwargs")})
            super().__init__(*args, **kw)

    module.FasterViT = Capturing
    try:
        model = getattr(module, factory)(pretrained=False, **kwargs)
    except TypeError as e:
        fail(f"--config: {e}")
    finally:
        module.FasterViT = base
    return model.eval(), captured


def hatscope_config(name, args, model, factory_module_cfg):
    """The hatscope ModelConfig JSON object for the captured constructor arguments."""
    res = args["resolution"]
    res = [int(res), int(res)] if isinstance(res, (int, float)) else [int(r) for r in res]
    hat = args["hat"] if args["hat"] is not None else [True] * len(args["depths"])
    cfg = factory_module_cfg or {}

    def number(v):
        return None if v is None else float(v)
    return {
        "name": name, "dim": int(args["dim"]), "inDim": int(args["in_dim"]), "depths": [int(d) for d in args["depths"]],
        "heads": [int(h) for h in args["num_heads"]], "windowSize": [int(w) for w in args["window_size"]],
        "ctSize": int(args["ct_size"]), "mlpRatio": float(args["mlp_ratio"]),
        "layerScale": number(args["layer_scale"]) if type(args["layer_scale"]) in (int, float) else None,
        "layerScaleConv": number(args["layer_scale_conv"]) if type(args["layer_scale_conv"]) in (int, float) else None,
        "hat": [bool(h) for h in hat], "doPropagation": bool(args["do_propagation"]),
        "numClasses": int(model.num_classes), "resolution": res,
        "cropPct": float(cfg.get("crop_pct", 1.0)), "cropMode": str(cfg.get("crop_mode", "center")),
    }


def load_state_dict(path, ema):
    import torch
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file
        sd = load_file(path)
    else:
        # The official checkpoints hold an argparse.Namespace, which weights_only refuses; this
        # runs the pickle, so only give checkpoints you trust (hatscope itself never executes one).
        obj = torch.load(path, map_location="cpu", weights_only=False)
        sd = obj
        if isinstance(obj, dict):
            keys = (["state_dict_ema"] if ema else []) + ["state_dict", "model"]
            for k in keys:
                if k in obj and isinstance(obj[k], dict):
                    sd = obj[k]
                    break
            else:
                if ema:
                    fail(f"--ema: {path} has no state_dict_ema")
    if not isinstance(sd, dict) or not all(hasattr(v, "shape") for v in sd.values()):
        fail(f"{path}: no state dict of tensors found")
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in sd.items()}


def load_weights(model, sd):
    """Strict for learned tensors; derived buffers of another shape (another resolution) are kept
    as the model built them, as the official loader does. Returns "stored" when the checkpoint's
    relative-position buffers are used, else "geometry"."""
    own = model.state_dict()
    missing = [k for k in own if k not in sd and not k.endswith(DERIVED)]
    unexpected = [k for k in sd if k not in own]
    wrong = [k for k in sd if k in own and tuple(sd[k].shape) != tuple(own[k].shape) and not k.endswith(DERIVED)]
    if missing or unexpected or wrong:
        lines = [f"missing {k} {list(own[k].shape)}" for k in missing[:8]]
        lines += [f"unexpected {k} {list(sd[k].shape)}" for k in unexpected[:8]]
        lines += [f"{k}: checkpoint {list(sd[k].shape)}, model {list(own[k].shape)}" for k in wrong[:8]]
        fail("the checkpoint does not fit the model (pass the factory's keyword arguments with --config):\n  "
             + "\n  ".join(lines))
    usable = {k: v for k, v in sd.items() if tuple(v.shape) == tuple(own[k].shape)}
    model.load_state_dict(usable, strict=False)
    stored = any(k.endswith(("relative_coords_table", "relative_position_index")) for k in usable)
    return "stored" if stored else "geometry"


class Hooks:
    """Forward hooks that take what a hatscope recording holds, without changing any value."""

    def __init__(self, model):
        import torch
        self.torch = torch
        self.tensors = {}
        self.handles = []
        for name, m in model.named_modules():
            if type(m).__name__ == "WindowAttention":
                self.handles.append(m.attn_drop.register_forward_hook(self._probs(name + ".probs")))
        for level in (0, 1):
            down = model.levels[level].downsample
            if down is not None:
                self.handles.append(down.register_forward_pre_hook(self._energy(f"levels.{level}.energy")))
        for level in (2, 3):
            if level >= len(model.levels):
                continue
            blocks = model.levels[level].blocks
            if len(blocks) == 0:
                continue
            last = blocks[len(blocks) - 1]
            # The upsampler exists only where the stage has carrier tokens (faster_vit.py has no
            # do_sr_hat flag; both files build it under the same condition).
            if hasattr(last, "upsampler") and getattr(last, "do_propagation", False) and getattr(last, "last", False):
                name = f"levels.{level}.blocks.{len(blocks) - 1}.propagation"
                self.handles.append(last.upsampler.register_forward_hook(self._propagation(name, last)))

    def _probs(self, key):
        def hook(module, args, out):
            self.tensors[key] = args[0].detach().float().contiguous().clone()
        return hook

    def _energy(self, key):
        def hook(module, args):
            x = args[0].detach().float()  # [1, C, H, W]
            self.tensors[key] = x[0].pow(2).sum(0).sqrt().contiguous()
        return hook

    def _propagation(self, key, block):
        def hook(module, args, out):
            # out: [windows, C, w, w], the carrier tokens upsampled per window (window-list order,
            # row-major windows); the block adds gamma1 * out to its tokens.
            up = block.gamma1 * out.detach().float().permute(0, 2, 3, 1)  # [windows, w, w, C]; gamma1 may be 1
            sr = block.sr_ratio  # [rows, cols] windows in faster_vit_any_res.py, one number in faster_vit.py
            rows, cols = (int(sr[0]), int(sr[1])) if isinstance(sr, (list, tuple)) else (int(sr), int(sr))
            w = up.shape[1]
            grid = up.reshape(rows, cols, w, w, -1).permute(0, 2, 1, 3, 4).reshape(rows * w, cols * w, -1)
            self.tensors[key] = grid.contiguous()
        return hook

    def remove(self):
        for h in self.handles:
            h.remove()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="official fastervit factory name, e.g. faster_vit_0_224")
    ap.add_argument("--config", help="JSON object of the factory's keyword arguments")
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--input", required=True, help=".npy [1, 3, H, W] float32, normalised")
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", choices=["f32", "f16"], default="f32", help="element type of the attention maps")
    ap.add_argument("--ema", action="store_true", help="use state_dict_ema")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()

    import numpy as np
    import torch
    from safetensors.torch import save_file
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    kwargs = {}
    if args.config:
        try:
            with open(args.config) as f:
                kwargs = json.load(f)
        except (OSError, ValueError) as e:
            fail(f"--config {args.config}: {e}")
        if not isinstance(kwargs, dict):
            fail(f"--config {args.config}: expected a JSON object of keyword arguments")
    model, ctor = build(args.model, kwargs)
    buffers = load_weights(model, load_state_dict(args.checkpoint, args.ema))

    x = np.load(args.input)
    if x.ndim != 4 or x.shape[0] != 1 or x.shape[1] != 3:
        fail(f"--input {args.input}: shape {list(x.shape)}; expected [1, 3, H, W]")
    h, w = int(x.shape[2]), int(x.shape[3])
    if h % 32 or w % 32:
        fail(f"--input {args.input}: {h} x {w}; height and width must be multiples of 32")
    x = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    if not torch.isfinite(x).all():
        fail(f"--input {args.input}: holds NaN or infinite values")

    hooks = Hooks(model)
    try:
        with torch.no_grad():
            logits = model(x)
    finally:
        hooks.remove()

    config = hatscope_config(args.model, ctor, model, getattr(model, "pretrained_cfg", None))
    tensors = {"input": x.contiguous(), "logits": logits.detach().float().contiguous()}
    window_blocks = []
    for key, t in sorted(hooks.tensors.items()):
        if key.endswith(".probs"):
            t = t.half() if args.dtype == "f16" else t
            if key.endswith(".attn.probs"):
                window_blocks.append(key[: -len(".attn.probs")])
        tensors[key] = t.contiguous()

    versions = ", ".join(f"{p} {md.version(p)}" for p in ("fastervit", "torch"))
    kw = json.dumps(kwargs, sort_keys=True)
    provenance = {
        "producer": f"tools/record_torch.py ({versions})",
        "checkpoint": {"path": args.checkpoint, "sha256": sha256(args.checkpoint), "demo": False},
        "input": {"kind": "npy", "path": args.input, "sha256": sha256(args.input)},
        "preprocessing": None, "classNames": [], "interventions": [], "buffers": buffers,
    }
    metadata = {
        "format": "hatscope-recording",
        "schema_version": str(SCHEMA_VERSION),
        "geometry_version": str(GEOMETRY_VERSION),
        "config": json.dumps(config, sort_keys=True),
        "input_size": json.dumps([h, w]),
        "maps_dtype": "F16" if args.dtype == "f16" else "F32",
        "window_blocks": json.dumps(sorted(window_blocks, key=lambda s: [int(p) for p in s.split(".")[1::2]])),
        "provenance": json.dumps(provenance, sort_keys=True),
        "notes": json.dumps([f"recorded from PyTorch with forward hooks: {args.model}({kw})"]),
    }
    # Temporary name, then rename: never a half-written recording.
    tmp = f"{args.out}.tmp-{os.getpid()}"
    try:
        save_file(tensors, tmp, metadata=metadata)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # a normal file's mode, not the writer's private one
        os.replace(tmp, args.out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    top = int(logits.argmax())
    print(f"wrote {args.out}: {sum(k.endswith('.probs') for k in tensors)} attention maps ({metadata['maps_dtype']}), "
          f"logits {list(logits.shape)}, top-1 class {top}")


if __name__ == "__main__":
    main()
