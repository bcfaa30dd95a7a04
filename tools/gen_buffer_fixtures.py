#!/usr/bin/env python3
"""Checkpoints whose stored buffers differ from the geometry, written by the official stack
(Tests/HatModelTests/Fixtures/buffers_*).

Run with the pinned environment (torch 2.5.1, timm 1.0.31, fastervit 1.0.0, safetensors):

    "${HATSCOPE_PYTHON:-python3}" tools/gen_buffer_fixtures.py [--out Tests/HatModelTests/Fixtures]

The official forward reads `relative_coords_table` and `relative_position_index` (every
PosEmbMLPSwinv2D) from the loaded state dict, so the official result depends on what a checkpoint
stores. Each case is a SMALL official model with randomised weights (tools/gen_model_fixtures.py's
`randomize`), one forward in eval mode so the relative_bias caches hold what a used model holds,
then a checkpoint written the way people write them:

    bf16            {'state_dict': every float tensor as bfloat16} (torch.save zip)
    fp16            the same weights as float16
    ema             timm's real ModelEmaV2 (decay 0.9) updated after real AdamW steps (NativeScaler,
                    train mode, cross-entropy on random data), saved by timm's CheckpointSaver:
                    epoch, arch, state_dict, optimizer, version, args (argparse.Namespace),
                    amp_scaler, state_dict_ema, metric, saver. ModelEmaV2 blends the int64
                    relative_position_index too and copy_ truncates it: entries one below the
                    geometry (the expected outputs are for the EMA weights).
    perturbed       (also at a 160 x 160 input: buffers_perturbed_at160.expected.safetensors, where the
                    official any-res loader skips the stored carrier buffers shaped for 128 x 128)
                    a bare state dict whose float buffers (relative_coords_table, relative_bias)
                    carry noise, with arbitrary stored indices: random int64 entries (negatives
                    included: torch indexing wraps them) in one module, float32 entries with
                    fractions in another (load_state_dict's copy_ truncates them)
    nonsquare       faster_vit_any_res.py built at 128 x 192 (carrier grids 4 x 6 and 2 x 4, so no
                    hat_pos_embed), {'state_dict', 'arch'}

For each case `buffers_<case>.expected.safetensors` holds the input [1,3,H,W] (float16-exact, stored
as F16), the official logits
and every softmax output after `load_state_dict` of the checkpoint's chosen state dict (the official
loader, strict), plus `logits_geometry`: the official model given only the learned tensors (its own,
freshly computed buffers), i.e. what `--buffers geometry` must give. Metadata: `config` (the case as
hatscope's ModelConfig JSON), `checkpoint` (file name), `ema` ("1" when the EMA weights are meant),
`differs` (max |logits - logits_geometry| / max |logit|, so a test can require a real difference).
"""
import argparse
import json
import os
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_model_fixtures import DERIVED, ProbeSoftmax, build, check_versions, randomize, swift_config  # noqa: E402

SMALL = dict(dim=2, in_dim=2, depths=[1, 1, 2, 1], heads=[1, 1, 2, 2], window=[7, 7, 4, 4], ct=2, ls=None,
             ls_conv=None, hat=[False, False, True, False], prop=False, res=[128, 128])
# The EMA case: one block per stage (its checkpoint holds four copies of the weights), layer
# scale and propagation on. At decay 0.9 the truncation hits 76 of the 256 entries of a 4x4 index
# (661 of 2401 for faster_vit_0's 7x7 windows).
EMA = dict(SMALL, depths=[1, 1, 1, 1], ls=1e-5, prop=True)
NONSQUARE = dict(SMALL, depths=[1, 1, 2, 2], hat=[False, False, True, True], ls=1e-5, prop=True, res=[128, 192])


def run(model, x):
    with torch.no_grad(), ProbeSoftmax(model) as probe:
        logits = model(x)
    return logits, probe.probs


def official(module, cfg, state_dict):
    """A fresh official model loaded with `state_dict` (strict) and one without its buffers."""
    full = build(module, cfg)
    full.load_state_dict(state_dict)
    learned = build(module, cfg)
    missing, unexpected = learned.load_state_dict({k: v for k, v in state_dict.items() if not k.endswith(DERIVED)},
                                                  strict=False)
    assert not unexpected and all(k.endswith(DERIVED) for k in missing), (missing, unexpected)
    return full, learned


