#!/usr/bin/env python3
"""Train hatscope's embedded demo model with the OFFICIAL FasterViT code, on the CPU.

The model is `fastervit.models.faster_vit.FasterViT` (PyPI fastervit==1.0.0) built with
faster_vit_0_224's geometry -- 224 input, window 7 in every stage, ct_size 2, hierarchical
attention only in stage 3 (14 x 14 tokens -> 2 x 2 windows, 16 carrier tokens), layer scale on and
carrier-token propagation on -- and small widths, so that it trains in under an hour on 2 cores.
The task comes from tools/demo/generate.py ("do the two marked shapes share a colour?").

Outputs (in --work, outside the repository while training):
  train.log                   progress (also printed)
  last.pth.tar                checkpoint after every epoch, official training-dict format
  final.pth.tar               the finished model (--out-name; tools/demo/export.py puts it in assets/demo)

Training signal: cross-entropy on the answer plus an auxiliary loss (weight --aux) from a
throw-away linear head on the same pooled features: which palette colours the marked shapes have
(multi-hot). Average pooling alone gives colour COUNTS; presence (one bit for "same", two for
"different") needs each location to know what the other window holds, so the auxiliary target
pushes exactly the cross-window mixing the task needs, and "same" becomes a linear read-out
(one bit vs two). The auxiliary head is not part of the saved model: the checkpoint is a plain
FasterViT.

The learning-rate schedule is driven by WALL TIME (linear warm-up, then cosine to zero at
--minutes), because the machine is shared and steps per minute vary. That makes a run's exact
weights depend on machine speed; the held-out accuracy is what description.md reports.

Phase 2 (--init, --stage3-aux, --stage4-drop-path): fine-tunes a phase-1 model so that it answers
through stage 3's carrier tokens; phase 1 alone learns to route everything through stage 4's
global attention (carrier attention off changes nothing). See assets/demo/description.md.

Occlusion (--occlude-p P, default 0 = off; phases 3 and 4): with probability P a training
image gets one of its two marked shapes covered the way hatscope's `--occlude-box 3:...` covers it:
the input pixels of every stage-3 token (16 x 16 px cell) under the shape's ring are 0 after
normalisation (the ImageNet mean colour). Its answer becomes "different colours" (two marked
shapes visibly sharing a colour: no) and its presence targets name the visible shape's colour only
(still a true statement about the image, so the auxiliary losses keep their meaning). Without it
the model learns "same colour" = "one marked colour present", so covering a shape says "same".
Images whose two shapes' cell boxes overlap are never occluded (covering one would cover part of
the other). The occlusion draws come from their own random stream: with P = 0 the run is the
unchanged one. --occlude-p alone teaches a shortcut: the model then answers "different colours" to
ANY mean-colour box, plain background included (measured after phase 3), so phase 4 adds
--occlude-background-p Q, which also covers background boxes with the label unchanged.

Usage (HATSCOPE_PYTHON is the venv's python), as used for assets/demo (phases 1-4; phase 1 was
stopped with Ctrl-C after "epoch 3 done", so phase 2 starts from the epoch-3 last.pth.tar):
  $HATSCOPE_PYTHON tools/demo/train.py --work /work/demo-data --minutes 57
  $HATSCOPE_PYTHON tools/demo/train.py --work /work/demo-data --minutes 17 \
      --init /work/demo-data/last.pth.tar --lr 1e-3 --warmup 0.05 \
      --stage3-aux 1.0 --stage4-drop-path 0.5 --out-name final-phase2.pth.tar
  $HATSCOPE_PYTHON tools/demo/train.py --work /work/demo-occl --minutes 20 \
      --init /work/demo-data/final-phase2.pth.tar --lr 5e-4 --warmup 0.05 --stage3-aux 1.0 \
      --stage4-drop-path 0.5 --occlude-p 0.25 --out-name final-occl.pth.tar
  $HATSCOPE_PYTHON tools/demo/train.py --work /work/demo-occl2 --minutes 9 \
      --init /work/demo-occl/final-occl.pth.tar --lr 3e-4 --warmup 0.05 --stage3-aux 1.0 \
      --stage4-drop-path 0.5 --occlude-p 0.25 --occlude-background-p 0.35 --out-name final-occl2.pth.tar
  $HATSCOPE_PYTHON tools/demo/train.py --work /work/demo-data --trial     # speed check only
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402  (same folder)

from fastervit.models.faster_vit import FasterViT  # noqa: E402  (the official implementation)

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)

# The demo architecture: faster_vit_0_224's geometry with small widths.
ARCH = dict(
    dim=16, in_dim=16, depths=[1, 1, 3, 1], num_heads=[2, 2, 4, 8], window_size=[7, 7, 7, 7],
    ct_size=2, mlp_ratio=4, resolution=224, layer_scale=0.1, layer_scale_conv=None,
    hat=[False, False, True, False], do_propagation=True, num_classes=len(generate.CLASS_NAMES),
)


def build_model(arch: dict, drop_path: float) -> nn.Module:
    return FasterViT(drop_path_rate=drop_path, **arch)


def log(work: str, msg: str) -> None:
    line = f"[{time.strftime('%H:%M:%S')}] {msg}"
    print(line, flush=True)
    with open(os.path.join(work, "train.log"), "a") as f:
        f.write(line + "\n")


def to_input(batch_u8: np.ndarray) -> torch.Tensor:
    """uint8 [N,224,224,3] -> normalised float [N,3,224,224]: exactly what hatscope's
    preprocessing computes for a 224 x 224 image with crop_pct 1.0 (resize and crop are identity)."""
    x = torch.from_numpy(batch_u8).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - mean) / std


def augment(batch_u8: np.ndarray, rng: np.random.Generator,
            masks: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Label-preserving symmetries: flips and quarter turns (colours and the pairing survive).
    masks (bool [N,14,14], stage-3 cells) turn with their images: 224 = 14 x 16, so a turned cell
    grid is the turned image's cell grid. Same random draws with or without masks."""
    out = np.empty_like(batch_u8)
    mout = None if masks is None else np.empty_like(masks)
    for i, im in enumerate(batch_u8):
        k = int(rng.integers(0, 4))
        im = np.rot90(im, k)
        m = None if masks is None else np.rot90(masks[i], k)
        if rng.random() < 0.5:
            im = im[:, ::-1]
            m = None if m is None else m[:, ::-1]
        out[i] = im
        if mout is not None:
            mout[i] = m
    return out, mout


