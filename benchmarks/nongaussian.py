"""Blurs that are not Gaussian (issue 34): how far ZSSR with the estimated kernel is from ZSSR with the
true kernel, and from ZSSR with the best fixed Gaussian, on defocus-disk and motion blurs.

    .venv/bin/python benchmarks/nongaussian.py -s 2 -o docs/results
    .venv/bin/python benchmarks/nongaussian.py -s 2 --hr ../shared/data/hr/set14 --blurs motion -o /tmp/r

Inputs: scikit-image's photos (as `benchmarks/headline.py`), or `--hr` folders, each blurred by its own
seeded kernel of the kind (`kernels.random_blur_kernel`: disk radius 1-3 LR px, motion 1.5-4.5 LR px at
any angle), subsampled, quantised. "Best fixed Gaussian": the one isotropic Gaussian whose kernel error
(`kernels.kernel_error`) summed over the set's true kernels is least, given to every image: it knows the
set's typical width, which no single image tells. ZSSR at the fast preset (150 iterations, the kernel's
ensemble + 2 back-projection steps), sons without noise or JPEG; one run per image, seed 0.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from solosr.bench import machine_description, synthetic_cases
from solosr.config import preset
from solosr.estimate import estimate_kernel
from solosr.kernels import center_kernel, gaussian_kernel, kernel_error
from solosr.metrics import psnr_y, quantize
from solosr.pipeline import upscale

sys.path.insert(0, str(Path(__file__).parent))
from headline import make_folder  # noqa: E402  (the scikit-image photos, written as HR files)


def best_fixed_gaussian(kernels: list[np.ndarray], scale: int) -> tuple[np.ndarray, float]:
    """The isotropic Gaussian (sigma on a 0.05 grid) with the least summed kernel error to `kernels`."""
    size = kernels[0].shape[0]
    best = None
    for sigma in np.arange(0.3, size / 3, 0.05):
        g = center_kernel(gaussian_kernel(size, float(sigma)), scale)
        err = sum(kernel_error(g, k) for k in kernels)
        if best is None or err < best[0]:
            best = (err, g, float(sigma))
    return best[1], best[2]


def kernel_errors(args) -> None:
    """Each estimator's mean kernel error over the set, as a share of the best fixed Gaussian's."""
    from solosr.config import EstimateConfig

    s, rows = args.scale, {}
    with tempfile.TemporaryDirectory() as tmp:
        hr_dirs = args.hr or [str(make_folder("skimage", Path("."), Path(tmp)))]
        for blur in args.blurs:
            cases = list(synthetic_cases(hr_dirs, s, 0, blur=blur))
            fixed, sigma = best_fixed_gaussian([c.kernel for c in cases], s)
            fixed_err = float(np.mean([kernel_error(fixed, c.kernel) for c in cases]))
            rows[blur] = {"fixed_sigma": round(sigma, 2), "fixed_error": fixed_err}
            for method in args.kernels_only:
                t0 = time.perf_counter()
                errs = [kernel_error(estimate_kernel(c.lr, s, EstimateConfig(method=method)).kernel, c.kernel)
                        for c in cases]
                rows[blur][method] = {"error": float(np.mean(errs)), "ratio": float(np.mean(errs)) / fixed_err,
                                      "seconds": round((time.perf_counter() - t0) / len(cases), 1)}
                print(blur, method, rows[blur][method], flush=True)
    lines = ["Each estimator's mean kernel error / the best fixed Gaussian's (seconds an image):", "",
             f"| blur | fixed Gaussian's error | {' | '.join(args.kernels_only)} |",
             "|---|---|" + "---|" * len(args.kernels_only)]
    for blur, r in rows.items():
        cells = [f"{r[m]['ratio']:.2f} ({r[m]['seconds']} s)" for m in args.kernels_only]
        lines.append(f"| {blur} | {r['fixed_error']:.5f} | " + " | ".join(cells) + " |")
    print(f"x{s}, {machine_description()}, {datetime.date.today()}")
    print("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-s", "--scale", type=int, default=2, choices=(2, 4))
    ap.add_argument("--blurs", nargs="+", default=["disk", "motion"], choices=["disk", "motion", "gaussian"])
    ap.add_argument("--hr", nargs="*", default=[], help="HR folders (default: scikit-image's photos)")
    ap.add_argument("-o", "--output", default="docs/results")
    ap.add_argument("--name", default="")
    ap.add_argument("--kernels-only", nargs="+", metavar="METHOD", default=None,
                    choices=["gaussian", "recurrence", "gaussian+recurrence"],
                    help="no training: each estimator's kernel error against the fixed Gaussian's, per blur")
    args = ap.parse_args()
    s = args.scale
    if args.kernels_only:
        return kernel_errors(args)
    cfg = preset("fast").replace(method="zssr")
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        hr_dirs = args.hr or [str(make_folder("skimage", Path("."), Path(tmp)))]
        for blur in args.blurs:
            cases = list(synthetic_cases(hr_dirs, s, 0, blur=blur))
            fixed, sigma = best_fixed_gaussian([c.kernel for c in cases], s)
            per_image = []
            for case in cases:
                est = estimate_kernel(case.lr, s)
                row = {"image": case.name, "kernel_error": {"estimate": kernel_error(est.kernel, case.kernel),
                                                            "fixed": kernel_error(fixed, case.kernel)},
                       "confidence": est.confidence}
                for name, kernel in (("estimate", est.kernel), ("fixed", fixed), ("true", case.kernel)):
                    t0 = time.perf_counter()
                    sr = upscale(case.lr, s, kernel=kernel, config=cfg, seed=0, noise=0.0, jpeg="off").image
                    row[name] = round(psnr_y(quantize(sr), case.hr, s), 3)
                    row[f"{name}_s"] = round(time.perf_counter() - t0, 1)
                per_image.append(row)
                print(blur, {k: v for k, v in row.items() if not k.endswith("_s")}, flush=True)
            mean = {k: round(float(np.mean([r[k] for r in per_image])), 3) for k in ("estimate", "fixed", "true")}
            err = {k: float(np.mean([r["kernel_error"][k] for r in per_image])) for k in ("estimate", "fixed")}
            rows[blur] = {"n": len(per_image), "fixed_sigma": round(sigma, 2), "mean": mean, "kernel_error": err,
                          "images": per_image}
    command = " ".join(["benchmarks/nongaussian.py", *sys.argv[1:]])
    out = {"date": datetime.date.today().isoformat(), "machine": machine_description(), "command": command,
           "scale": s, "sets": args.hr or ["scikit-image photos"], "blurs": rows}
    name = args.name or f"nongaussian_x{s}"
    folder = Path(args.output)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(out, indent=1, default=float))
    lines = [f"# Non-Gaussian blurs, x{s} ({out['date']})", "",
             f"ZSSR (fast preset) given the estimated kernel, the best fixed Gaussian, and the true kernel; mean "
             f"Y-PSNR in dB on {', '.join(out['sets'])}. Machine: {out['machine']}. Command: `{command}`.", "",
             "| blur | n | estimate | best fixed Gaussian (sigma) | true kernel | estimate - fixed | true - estimate |"
             " kernel error: estimate / fixed |", "|---|---|---|---|---|---|---|---|"]
    for blur, r in rows.items():
        m, e = r["mean"], r["kernel_error"]
        lines.append(f"| {blur} | {r['n']} | {m['estimate']:.2f} | {m['fixed']:.2f} ({r['fixed_sigma']}) | {m['true']:.2f} | "
                     f"{m['estimate'] - m['fixed']:+.2f} | {m['true'] - m['estimate']:+.2f} | "
                     f"{e['estimate'] / e['fixed']:.2f} |")
    (folder / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
