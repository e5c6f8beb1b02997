"""Does clipping each output channel to the input's own range cost PSNR? (docs/studies/settings.md#output_range)

    .venv/bin/python benchmarks/output_range.py -s 2

scikit-image's six photos with DIV2KRK-style kernels (seed 0), the fast preset. The pipeline's own clip is
replaced by the identity here, so its raw output is scored clipped to [0, 1] only, to the input's range,
and to that range widened.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from solosr import pipeline
from solosr.bench import machine_description, synthetic_cases
from solosr.config import preset
from solosr.metrics import psnr_y, quantize

sys.path.insert(0, str(Path(__file__).parent))
from headline import make_folder  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-s", "--scale", type=int, default=2, choices=(2, 4))
    args = ap.parse_args()
    s, margins = args.scale, [None, 0.0, 0.02, 0.05, 0.1]
    pipeline.within_input_range = lambda sr, lr: sr  # score the raw output; each clip is applied below
    scores: dict = {m: [] for m in margins}
    with tempfile.TemporaryDirectory() as tmp:
        for c in synthetic_cases([str(make_folder("skimage", Path("."), Path(tmp)))], s, 0):
            sr = pipeline.upscale(c.lr, s, config=preset("fast"), seed=0).image
            lo, hi = c.lr.min(axis=(0, 1)), c.lr.max(axis=(0, 1))
            for m in margins:
                x = sr if m is None else np.clip(sr, np.maximum(lo - m * (hi - lo), 0), np.minimum(hi + m * (hi - lo), 1))
                scores[m].append(psnr_y(quantize(x), c.hr, s))
            outside = float(np.mean((sr < lo) | (sr > hi))) * 100
            print(c.name, f"output outside the input's range {outside:.2f} %",
                  " ".join(f"{v[-1]:.3f}" for v in scores.values()), flush=True)
    print(f"x{s}, {machine_description()}")
    for m, v in scores.items():
        name = "[0, 1] only" if m is None else f"input range + {m:.0%}"
        print(f"{name}: {np.mean(v):.3f}")


if __name__ == "__main__":
    main()
