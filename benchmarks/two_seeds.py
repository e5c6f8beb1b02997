"""Is the mean of two runs' outputs (training seeds 0 and 1) better than either run?

    .venv/bin/python benchmarks/two_seeds.py --synthetic ../shared/data/hr/set5 -s 2 -m zssr -o FILE

Each image's kernel is estimated once and given to both runs, so the runs differ only in their crops
and initial weights. This bounded what averaging teachers (`distill.teachers`, since removed) could give the soft target.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from solosr.bench import machine_description, synthetic_cases
from solosr.config import preset
from solosr.estimate import estimate_kernel
from solosr.metrics import psnr_y, quantize
from solosr.pipeline import upscale


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--synthetic", nargs="+", required=True)
    ap.add_argument("-s", "--scale", type=int, default=2)
    ap.add_argument("-m", "--method", default="zssr")
    ap.add_argument("-p", "--preset", default="fast")
    ap.add_argument("-o", "--output", required=True, help="the JSON file to write")
    args = ap.parse_args()
    s, cfg = args.scale, preset(args.preset).replace(method=args.method)
    rows = []
    for case in synthetic_cases(args.synthetic, s, 0):
        kernel = estimate_kernel(case.lr, s).kernel
        outputs, seconds = [], []
        for seed in (0, 1):
            t0 = time.perf_counter()
            r = upscale(case.lr, s, kernel=kernel, config=cfg, seed=seed, noise=0.0, jpeg="off", device="cpu")
            seconds.append(time.perf_counter() - t0)
            outputs.append(r.image)
        p0, p1 = (psnr_y(quantize(o), case.hr, s) for o in outputs)
        mean = psnr_y(quantize((outputs[0] + outputs[1]) / 2), case.hr, s)
        rows.append({"image": case.name, "seed0": p0, "seed1": p1, "mean_of_outputs": mean, "seconds": seconds})
        print(f"{case.name:<26} {p0:.2f} {p1:.2f} mean of outputs {mean:.2f}", flush=True)
    means = {k: float(np.mean([r[k] for r in rows])) for k in ("seed0", "seed1", "mean_of_outputs")}
    meta = {"date": time.strftime("%Y-%m-%d"), "machine": machine_description(), "scale": s,
            "method": args.method, "preset": args.preset, "synthetic": args.synthetic}
    out = Path(args.output)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps({"meta": meta, "mean": means, "images": rows}, indent=1))
    tmp.replace(out)
    print(means)


if __name__ == "__main__":
    main()
