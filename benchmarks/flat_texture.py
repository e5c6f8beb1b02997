"""Texture made on flat areas (issue 37's "noise into hatching"): how much high-frequency detail a run adds
where the input is flat, by setting, on one real photo, with a picture of the flattest crop.

    .venv/bin/python benchmarks/flat_texture.py ../shared/data/real/realsrset/dped_crop00061.png -o /tmp/flat.png

Measure: the luma of (output - bicubic), minus its 5x5 local mean, as a standard deviation (on the 0-255
scale) over the HR pixels whose input 7x7 neighbourhood is among the flattest 30 %, and over the rest. A
sharp output adds detail where there is texture; on flat areas it should add little. x2, seed 0, default
preset; each row one run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import ndimage

from solosr import upscale
from solosr.bench import machine_description
from solosr.estimate import estimate_kernel
from solosr.imageio import Picture, read_image, write_image
from solosr.kernels import bicubic_kernel, elongation, rms_radius
from solosr.resize import imresize_np

LUMA = np.array([0.299, 0.587, 0.114])
RUNS = {  # name: upscale's keyword arguments
    "kd, kernel estimated, sons' noise auto": {},
    "kd, kernel estimated, sons' noise 1.86/255": {"noise": 1.86 / 255},
    "kd, kernel estimated, sons' noise 3/255": {"noise": 3 / 255},
    "kd, kernel estimated, JPEG 75 sons": {"jpeg": 75},
    "zssr, kernel estimated": {"method": "zssr"},
    "kd, bicubic kernel": {"kernel": "bicubic"},
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("image")
    ap.add_argument("-o", "--picture", default="flat_texture.png", help="the flattest crop of every run, side by side")
    args = ap.parse_args()
    lr = read_image(args.image).pixels[..., :3]
    est = estimate_kernel(lr, 2)
    print(f"{machine_description()}\n{args.image}: noise {est.noise_sigma * 255:.2f}/255, kernel RMS radius "
          f"{rms_radius(est.kernel):.2f} px (bicubic's {rms_radius(bicubic_kernel(2)):.2f}), elongation "
          f"{elongation(est.kernel):.2f}, confidence {est.confidence:.2f}, JPEG-looking {est.jpeg}")
    lum = lr @ LUMA
    local_std = np.sqrt(np.maximum(ndimage.uniform_filter(lum**2, 7) - ndimage.uniform_filter(lum, 7) ** 2, 0))
    flat = np.kron(local_std < np.quantile(local_std, 0.3), np.ones((2, 2), bool))
    bic = imresize_np(lr, 2)
    smooth = ndimage.uniform_filter(local_std, 48)[24:-24, 24:-24]
    y, x = (2 * v for v in np.unravel_index(np.argmin(smooth), smooth.shape))
    crops = [np.clip(bic[y:y + 96, x:x + 96], 0, 1)]
    print("| run | flat-area detail /255 | textured-area detail /255 | s |\n|---|---|---|---|")
    for name, kwargs in RUNS.items():
        t0 = time.perf_counter()
        sr = np.clip(upscale(lr, 2, seed=0, **kwargs).image, 0, 1)
        d = (sr - bic) @ LUMA
        hf = d - ndimage.uniform_filter(d, 5)
        print(f"| {name} | {hf[flat].std() * 255:.2f} | {hf[~flat].std() * 255:.2f} | {time.perf_counter() - t0:.0f} |",
              flush=True)
        crops.append(sr[y:y + 96, x:x + 96])
    write_image(args.picture, Picture(np.concatenate([np.kron(c, np.ones((3, 3, 1))) for c in crops], axis=1).astype(np.float32)))
    print(f"picture: {args.picture} (bicubic, then the runs in order; the flattest 96x96 HR crop, 3x)")


if __name__ == "__main__":
    main()
