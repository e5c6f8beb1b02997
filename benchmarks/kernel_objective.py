"""Does the kernel estimator's objective prefer the true kernel? (docs/studies/kernel_objective.md)

    .venv/bin/python benchmarks/kernel_objective.py --set div2k     # the first 16 DIV2KRK dev images
    .venv/bin/python benchmarks/kernel_objective.py --set motion    # scikit-image photos, motion blur

For each image: the patch-recurrence objective (`estimate.RecurrenceObjective`, the default
`EstimateConfig`, on the 512x512 luminance centre crop the estimator uses) at the estimated kernel and at
the true one, on the same query and database patches; the estimate's RMS radius over the truth's; and,
given the true kernel's exact shape, which of the widths 0.85-1.17x the objective prefers. x2, kernels only.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from solosr.bench import folder_cases, machine_description, synthetic_cases
from solosr.config import EstimateConfig
from solosr.estimate import RecurrenceObjective, estimate_kernel, luminance
from solosr.kernels import kernel_error, warp_kernel

sys.path.insert(0, str(Path(__file__).parent))
from headline import make_folder  # noqa: E402


def rms_radius(k: np.ndarray) -> float:
    k = k / k.sum()
    yy, xx = np.mgrid[0:k.shape[0], 0:k.shape[1]]
    cy, cx = (k * yy).sum(), (k * xx).sum()
    return float(np.sqrt((k * ((yy - cy) ** 2 + (xx - cx) ** 2)).sum()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", default="div2k", choices=["div2k", "disk", "motion"])
    ap.add_argument("--div2krk", default="../shared/data/div2krk-dev")
    ap.add_argument("-n", type=int, default=16)
    args = ap.parse_args()
    cfg = EstimateConfig()
    with tempfile.TemporaryDirectory() as tmp:
        if args.set == "div2k":
            cases = [c for _, c in zip(range(args.n), folder_cases(args.div2krk, 2))]
        else:
            cases = list(synthetic_cases([str(make_folder("skimage", Path("."), Path(tmp)))], 2, 0, blur=args.set))
        truth_lower, ratios, picks = 0, [], []
        widths = (0.85, 0.92, 1.0, 1.08, 1.17)
        for c in cases:
            lum = luminance(c.lr)
            h, w = lum.shape
            y0, x0 = max(0, (h - cfg.max_side) // 2), max(0, (w - cfg.max_side) // 2)
            obj = RecurrenceObjective(lum[y0:y0 + cfg.max_side, x0:x0 + cfg.max_side], 2, cfg,
                                      np.random.default_rng(cfg.seed))
            est = estimate_kernel(c.lr, 2, cfg).kernel
            at_est, at_true = obj(est), obj(c.kernel)
            truth_lower += at_true < at_est
            ratios.append(rms_radius(est) / rms_radius(c.kernel))
            picks.append(min(widths, key=lambda f: obj(warp_kernel(c.kernel, 2, f * np.eye(2), pad=2))))
            print(f"{c.name}: objective at the estimate {at_est:.5f}, at the truth {at_true:.5f}; "
                  f"radius est/true {ratios[-1]:.3f}; kernel error {kernel_error(est, c.kernel):.4f}; "
                  f"the true shape's preferred width {picks[-1]}x", flush=True)
    print(f"{args.set}, x2, {machine_description()}: the truth scores lower on {truth_lower} of {len(cases)}; "
          f"radius est/true {min(ratios):.2f}-{max(ratios):.2f}, mean {np.mean(ratios):.2f}; the true shape's "
          f"preferred width: " + ", ".join(f"{f}x {picks.count(f)}" for f in widths))


if __name__ == "__main__":
    main()
