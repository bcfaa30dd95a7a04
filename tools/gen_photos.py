#!/usr/bin/env python3
"""Writes assets/photos/*.jpg: free-licence photographs from scikit-image's bundled data, reduced
to a moderate size for demos and examples. Origins and licences: assets/photos/LICENSES.md.

Run:  HATSCOPE_PYTHON=/work/venv/bin/python; $HATSCOPE_PYTHON tools/gen_photos.py
Needs: numpy, pillow, scikit-image.
"""
import os

import skimage.data as data
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "assets", "photos")

PHOTOS = {
    # name: (loader, (width, height))
    "cat.jpg": (data.chelsea, (400, 266)),        # 451 x 300 original
    "coffee.jpg": (data.coffee, (384, 256)),      # 600 x 400 original
    "astronaut.jpg": (data.astronaut, (320, 320)),  # 512 x 512 original
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, (load, size) in PHOTOS.items():
        img = Image.fromarray(load()).resize(size, Image.LANCZOS)
        path = os.path.join(OUT, name)
        img.save(path, "JPEG", quality=90, optimize=True)
        print(f"{path}: {size[0]}x{size[1]}, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
