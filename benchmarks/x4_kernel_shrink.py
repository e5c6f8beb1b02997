"""The estimated kernel narrowed (or widened): does a too-wide estimate cost the most?

    .venv/bin/python benchmarks/x4_kernel_shrink.py --synthetic .devdata/div2k --limit 5 --shrink 0.95 -m zssr -o FILE
    .venv/bin/python benchmarks/x4_kernel_shrink.py -s 2 --synthetic ../shared/data/hr/set5 --shrink 0.95 -o FILE

For each synthetic case (DIV2KRK-protocol kernels, seed 0) the kernel is estimated once (with
`EstimateConfig.x4_width = 1`, whatever the default: the plain estimate); `upscale`
then runs with it as estimated (shrink 1) and with it stretched by each `--shrink` factor about its centre
(`kernels.warp_kernel`). At x4 (two x2 steps) the x2 kernel is stretched and composed to x4. Prints and
writes the Y-PSNR, the RMS radius of each kernel against the true one, and seconds.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import numpy as np

import solosr
from solosr.bench import machine_description, synthetic_cases
from solosr.estimate import EstimateConfig, estimate_kernel
from solosr.kernels import compose_x2_to_x4, rms_radius, warp_kernel
from solosr.metrics import psnr_y, quantize


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--synthetic", nargs="+", required=True)
    ap.add_argument("-s", "--scale", type=int, default=4, choices=(2, 4))
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--start", type=int, default=0, help="skip the first START cases (of the first LIMIT)")
    ap.add_argument("--shrink", type=float, nargs="+", default=[0.95])
    ap.add_argument("--skip-plain", action="store_true", help="run only the --shrink factors, not the estimate as found")
    ap.add_argument("-m", "--methods", default="zssr")
    ap.add_argument("-p", "--preset", default="fast")
    ap.add_argument("-o", "--output", default="")
    args = ap.parse_args()
    rows = []
    s = args.scale
    for case in itertools.islice(synthetic_cases(args.synthetic, s, 0), args.start, args.limit or None):
        est = estimate_kernel(case.lr, s, EstimateConfig(x4_width=1.0))  # the plain estimate: --shrink is on top
        for f in args.shrink if args.skip_plain else [1.0, *args.shrink]:
            if s == 4:
                k2 = est.kernel_x2 if f == 1.0 else warp_kernel(est.kernel_x2, 2, f * np.eye(2))
                k, extra = compose_x2_to_x4(k2), {"kernel_x2": k2}
            else:
                k, extra = (est.kernel if f == 1.0 else warp_kernel(est.kernel, 2, f * np.eye(2))), {}
            for method in args.methods.split(","):
                t0 = time.perf_counter()
                r = solosr.upscale(case.lr, scale=s, kernel=k, method=method, preset=args.preset,
                                   noise=0, jpeg="off", seed=0, **extra)
                row = {"image": case.name, "method": method, "shrink": f, "psnr": psnr_y(quantize(r.image), case.hr, s),
                       "radius": rms_radius(k), "true_radius": rms_radius(case.kernel),
                       "seconds": time.perf_counter() - t0}
                rows.append(row)
                print({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}, flush=True)
                if args.output:
                    meta = {"date": time.strftime("%Y-%m-%d"), "machine": machine_description(),
                            "preset": args.preset, "scale": s, "synthetic": args.synthetic, "limit": args.limit,
                            "start": args.start}
                    Path(args.output).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
