"""Issue 3, measurement 1 and 3: kernel error on DIV2KRK-format sets, and estimation time vs size.

    .venv/bin/python benchmarks/kernel_accuracy.py ../shared/data/div2krk-dev -s 2 -o docs/results

Per image: error (BENCHMARK.md kernel error) of the estimate, of the bicubic kernel, of the best
single isotropic Gaussian for the whole set (one sigma, grid search), and of the best isotropic
Gaussian for that image (an oracle).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import time
from pathlib import Path

import numpy as np

from solosr.bench import list_images, machine_description
from solosr.estimate import EstimateConfig, estimate_kernel
from solosr.imageio import read_image
from solosr.kernels import bicubic_kernel, center_kernel, gaussian_kernel, kernel_error, rms_radius


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("-s", "--scale", type=int, default=2)
    ap.add_argument("-o", "--output", default="docs/results")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                    help="override an EstimateConfig field, e.g. --set fit_evals=70 (repeatable)")
    ap.add_argument("--tag", default="", help="suffix for the output file names")
    ap.add_argument("--kernels-out", default="", metavar="NPZ", help="also save every estimated kernel (and x2 kernel at x4)")
    args = ap.parse_args()
    cfg = EstimateConfig()
    for item in args.set:
        field, _, value = item.partition("=")
        cfg = dataclasses.replace(cfg, **{field: type(getattr(cfg, field))(value)})
    s, root = args.scale, Path(args.root)
    files = list_images(root / f"lr_x{s}")[: args.limit or None]
    sigmas = np.round(np.arange(0.4, 8.01 if s == 4 else 4.01, 0.05), 3)
    rows, saved = [], {}
    for p in files:
        true = np.load(root / f"kernels_x{s}" / f"{p.stem}.npy")
        size = true.shape[0]
        lr = read_image(p).pixels
        t0 = time.perf_counter()
        est = estimate_kernel(lr, s, cfg)
        sec = time.perf_counter() - t0
        iso = [kernel_error(center_kernel(gaussian_kernel(size, sg), s), true) for sg in sigmas]
        row = {"image": p.stem, "estimate": kernel_error(est.kernel, true), "bicubic": kernel_error(bicubic_kernel(s), true),
               "iso_errors": iso, "oracle": float(min(iso)), "oracle_sigma": float(sigmas[int(np.argmin(iso))]),
               "seconds": sec, "confidence": est.confidence, "noise_sigma_255": est.noise_sigma * 255,
               "fallback": est.fallback, "lr_size": list(lr.shape[:2]),
               "radius": rms_radius(est.kernel), "true_radius": rms_radius(true)}
        row["width_ratio"] = row["radius"] / row["true_radius"]
        rows.append(row)
        saved[p.stem] = est.kernel
        if est.kernel_x2 is not None:
            saved[p.stem + "_x2"] = est.kernel_x2
        print(f"{p.stem:<8} est {row['estimate']:.5f} bic {row['bicubic']:.5f} oracle {row['oracle']:.5f} "
              f"({row['oracle_sigma']}) width {row['width_ratio']:.3f} conf {est.confidence:.2f} {sec:.1f}s", flush=True)
    if args.kernels_out:
        np.savez_compressed(args.kernels_out, **saved)
    mean_iso = np.mean([r["iso_errors"] for r in rows], axis=0)
    best = int(np.argmin(mean_iso))
    for r in rows:
        r["best_single_iso"] = r["iso_errors"][best]
        del r["iso_errors"]
    mean = {k: float(np.mean([r[k] for r in rows])) for k in ("estimate", "bicubic", "best_single_iso", "oracle", "seconds")}
    median = {k: float(np.median([r[k] for r in rows])) for k in ("estimate", "bicubic", "best_single_iso", "oracle")}
    wins = int(sum(r["estimate"] < r["best_single_iso"] for r in rows))
    ratios = np.array([r["width_ratio"] for r in rows])
    width = {"median_ratio": float(np.median(ratios)), "mean_ratio": float(np.mean(ratios)),
             "too_wide_5pct": int((ratios > 1.05).sum()), "too_narrow_5pct": int((ratios < 0.95).sum())}
    result = {"meta": {"date": datetime.date.today().isoformat(), "machine": machine_description(), "scale": s,
                       "command": " ".join(["python benchmarks/kernel_accuracy.py", args.root, f"-s {s}", f"-o {args.output}"]
                                          + [f"--limit {args.limit}"] * bool(args.limit)
                                          + [f"--set {x}" for x in args.set] + [f"--tag {args.tag}"] * bool(args.tag)),
                       "best_single_sigma": float(sigmas[best]), "images": len(rows)},
              "mean": mean, "median": median, "estimate_beats_best_single": wins,
              "width": width, "images": rows}
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"kernel_accuracy_x{s}{args.tag}.json").write_text(json.dumps(result, indent=1))
    lines = [f"## Kernel accuracy, DIV2KRK dev ({len(rows)} images), x{s}", "",
             f"{result['meta']['date']}, {result['meta']['machine']}", "",
             f"Command: `{result['meta']['command']}`", "",
             "Kernel error: sum of squared differences after normalising, centring by centre of mass and padding.",
             "", "| kernel | mean error | median error |", "|---|---|---|"]
    names = {"estimate": "solosr estimate (`--kernel auto`)", "bicubic": "bicubic kernel",
             "best_single_iso": f"best single isotropic Gaussian for the set (sigma {sigmas[best]})",
             "oracle": "best isotropic Gaussian per image (oracle)"}
    for k, label in names.items():
        lines.append(f"| {label} | {mean[k]:.5f} | {median[k]:.5f} |")
    lines += ["", f"Estimate better than the best single Gaussian on {wins}/{len(rows)} images; "
              f"ratio of means estimate / best single = {mean['estimate'] / mean['best_single_iso']:.2f}; "
              f"mean estimation time {mean['seconds']:.1f} s.", "",
              f"Width (RMS radius of the estimate over the true kernel's): median {width['median_ratio']:.3f}, "
              f"mean {width['mean_ratio']:.3f}; more than 5 % too wide on {width['too_wide_5pct']}, "
              f"more than 5 % too narrow on {width['too_narrow_5pct']}.", "",
              "| image | estimate | bicubic | best single | oracle (sigma) | width ratio | confidence | s |",
              "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['image']} | {r['estimate']:.5f} | {r['bicubic']:.5f} | {r['best_single_iso']:.5f} | "
                     f"{r['oracle']:.5f} ({r['oracle_sigma']}) | {r['width_ratio']:.3f} | {r['confidence']:.2f} | "
                     f"{r['seconds']:.1f} |")
    (out / f"kernel_accuracy_x{s}{args.tag}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:16]))


if __name__ == "__main__":
    main()
