"""The README's picture: a crop of `solosr demo`'s bicubic, solosr and original images side by side.

    .venv/bin/solosr demo -o demo_out && .venv/bin/python benchmarks/demo_picture.py demo_out docs/images/demo_x2.png
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image


def main() -> None:
    folder, out = Path(sys.argv[1]), Path(sys.argv[2])
    y, x, side, zoom = 120, 150, 160, 2  # the astronaut's face and badge
    tiles = []
    for tag in ("bicubic", "sr", "hr"):
        img = np.asarray(Image.open(folder / f"astronaut_{tag}.png").convert("RGB"))[y:y + side, x:x + side]
        tiles.append(np.asarray(Image.fromarray(img).resize((side * zoom, side * zoom), Image.NEAREST)))
        tiles.append(np.full((side * zoom, 6, 3), 255, np.uint8))
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(tiles[:-1], axis=1)).save(out, optimize=True)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
