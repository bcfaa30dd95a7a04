#!/usr/bin/env python3
"""Generates the HatImaging test fixtures in Tests/HatImagingTests/Fixtures/.

Sources: scikit-image's bundled photographs (chelsea and coffee: CC0 by their photographers;
astronaut: NASA, public domain; rocket: SpaceX, public domain), reduced in size.

  formats/   PNGs of every colour type / bit depth / interlacing (written by the small PNG writer
             below, so every layout libpng can meet is covered), JPEGs (baseline 4:2:0, 4:4:4,
             progressive, grayscale, CMYK) and, for each, the reference RGB pixels that Pillow's
             Image.open(f).convert("RGB") produces, as binary PPM (P6).
             Deviation (documented in the issue's own rule "16-bit takes the high byte"): for
             16-bit *grayscale* PNGs Pillow clips the 16-bit value to 255 instead; the reference
             for gray16 is the high byte, as the issue asks.
  bad/       truncated / corrupt / oversized / empty / non-image inputs.
  preprocess/ photos plus, per case, timm's eval-transform result before ToTensor (8-bit PNG,
             exact) and one full normalised tensor (.npy, float32) to compare against directly.
             The generator asserts that timm's tensor equals (png / 255 - mean) / std in float32.

Run:  HATSCOPE_PYTHON=/work/venv/bin/python; $HATSCOPE_PYTHON tools/gen_image_fixtures.py
Needs: numpy, pillow, scikit-image, timm, torch.
"""
import io
import json
import os
import struct
import zlib

import numpy as np
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "HatImagingTests", "Fixtures")
RNG = np.random.default_rng(20261130)


# ---------------------------------------------------------------------------------------------
# A minimal PNG writer: any colour type / bit depth, all five row filters, Adam7 interlacing.