CELL = 16            # pixels per stage-3 token at 224 px input (--occlude-box 3:...)
CELLS = 224 // CELL  # 14 x 14 stage-3 tokens
BLUR_MARGIN = 1.5    # px: generate.py blurs some images by a radius up to 0.8


def shape_boxes(seed: int, split: str, count: int) -> tuple[np.ndarray, np.ndarray]:
    """int [N, 2, 4]: per marked shape the stage-3 cells r0, r1, c0, c1 (inclusive) under its
    ring, and int [N, 2]: each shape's palette index."""
    boxes = np.empty((count, 2, 4), dtype=np.int64)
    cols = np.empty((count, 2), dtype=np.int64)
    for i in range(count):
        for j, o in enumerate(generate.marked_shapes(seed, split, i)):
            e = o["ring"] + BLUR_MARGIN
            lo = lambda v: max(0, int(math.floor((v - e) / CELL)))  # noqa: E731
            hi = lambda v: min(CELLS - 1, int(math.floor((v + e) / CELL)))  # noqa: E731
            boxes[i, j] = (lo(o["y"]), hi(o["y"]), lo(o["x"]), hi(o["x"]))
            cols[i, j] = generate.PALETTE_NAMES.index(o["colour"])
    return boxes, cols


def load_boxes(work: str, split: str, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    path = os.path.join(work, f"{split}_{seed}_{count}_boxes.npz")
    if not os.path.exists(path):
        boxes, cols = shape_boxes(seed, split, count)
        np.savez(path + ".tmp.npz", boxes=boxes, colours=cols)
        os.replace(path + ".tmp.npz", path)
    d = np.load(path)
    return d["boxes"], d["colours"]


def box_mask(box: np.ndarray) -> np.ndarray:
    """bool [14,14]: the stage-3 cells of one box (r0, r1, c0, c1 inclusive)."""
    m = np.zeros((CELLS, CELLS), dtype=bool)
    m[box[0]:box[1] + 1, box[2]:box[3] + 1] = True
    return m


def overlapping(boxes: np.ndarray) -> bool:
    """Whether the two shapes' cell boxes (int [2, 4]) share a cell."""
    a, b = boxes
    return a[0] <= b[1] and b[0] <= a[1] and a[2] <= b[3] and b[2] <= a[3]


def background_box(boxes: np.ndarray, rng: np.random.Generator, tries: int = 20) -> np.ndarray | None:
    """bool [14,14]: a random box of stage-3 cells (2-7 on a side, or a whole 7 x 7 window) that
    touches neither marked shape's box (int [2, 4]); None when none was found."""
    for _ in range(tries):
        if rng.random() < 0.3:
            r0, c0 = 7 * int(rng.integers(0, 2)), 7 * int(rng.integers(0, 2))
            b = np.array([r0, r0 + 6, c0, c0 + 6])
        else:
            h, w = int(rng.integers(2, 8)), int(rng.integers(2, 8))
            r0, c0 = int(rng.integers(0, CELLS - h + 1)), int(rng.integers(0, CELLS - w + 1))
            b = np.array([r0, r0 + h - 1, c0, c0 + w - 1])
        if not any(overlapping(np.stack([b, s])) for s in boxes):
            return box_mask(b)
    return None


def occlude(x: torch.Tensor, masks: np.ndarray) -> torch.Tensor:
    """Normalised input [N,3,224,224] with the cells of masks (bool [N,14,14]) set to 0."""
    px = torch.from_numpy(masks).repeat_interleave(CELL, 1).repeat_interleave(CELL, 2)  # [N,224,224]
    return x.masked_fill(px.unsqueeze(1), 0.0)


@torch.no_grad()
def evaluate(model: nn.Module, xs: np.ndarray, ys: np.ndarray, batch: int = 100) -> float:
    model.eval()
    correct = 0
    for s in range(0, len(xs), batch):
        logits = model(to_input(xs[s:s + batch]))
        correct += int((logits.argmax(1).numpy() == ys[s:s + batch]).sum())
    model.train()
    return correct / len(xs)


@torch.no_grad()
def said_same_occluded(model: nn.Module, xs: np.ndarray, masks: np.ndarray, batch: int = 100) -> float:
    """Share of images answered "same colour" with masks (bool [N,14,14]) occluded."""
    model.eval()
    same = 0
    for s in range(0, len(xs), batch):
        logits = model(occlude(to_input(xs[s:s + batch]), masks[s:s + batch]))
        same += int((logits.argmax(1) == 1).sum())
    model.train()
    return same / len(xs)


def checkpoint_dict(model: nn.Module, epoch: int, a: argparse.Namespace, acc: float | None) -> dict:
    """The official training-dict layout: state_dict, epoch, arch, args (an argparse.Namespace)."""
    args = argparse.Namespace(
        model="faster_vit_demo_224", arch=ARCH, **{k: v for k, v in ARCH.items() if k != "resolution"},
        img_size=224, input_size=(3, 224, 224), crop_pct=1.0, crop_mode="center",
        interpolation="bicubic", mean=MEAN, std=STD, class_names=list(generate.CLASS_NAMES),
        drop_path=a.drop_path, lr=a.lr, aux_presence_loss=a.aux, stage3_presence_loss=a.stage3_aux,
        stage4_train_drop_path=a.stage4_drop_path, init=a.init, weight_decay=a.weight_decay, batch_size=a.batch,
        minutes=a.minutes, train_images=a.train_count, seed=a.seed, generator_seed=a.data_seed,
        task="do the two marked shapes share a colour?", val_accuracy=acc,
    )
    if a.occlude_p > 0:
        args.occlusion_p = a.occlude_p
    if a.occlude_background_p > 0:
        args.background_occlusion_p = a.occlude_background_p
    return {
        "state_dict": model.state_dict(),
        "epoch": epoch,
        "arch": "faster_vit_demo_224",
        "args": args,
        "class_names": list(generate.CLASS_NAMES),
    }


def save(obj: dict, path: str) -> None:
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def presence(seed: int, split: str, count: int) -> np.ndarray:
    """float [N, palette]: 1 for each colour a marked shape has (one bit = same colour)."""
    out = np.zeros((count, len(generate.PALETTE_NAMES)), dtype=np.float32)
    for i in range(count):
        _, c1, c2 = generate.colours(seed, split, i)
        out[i, c1] = 1.0
        out[i, c2] = 1.0
    return out


def load_split(work: str, split: str, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    path = os.path.join(work, f"{split}_{seed}_{count}.npz")
    if not os.path.exists(path):
        t = time.time()
        xs, ys = generate.generate_arrays(seed, split, count, workers=2)
        np.savez(path + ".tmp.npz", images=xs, labels=ys)
        os.replace(path + ".tmp.npz", path)
        log(work, f"generated {split}: {count} images in {time.time() - t:.0f}s -> {path}")
    d = np.load(path)
    return d["images"], d["labels"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", required=True, help="folder for data, logs and checkpoints")
    ap.add_argument("--minutes", type=float, default=55.0, help="training wall-time budget")
    ap.add_argument("--train-count", type=int, default=16000)
    ap.add_argument("--val-count", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--aux", type=float, default=0.5, help="weight of the colour-presence loss")
    ap.add_argument("--stage3-aux", type=float, default=0.0,
                    help="weight of a colour-presence loss on the pooled stage-3 output (carriers only)")
    ap.add_argument("--stage4-drop-path", type=float, default=0.0,
                    help="training-time drop-path on stage 4's block(s), so stage 3 must do the mixing")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--drop-path", type=float, default=0.0)
    ap.add_argument("--warmup", type=float, default=0.04, help="fraction of the budget")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-seed", type=int, default=2026)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-every", type=int, default=200, help="steps between quick evaluations")
    ap.add_argument("--trial", action="store_true", help="time a few steps and exit")
    ap.add_argument("--init", help="start from this checkpoint's weights (a second cosine cycle)")
    ap.add_argument("--out-name", default="final.pth.tar", help="file name of the finished model in --work")
    ap.add_argument("--occlude-background-p", type=float, default=0.0,
                    help="with --occlude-p: probability that an image whose shapes stay visible gets a "
                         "box of background cells (2-7 on a side, or a whole window) covered, label unchanged")
    ap.add_argument("--occlude-p", type=float, default=0.0,
                    help="probability that a training image gets one marked shape covered (answer: different colours)")
    a = ap.parse_args()

    os.makedirs(a.work, exist_ok=True)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)

    model = build_model(ARCH, a.drop_path)
    if a.init:
        init = torch.load(a.init, map_location="cpu", weights_only=False)
        model.load_state_dict(init["state_dict"], strict=True)
        log(a.work, f"initialised from {a.init} (epoch {init['epoch']})")
    nparams = sum(p.numel() for p in model.parameters())
    log(a.work, f"model {ARCH} drop_path={a.drop_path}: {nparams / 1e6:.2f} M parameters")

    if a.trial:
        xs, ys = generate.generate_arrays(a.data_seed, "trial", a.batch * 3)
        opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
        for step in range(3):
            t = time.time()
            xb = to_input(augment(xs[step * a.batch:(step + 1) * a.batch], rng)[0])
            loss = F.cross_entropy(model(xb), torch.from_numpy(ys[step * a.batch:(step + 1) * a.batch]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            log(a.work, f"trial step {step}: {time.time() - t:.2f}s for {a.batch} images, loss {loss.item():.3f}")
        return 0

    xs, ys = load_split(a.work, "train", a.train_count, a.data_seed)
    vx, vy = load_split(a.work, "val", a.val_count, a.data_seed)
    quick = min(500, len(vx))  # quick evaluations use the first 500 held-out images
    pres = torch.from_numpy(presence(a.data_seed, "train", len(xs)))
    if a.occlude_p > 0:
        t = time.time()
        boxes, shape_colours = load_boxes(a.work, "train", len(xs), a.data_seed)
        vboxes, _ = load_boxes(a.work, "val", quick, a.data_seed)
        # Quick check: the first `quick` held-out images with shape 1, then shape 2 covered.
        vmasks = [np.stack([box_mask(b[j]) for b in vboxes]) for j in (0, 1)]
        bg_rng = np.random.default_rng([a.seed, 11])
        vbg = [background_box(b, bg_rng, tries=200) for b in vboxes]
        vbg_idx = np.array([k for k, m in enumerate(vbg) if m is not None])
        vbg_masks = np.stack([vbg[k] for k in vbg_idx])
        occ_rng = np.random.default_rng([a.seed, 7])  # its own stream: the main one is unchanged
        log(a.work, f"occlusion p={a.occlude_p}: shape boxes ready in {time.time() - t:.0f}s; "
                    f"{int(sum(overlapping(b) for b in boxes))} of {len(boxes)} training images never occluded (boxes overlap)")
    aux_head = nn.Linear(model.head.in_features, pres.shape[1])
    # Stage 3's output (after its downsample: [B, 8*dim, 7, 7], the stage-4 input) feeds a second
    # throw-away head. Inside stage 3 only carrier attention crosses windows, so this loss makes
    # the carriers carry the colours between windows.
    aux3_head = nn.Linear(model.levels[3].blocks[0].norm1.normalized_shape[0], pres.shape[1])
    if a.stage4_drop_path > 0:
        # DropPath is parameter-free: the saved model is unchanged; in training, stage 4's
        # global attention is skipped for a share of the samples.
        from timm.layers import DropPath
        for blk in model.levels[3].blocks:
            blk.drop_path = DropPath(a.stage4_drop_path)

    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay + [aux_head.weight, aux3_head.weight], "weight_decay": a.weight_decay},
                             {"params": no_decay + [aux_head.bias, aux3_head.bias], "weight_decay": 0.0}], lr=a.lr)
    budget = a.minutes * 60.0
    start = time.time()
    step, epoch, best = 0, 0, 0.0
    running = []
    done = False
    while not done:
        order = rng.permutation(len(xs))
        for s in range(0, len(order) - a.batch + 1, a.batch):
            progress = (time.time() - start) / budget
            if progress >= 1.0:
                done = True
                break
            lr = a.lr * (progress / a.warmup if progress < a.warmup
                         else 0.5 * (1 + math.cos(math.pi * (progress - a.warmup) / (1 - a.warmup))))
            for g in opt.param_groups:
                g["lr"] = lr
            idx = np.sort(order[s:s + a.batch])
            pb = pres[idx]
            if a.occlude_p > 0:
                masks = np.zeros((len(idx), CELLS, CELLS), dtype=bool)
                yb_np = ys[idx].copy()
                pb = pb.clone()
                for i, n in enumerate(idx):
                    if occ_rng.random() < a.occlude_p and not overlapping(boxes[n]):
                        j = int(occ_rng.integers(0, 2))   # the covered shape
                        masks[i] = box_mask(boxes[n, j])
                        yb_np[i] = 0                      # "different colours"
                        pb[i] = 0.0
                        pb[i, shape_colours[n, 1 - j]] = 1.0
                    elif a.occlude_background_p > 0 and occ_rng.random() < a.occlude_background_p:
                        # Covering background changes nothing: the answer must follow the
                        # shapes, not the presence of a covering box.
                        m = background_box(boxes[n], occ_rng)
                        if m is not None:
                            masks[i] = m
                xb_u8, masks = augment(xs[idx], rng, masks)
                xb = occlude(to_input(xb_u8), masks)
                yb = torch.from_numpy(yb_np)
            else:
                xb = to_input(augment(xs[idx], rng)[0])
                yb = torch.from_numpy(ys[idx])
            # The official forward_features, unrolled to reach stage 3's output:
            # patch_embed -> levels 0..3 -> norm; forward = head(flatten(avgpool(features))).
            h = model.patch_embed(xb)
            h = model.levels[1](model.levels[0](h))
            h3 = model.levels[2](h)                       # [B, 8*dim, 7, 7] (stage 3 + downsample)
            h = model.norm(model.levels[3](h3))
            feats = torch.flatten(model.avgpool(h), 1)    # [B, 8*dim]
            logits = model.head(feats)
            loss = F.cross_entropy(logits, yb, label_smoothing=0.05)
            if a.aux > 0:
                loss = loss + a.aux * F.binary_cross_entropy_with_logits(aux_head(feats), pb)
            if a.stage3_aux > 0:
                f3 = h3.mean(dim=(2, 3))
                loss = loss + a.stage3_aux * F.binary_cross_entropy_with_logits(aux3_head(f3), pb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            running.append((loss.item(), float((logits.argmax(1) == yb).float().mean())))
            step += 1
            if step % a.eval_every == 0:
                acc = evaluate(model, vx[:quick], vy[:quick])
                tl = np.mean([r[0] for r in running]); ta = np.mean([r[1] for r in running])
                running = []
                occ = ""
                if a.occlude_p > 0:
                    occ = " | 'same' with shape 1 / 2 covered " + " / ".join(
                        f"{said_same_occluded(model, vx[:quick], m):.3f}" for m in vmasks)
                    bg_same = said_same_occluded(model, vx[vbg_idx], vbg_masks)
                    occ += f" | background covered: 'same' {bg_same:.3f} (labels {vy[vbg_idx].mean():.3f})"
                log(a.work, f"step {step} epoch {epoch} {time.time() - start:.0f}s lr {lr:.2e} "
                            f"train loss {tl:.3f} acc {ta:.3f} | held-out({quick}) {acc:.3f}{occ}")
        epoch += 1
        save(checkpoint_dict(model, epoch, a, None), os.path.join(a.work, "last.pth.tar"))
        log(a.work, f"epoch {epoch} done at step {step}, {time.time() - start:.0f}s; saved last.pth.tar")

    train_minutes = (time.time() - start) / 60
    acc = evaluate(model, vx, vy)
    cpu_minutes = time.process_time() / 60  # all threads of this process, since it started
    log(a.work, f"finished: {step} steps, {epoch} epochs, {train_minutes:.1f} min wall, "
                f"{cpu_minutes:.1f} CPU-min; "
                f"held-out accuracy {acc:.4f} on {len(vx)} images")
    ck = checkpoint_dict(model, epoch, a, acc)
    ck["args"].train_minutes = round(train_minutes, 1)
    ck["args"].steps = step
    ck["args"].cpu_minutes = round(cpu_minutes, 1)
    if a.init:
        ck["args"].init = a.init
    save(ck, os.path.join(a.work, a.out_name))
    log(a.work, f"saved {os.path.join(a.work, a.out_name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