def write_case(out, name, module, cfg, checkpoint_file, state_dict, x, ema=False):
    from safetensors.torch import save_file
    full, geometry = official(module, cfg, state_dict)
    logits, probs = run(full, x)
    logits_geometry, _ = run(geometry, x)
    scale = logits.abs().max().item()
    differs = (logits - logits_geometry).abs().max().item() / scale
    expected = {"input": x.half().contiguous(), "logits": logits.contiguous(), "logits_geometry": logits_geometry.contiguous()}
    expected.update({k: v.contiguous() for k, v in probs.items()})
    save_file(expected, os.path.join(out, f"buffers_{name}.expected.safetensors"),
              metadata={"config": json.dumps(swift_config(name, cfg)), "checkpoint": checkpoint_file,
                        "ema": "1" if ema else "0", "differs": f"{differs:.3g}",
                        "generator": "tools/gen_buffer_fixtures.py", "module": module})
    index_off = sum(int((v != geometry.state_dict()[k]).sum()) for k, v in state_dict.items()
                    if k.endswith("relative_position_index"))
    exact = full.double()
    with torch.no_grad(), ProbeSoftmax(exact) as probe64:
        logits64 = exact(x.double())
    float32 = max((probs[k].double() - v).abs().max().item() for k, v in probe64.probs.items())
    print(f"{name}: {checkpoint_file}, stored vs geometry buffers move the logits by {differs:.3g} of max|logit|; "
          f"{index_off} index entries differ; official float32 vs float64: logits "
          f"{(logits.double() - logits64).abs().max().item() / scale:.2g} of max|logit|, probabilities {float32:.2g}")


def randomized(module, cfg, seed, x=None, gen=None):
    """`randomize` (gen_model_fixtures.py), with the qkv projections halved: attention logits that
    sharp make float32 itself differ by ~1e-5 between two correct implementations (the official
    forward in float32 vs in float64), which would leave the 1e-5 tolerance no room to measure
    anything. Then one forward when `x` is given, which fills the relative_bias caches as any
    used model has them."""
    gen = gen or torch.Generator().manual_seed(seed)
    model = build(module, cfg)
    randomize(model, gen)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("qkv.weight"):
                p.mul_(0.5)
    if x is not None:
        run(model, x)
    return model


def case_half(out, x):
    model = randomized("fixed", SMALL, 2001, x)
    for name, dtype in (("bf16", torch.bfloat16), ("fp16", torch.float16)):
        sd = {k: v.to(dtype) if v.is_floating_point() else v for k, v in model.state_dict().items()}
        path = f"buffers_{name}.pth.tar"
        torch.save({"state_dict": sd, "epoch": 7, "arch": "faster_vit_small"}, os.path.join(out, path))
        # What load_state_dict gives: the half values copy_'d into float32.
        write_case(out, name, "fixed", SMALL, path, torch.load(os.path.join(out, path))["state_dict"], x)


def case_ema(out):
    from timm.utils import CheckpointSaver, ModelEmaV2, NativeScaler
    gen = torch.Generator().manual_seed(2002)
    x = torch.randn(1, 3, *EMA["res"], generator=gen).half().float()  # exactly representable in fp16
    model = randomized("fixed", EMA, 0, gen=gen)
    model_ema = ModelEmaV2(model, decay=0.9)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    scaler = NativeScaler(device="cpu")
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="faster_vit_small")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--model-ema", action="store_true")
    parser.add_argument("--model-ema-decay", type=float, default=0.9)
    parser.add_argument("--input-size", type=int, nargs=3, default=None)
    parser.add_argument("--amp", action="store_true")
    args = parser.parse_args(["--model-ema", "--amp", "--input-size", "3", "128", "128"])
    model.train()
    for step in range(4):
        images = torch.randn(2, 3, *EMA["res"], generator=gen)
        labels = torch.randint(0, 10, (2,), generator=gen)
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        scaler(loss, optimizer, parameters=model.parameters())
        model_ema.update(model)
    model.eval()
    with tempfile.TemporaryDirectory() as d:
        saver = CheckpointSaver(model, optimizer, args=args, model_ema=model_ema, amp_scaler=scaler, checkpoint_dir=d)
        saver.save_checkpoint(epoch=3, metric=12.5)
        with open(os.path.join(d, "last.pth.tar"), "rb") as f:
            data = f.read()
    path = "buffers_ema.pth.tar"
    with open(os.path.join(out, path), "wb") as f:
        f.write(data)
    ckpt = torch.load(os.path.join(out, path), weights_only=False)
    print("ema checkpoint entries:", sorted(ckpt.keys()))
    write_case(out, "ema", "fixed", EMA, path, ckpt["state_dict_ema"], x, ema=True)