def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def pack_row(samples, bit_depth):
    """samples: 1-D array of integer samples for one row -> bytes."""
    if bit_depth == 16:
        return samples.astype(">u2").tobytes()
    if bit_depth == 8:
        return samples.astype(np.uint8).tobytes()
    per_byte = 8 // bit_depth
    padded = np.zeros(((len(samples) + per_byte - 1) // per_byte) * per_byte, dtype=np.uint32)
    padded[:len(samples)] = samples
    out = bytearray()
    for i in range(0, len(padded), per_byte):
        b = 0
        for s in padded[i:i + per_byte]:
            b = (b << bit_depth) | int(s)
        out.append(b)
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_rows(rows, bpp):
    """rows: list of raw row bytes -> filtered scanlines, cycling filter types 0..4."""
    out = bytearray()
    prev = bytes(len(rows[0])) if rows else b""
    for i, row in enumerate(rows):
        ft = i % 5
        f = bytearray(len(row))
        for x in range(len(row)):
            a = row[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][ft]
            f[x] = (row[x] - pred) & 0xFF
        out.append(ft)
        out += f
        prev = row
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(samples, color_type, bit_depth, interlace=False, palette=None, trns=None):
    """samples: (h, w, channels) integer array of raw sample values."""
    h, w, ch = samples.shape
    bpp = max(1, ch * bit_depth // 8)
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 1 if interlace else 0)
    raw = bytearray()
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    for x0, y0, dx, dy in passes:
        sub = samples[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        rows = [pack_row(sub[y].reshape(-1), bit_depth) for y in range(sub.shape[0])]
        raw += filter_rows(rows, bpp)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    if palette is not None:
        out += chunk(b"PLTE", bytes(np.asarray(palette, dtype=np.uint8).reshape(-1)))
    if trns is not None:
        out += chunk(b"tRNS", trns)
    # Split the data over two IDAT chunks, as real encoders do.
    z = zlib.compress(bytes(raw), 9)
    out += chunk(b"IDAT", z[:len(z) // 2]) + chunk(b"IDAT", z[len(z) // 2:]) + chunk(b"IEND", b"")
    return out


# ---------------------------------------------------------------------------------------------

def ppm(rgb):
    h, w, _ = rgb.shape
    return b"P6\n%d %d\n255\n" % (w, h) + rgb.astype(np.uint8).tobytes()


def pil_rgb(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def save(rel, data):
    path = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def photos():
    import skimage.data as d
    return {"chelsea": d.chelsea(), "coffee": d.coffee(), "astronaut": d.astronaut(), "rocket": d.rocket()}


def resized(arr, w, h):
    return np.asarray(Image.fromarray(arr).resize((w, h), Image.LANCZOS))


def gen_formats(src):
    """src: (h, w, 3) uint8 photo crop."""
    h, w, _ = src.shape
    gray = np.asarray(Image.fromarray(src).convert("L")).astype(np.int64)[..., None]
    rgb = src.astype(np.int64)
    alpha = RNG.integers(0, 256, size=(h, w, 1))
    low = lambda shape: RNG.integers(0, 256, size=shape)  # noqa: E731 random low bytes for 16-bit
    quant = Image.fromarray(src).quantize(colors=256)
    cases = {}
    for bits in (1, 2, 4, 8):
        cases[f"gray{bits}"] = dict(samples=gray >> (8 - bits), color_type=0, bit_depth=bits)
    cases["gray16"] = dict(samples=gray * 256 + low(gray.shape), color_type=0, bit_depth=16)
    cases["gray8_trns"] = dict(samples=gray, color_type=0, bit_depth=8, trns=struct.pack(">H", 128))
    cases["ga8"] = dict(samples=np.concatenate([gray, alpha], 2), color_type=4, bit_depth=8)
    cases["ga16"] = dict(samples=np.concatenate([gray * 256 + low(gray.shape), alpha * 257], 2),
                         color_type=4, bit_depth=16)
    cases["rgb8"] = dict(samples=rgb, color_type=2, bit_depth=8)
    cases["rgb8_trns"] = dict(samples=rgb, color_type=2, bit_depth=8, trns=struct.pack(">HHH", 10, 20, 30))
    cases["rgb16"] = dict(samples=rgb * 256 + low(rgb.shape), color_type=2, bit_depth=16)
    cases["rgba8"] = dict(samples=np.concatenate([rgb, alpha], 2), color_type=6, bit_depth=8)
    cases["rgba16"] = dict(samples=np.concatenate([rgb * 256 + low(rgb.shape), alpha * 257 + 3], 2),
                           color_type=6, bit_depth=16)
    for bits in (1, 2, 4, 8):
        q = Image.fromarray(src).quantize(colors=2 ** bits)
        pal = np.asarray(q.getpalette()[:3 * 2 ** bits]).reshape(-1, 3)
        cases[f"pal{bits}"] = dict(samples=np.asarray(q).astype(np.int64)[..., None], color_type=3,
                                   bit_depth=bits, palette=pal)
    pal = np.asarray(quant.getpalette()[:768]).reshape(-1, 3)
    cases["pal8_trns"] = dict(samples=np.asarray(quant).astype(np.int64)[..., None], color_type=3,
                              bit_depth=8, palette=pal, trns=bytes(RNG.integers(0, 256, 100).astype(np.uint8)))
    for name in ("rgb8", "gray4", "pal8", "rgba16", "gray1", "ga8"):
        cases[name + "_interlaced"] = dict(cases[name], interlace=True)

    manifest = []
    for name, spec in cases.items():
        data = write_png(**spec)
        ref = pil_rgb(data)
        s, bits = spec["samples"], spec["bit_depth"]
        if spec["color_type"] == 0 and bits == 16:
            # Pillow clips I;16 to 255 in convert("RGB"); the rule is the high byte.
            ref = np.repeat((s >> 8).astype(np.uint8), 3, axis=2)
        # Sanity: the writer and Pillow agree on what the pixels are.
        if spec["color_type"] in (2, 6):
            assert np.array_equal(ref, (s[..., :3] >> (8 if bits == 16 else 0)).astype(np.uint8)), name
        if spec["color_type"] in (0, 4) and bits >= 8:
            expect = (s[..., :1] >> (8 if bits == 16 else 0)).astype(np.uint8)
            assert np.array_equal(ref, np.repeat(expect, 3, 2)), name
        save(f"formats/{name}.png", data)
        save(f"formats/{name}.ppm", ppm(ref))
        manifest.append({"file": f"{name}.png", "reference": f"{name}.ppm"})

    # JPEG variants, references decoded by Pillow (its bundled libjpeg-turbo).
    im = Image.fromarray(src)
    jpegs = {
        "baseline420.jpg": lambda b: im.save(b, "JPEG", quality=90, subsampling=2),
        "baseline422.jpg": lambda b: im.save(b, "JPEG", quality=85, subsampling=1),
        "baseline444.jpg": lambda b: im.save(b, "JPEG", quality=95, subsampling=0),
        "progressive.jpg": lambda b: im.save(b, "JPEG", quality=88, progressive=True),
        "gray.jpg": lambda b: im.convert("L").save(b, "JPEG", quality=90),
        "cmyk.jpg": lambda b: im.convert("CMYK").save(b, "JPEG", quality=92),
    }
    for name, write in jpegs.items():
        b = io.BytesIO()
        write(b)
        data = b.getvalue()
        save(f"formats/{name}", data)
        save(f"formats/{name[:-4]}.ppm", ppm(pil_rgb(data)))
        manifest.append({"file": name, "reference": name[:-4] + ".ppm"})
    save("formats/manifest.json", json.dumps(manifest, indent=1).encode())
    return cases


def gen_bad(src):
    good_png = write_png(src.astype(np.int64), 2, 8)
    b = io.BytesIO()
    Image.fromarray(src).save(b, "JPEG", quality=90)
    good_jpg = b.getvalue()
    bp = io.BytesIO()
    Image.fromarray(src).save(bp, "JPEG", quality=90, progressive=True)
    prog_jpg = bp.getvalue()

    def header_only_png(w, h):
        ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
        # a tiny (wrong-sized) IDAT so only the header can be trusted
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16))
                + chunk(b"IEND", b""))

    def jpeg_with_size(data, w, h):
        data = bytearray(data)
        i = 2
        while i < len(data):
            marker = data[i + 1]
            seg = struct.unpack(">H", data[i + 2:i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                data[i + 5:i + 9] = struct.pack(">HH", h, w)
                return bytes(data)
            i += 2 + seg
        raise ValueError("no SOF")

    bad_crc = bytearray(good_png)
    idat = bad_crc.find(b"IDAT")
    bad_crc[idat + 20] ^= 0xFF  # corrupt compressed data inside the first IDAT
    bad = {
        "truncated.png": good_png[:len(good_png) // 2],
        "truncated_header.png": good_png[:20],
        "truncated.jpg": good_jpg[:len(good_jpg) // 2],
        "truncated_progressive.jpg": prog_jpg[:len(prog_jpg) // 2],
        "truncated_header.jpg": good_jpg[:40],
        "corrupt_idat.png": bytes(bad_crc),
        "random.bin": RNG.integers(0, 256, 4096).astype(np.uint8).tobytes(),
        "random_after_png_signature.png": b"\x89PNG\r\n\x1a\n" + RNG.integers(0, 256, 512).astype(np.uint8).tobytes(),
        "random_after_jpeg_marker.jpg": b"\xff\xd8\xff" + RNG.integers(0, 256, 512).astype(np.uint8).tobytes(),
        "text.txt": b"hello, this is not an image\n",
        "empty.bin": b"",
        "zero_width.png": header_only_png(0, 10),
        "zero_height.jpg": jpeg_with_size(good_jpg, 10, 0),
        "huge_20000.png": header_only_png(20000, 20000),
        "huge_20000.jpg": jpeg_with_size(good_jpg, 20000, 20000),
        "over_100mp.png": header_only_png(16000, 7000),
        "over_100mp.jpg": jpeg_with_size(good_jpg, 16000, 7000),
    }
    for name, data in bad.items():
        save(f"bad/{name}", data)
    for name in bad:
        try:
            Image.open(os.path.join(ROOT, "bad", name)).load()
            print(f"note: Pillow accepts bad/{name}")
        except Exception:
            pass


def timm_case(arr, size, crop_pct, crop_mode):
    """Returns (uint8 HxWx3 before ToTensor, float32 normalised tensor [3, H, W])."""
    import torch
    from timm.data import transforms_factory as tf
    from timm.data.constants import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
    pil = Image.fromarray(arr)
    full = tf.transforms_imagenet_eval(img_size=size, crop_pct=crop_pct, crop_mode=crop_mode,
                                       interpolation="bicubic")
    tensor = full(pil).numpy()
    # The same pipeline without ToTensor/Normalize gives the 8-bit image the network sees.
    steps = [t for t in full.transforms if type(t).__name__ not in ("ToTensor", "MaybeToTensor", "Normalize")]
    img = pil
    for t in steps:
        img = t(img)
    u8 = np.asarray(img)
    mean = torch.tensor(IMAGENET_DEFAULT_MEAN)
    std = torch.tensor(IMAGENET_DEFAULT_STD)
    recomputed = ((torch.from_numpy(u8.copy()).permute(2, 0, 1).float() / 255)
                  - mean[:, None, None]) / std[:, None, None]
    assert np.array_equal(recomputed.numpy(), tensor), "timm tensor != (u8/255 - mean)/std"
    return u8, tensor


def gen_preprocess(ph):
    # Photos stored as the files the test decodes (the reference decodes the same bytes with PIL).
    files = {}

    def put(name, arr, fmt, **kw):
        b = io.BytesIO()
        Image.fromarray(arr).save(b, fmt, **kw)
        save(f"preprocess/{name}", b.getvalue())
        files[name] = pil_rgb(b.getvalue())

    put("chelsea.jpg", ph["chelsea"], "JPEG", quality=90)                      # 451x300, landscape
    put("rocket.jpg", resized(ph["rocket"], 320, 213)[:, 53:266], "JPEG", quality=88, progressive=True)
    put("coffee.png", resized(ph["coffee"], 210, 140), "PNG")                   # small: upscaling
    put("astronaut.jpg", resized(ph["astronaut"], 300, 300), "JPEG", quality=90)
    put("rocket_portrait.png", resized(ph["rocket"], 160, 240).transpose(1, 0, 2).copy(), "PNG")  # 240x160 -> portrait 160w x 240h

    cases = [
        ("chelsea.jpg", [224, 224], 0.875, "center"),
        ("coffee.png", [224, 224], 0.875, "center"),
        ("rocket_portrait.png", [224, 224], 0.875, "center"),
        ("rocket.jpg", [224, 224], 0.875, "center"),
        ("chelsea.jpg", [224, 224], 0.95, "squash"),
        ("astronaut.jpg", [224, 224], 0.95, "squash"),
        ("chelsea.jpg", [160, 192], 0.9, "center"),
        ("rocket_portrait.png", [192, 160], 0.9, "center"),
        ("astronaut.jpg", [320, 320], 1.0, "squash"),
        ("coffee.png", [256, 256], 0.93, "squash"),
        ("chelsea.jpg", [224, 224], 1.0, "center"),
        ("coffee.png", [224, 224], 1.17, "center"),            # crop larger than the image: pads 16 / 17
        ("rocket_portrait.png", [224, 224], 0.9, "border"),    # timm's border mode: pads with the mean
        ("chelsea.jpg", [48, 64], 0.875, "squash"),             # strong shrink (~6x): antialiasing filter
        ("astronaut.jpg", [40, 40], 1.0, "center"),             # 300 -> 40: 7.5x
    ]
    manifest = []
    for i, (name, size, pct, mode) in enumerate(cases):
        u8, tensor = timm_case(files[name], size, pct, mode)
        ref = f"case{i}_{name.split('.')[0]}_{mode}_{size[0]}x{size[1]}_{pct}.png"
        b = io.BytesIO()
        Image.fromarray(u8).save(b, "PNG")
        save(f"preprocess/{ref}", b.getvalue())
        entry = {"image": name, "size": size, "crop_pct": pct, "crop_mode": mode, "expected_u8": ref}
        if i == 6:
            npy = f"case{i}_tensor.npy"
            buf = io.BytesIO()
            np.save(buf, tensor[None].astype("<f4"))
            save(f"preprocess/{npy}", buf.getvalue())
            entry["expected_tensor"] = npy
        manifest.append(entry)
    save("preprocess/manifest.json", json.dumps(manifest, indent=1).encode())


def main():
    ph = photos()
    src = resized(ph["chelsea"], 90, 60)[5:50, 10:77]  # 67 x 45: odd sizes exercise edge handling
    gen_formats(src)
    gen_bad(src)
    gen_preprocess(ph)
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(ROOT) for f in fs)
    print(f"fixtures: {total / 1e6:.2f} MB in {os.path.normpath(ROOT)}")


if __name__ == "__main__":
    main()
