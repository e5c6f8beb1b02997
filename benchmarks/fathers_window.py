"""Do fathers from a window of a large photo cost quality? (docs/studies/settings.md#fathers_window)

    .venv/bin/python benchmarks/fathers_window.py --limit 10 --fraction 0.4

A photo over `pairs.max_pixels` trains on fathers from its most textured window of that many pixels
(the memory of the father pyramid stays bounded). The DIV2K photos of the headline table (their inputs
~510x340, x2, fast preset, kd, kernel estimated) are run whole and with fathers from a window of
`--fraction` of their area, seed 0, and whole again with seed 1: the run-to-run spread to read the
difference against.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from solosr.bench import config_with, machine_description, synthetic_cases
from solosr.config import preset
from solosr.metrics import psnr_y, quantize
from solosr.pipeline import upscale

sys.path.insert(0, str(Path(__file__).parent))
from headline import make_folder  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--limit", type=int, default=10)
    ap.add_argument("--fraction", type=float, default=0.4)
    args = ap.parse_args()
    cfg = preset("fast")
    runs = {"whole, seed 0": (cfg, 0), "whole, seed 1": (cfg, 1)}
    scores: dict[str, list[float]] = {name: [] for name in [*runs, "window"]}
    with tempfile.TemporaryDirectory() as tmp:
        folder = make_folder("div2k20", Path(args.data), Path(tmp))
        if folder is None:
            raise SystemExit(f"no DIV2KRK inputs under {args.data}")
        for i, c in enumerate(synthetic_cases([str(folder)], 2, 0)):
            if i >= args.limit:
                break
            h, w = c.lr.shape[:2]
            window = config_with(cfg, pairs={"max_pixels": round(args.fraction * h * w)})
            for name, (run_cfg, seed) in {**runs, "window": (window, 0)}.items():
                sr = upscale(c.lr, 2, config=run_cfg, seed=seed).image
                scores[name].append(psnr_y(quantize(sr), c.hr, 2))
            print(c.name, f"{w}x{h}", " ".join(f"{v[-1]:.3f}" for v in scores.values()), flush=True)
    print(f"x2, fast, {len(scores['window'])} images, window {args.fraction:.0%} of the area; {machine_description()}")
    for name, v in scores.items():
        print(f"{name}: {np.mean(v):.3f}")
    d = np.array(scores["window"]) - np.array(scores["whole, seed 0"])
    spread = np.array(scores["whole, seed 1"]) - np.array(scores["whole, seed 0"])
    print(f"window - whole: mean {d.mean():+.3f}, per image {d.min():+.2f} to {d.max():+.2f}; "
          f"seed 1 - seed 0: mean {spread.mean():+.3f}, per image {spread.min():+.2f} to {spread.max():+.2f}")


if __name__ == "__main__":
    main()
