"""Speed and memory: whole-process wall time and peak RSS of `solosr upscale`, per preset and size,
and kernel-estimation time against image size.

    .venv/bin/python benchmarks/speed.py -o docs/results            # presets fast; sizes 256, 512
    .venv/bin/python benchmarks/speed.py --presets fast balanced --sizes 128 256 512 1024

Each input is a crop of a photo scikit-image ships (upscaled with bicubic when the size needs it),
degraded by a DIV2KRK-protocol kernel. One warm-up run first; each figure is one run on an idle
machine, `/usr/bin/time -v` measuring the process.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from solosr.bench import machine_description
from solosr.estimate import estimate_kernel
from solosr.imageio import Picture, write_image
from solosr.kernels import random_div2krk_kernel
from solosr.metrics import quantize
from solosr.resize import degrade_np, imresize_np


def make_input(size: int, folder: Path) -> Path:
    from skimage import data

    hr = data.astronaut().astype(np.float32) / 255  # 512x512
    if 2 * size > hr.shape[0]:
        hr = imresize_np(hr, 2 * size / hr.shape[0])
    hr = hr[: 2 * size, : 2 * size]
    lr = quantize(degrade_np(hr, random_div2krk_kernel(2, np.random.default_rng(0)), 2)).astype(np.float32)
    path = folder / f"in_{size}.png"
    write_image(path, Picture(lr))
    return path


def timed_upscale(path: Path, preset: str, out: Path, extra: list[str]) -> dict:
    cmd = ["/usr/bin/time", "-v", str(Path(sys.executable).parent / "solosr"), "upscale", str(path), "-o", str(out),
           "-s", "2", "-p", preset, "--overwrite", "-q", *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    return {"wall_s": round(wall, 2), "peak_rss_mib": round(rss_kb / 1024, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", nargs="+", default=["fast"])
    ap.add_argument("--sizes", nargs="+", type=int, default=[256, 512])
    ap.add_argument("--estimate-sizes", nargs="+", type=int, default=[128, 256, 512, 1024])
    ap.add_argument("--method", default="kd")
    ap.add_argument("-o", "--output", default="docs/results")
    args = ap.parse_args()
    rows, est_rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        inputs = {s: make_input(s, tmp) for s in sorted(set(args.sizes) | set(args.estimate_sizes))}
        timed_upscale(inputs[min(args.sizes)], args.presets[0], tmp / "out", ["--iters", "5"])  # warm-up
        for preset in args.presets:
            for size in args.sizes:
                r = {"preset": preset, "method": args.method, "size": size,
                     **timed_upscale(inputs[size], preset, tmp / "out", ["-m", args.method])}
                rows.append(r)
                print(r, flush=True)
        from solosr.imageio import read_image

        for size in args.estimate_sizes:
            lr = read_image(inputs[size]).pixels
            t0 = time.perf_counter()
            est = estimate_kernel(lr, 2)
            est_rows.append({"size": size, "seconds": round(time.perf_counter() - t0, 2), "evals": est.iterations})
            print(est_rows[-1], flush=True)
    meta = {"date": datetime.date.today().isoformat(), "machine": machine_description(),
            "command": "python benchmarks/speed.py " + " ".join(sys.argv[1:])}
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / "speed.json").write_text(json.dumps({"meta": meta, "upscale": rows, "estimate": est_rows}, indent=1))
    lines = ["## Speed and memory", "", f"{meta['date']}, {meta['machine']}", "", f"Command: `{meta['command']}`", "",
             "`solosr upscale -s 2` on one image (whole process, `/usr/bin/time -v`):", "",
             "| preset | method | input | wall s | peak RSS MiB |", "|---|---|---|---|---|"]
    lines += [f"| {r['preset']} | {r['method']} | {r['size']}x{r['size']} | {r['wall_s']} | {r['peak_rss_mib']} |"
              for r in rows]
    lines += ["", "Kernel estimation (x2) against input size (inputs over 512 px are centre-cropped to 512 for the "
              "search):", "", "| input | seconds | objective evaluations |", "|---|---|---|"]
    lines += [f"| {r['size']}x{r['size']} | {r['seconds']} | {r['evals']} |" for r in est_rows]
    (out / "speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