def case_perturbed(out, x):
    gen = torch.Generator().manual_seed(2003)
    model = randomized("fixed", SMALL, 2004, x)
    sd = model.state_dict()
    for k, v in sd.items():
        if k.endswith("relative_coords_table"):
            sd[k] = v + 0.2 * torch.randn(v.shape, generator=gen)
        elif k.endswith("relative_bias"):
            sd[k] = v + torch.randn(v.shape, generator=gen)
    # Arbitrary indices into the (2*4-1)^2 = 49-entry tables: int64 with negatives (torch indexing
    # wraps them) in one module, float32 with fractions (copy_ into int64 truncates) in another.
    n = (2 * 4 - 1) ** 2
    k0 = "levels.2.blocks.0.attn.pos_emb_funct.relative_position_index"
    sd[k0] = torch.randint(-n, n, sd[k0].shape, generator=gen)
    k1 = "levels.2.blocks.1.hat_attn.pos_emb_funct.relative_position_index"
    sd[k1] = torch.rand(sd[k1].shape, generator=gen) * (n - 1)
    path = "buffers_perturbed.pth"
    torch.save(sd, os.path.join(out, path))
    loaded = torch.load(os.path.join(out, path))
    write_case(out, "perturbed", "fixed", SMALL, path, loaded, x)
    # The same checkpoint at a 160 x 160 input: the official any-res model built for it has a 6x6
    # carrier bias grid, so load_state_dict(strict=False) skips the stored hat_attn buffers (4x4)
    # and keeps its own, while the window buffers (4x4 windows either way) are taken.
    at160 = dict(SMALL, res=[160, 160])
    big = build("anyres", at160)
    big._load_state_dict(os.path.join(out, path))  # the official any-res loader (strict=False)
    now = big.state_dict()
    taken = [k for k in loaded if k.endswith(DERIVED) and now[k].shape == loaded[k].shape]
    assert all(torch.equal(now[k].to(loaded[k].dtype), loaded[k]) for k in taken)
    print(f"perturbed_at160: the official loader took {len(taken)} stored buffers and skipped "
          f"{sum(1 for k in loaded if k.endswith(DERIVED)) - len(taken)}")
    y = torch.randn(1, 3, 160, 160, generator=gen).half().float()
    logits, probs = run(big, y)
    expected = {"input": y.half().contiguous(), "logits": logits.contiguous()}
    expected.update({k: v.contiguous() for k, v in probs.items()})
    from safetensors.torch import save_file
    save_file(expected, os.path.join(out, "buffers_perturbed_at160.expected.safetensors"),
              metadata={"config": json.dumps(swift_config("perturbed", SMALL)), "checkpoint": path, "ema": "0",
                        "generator": "tools/gen_buffer_fixtures.py", "module": "anyres"})


def case_nonsquare(out):
    gen = torch.Generator().manual_seed(2007)
    x = torch.randn(1, 3, *NONSQUARE["res"], generator=gen).half().float()
    model = randomized("anyres", NONSQUARE, 0, x, gen=gen)
    assert not any("hat_pos_embed" in k for k in model.state_dict()), "a non-square build has no hat_pos_embed"
    path = "buffers_nonsquare.pth.tar"
    torch.save({"state_dict": model.state_dict(), "arch": "faster_vit_small_any_res"}, os.path.join(out, path))
    write_case(out, "nonsquare", "anyres", NONSQUARE, path, torch.load(os.path.join(out, path))["state_dict"], x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "Tests", "HatModelTests", "Fixtures"))
    args = ap.parse_args()
    check_versions()
    torch.set_num_threads(2)
    os.makedirs(args.out, exist_ok=True)
    x = torch.randn(1, 3, *SMALL["res"], generator=torch.Generator().manual_seed(2000)).half().float()
    case_half(args.out, x)
    case_ema(args.out)
    case_perturbed(args.out, x)
    case_nonsquare(args.out)


if __name__ == "__main__":
    main()
