"""PSNR against training iterations and seconds: when does a net reach its plateau?

    .venv/bin/python benchmarks/train_curve.py --synthetic .devdata/div2k20 --limit 4 --crop 640 \
        --configs "hr=net.space=hr" "lr=" --iters 800 -o Q --name train_curve_x2

One network per image and configuration (the teacher with its preprocessing module, `--net zssr` for
ZSSR's plain net), trained on the image's own pairs with the estimated kernel (estimated once per
image); every 50 iterations (each evaluation of the lr policy) its one-pass output on the whole input
is scored against the ground truth (Y-PSNR). The seconds exclude the scoring.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

import solosr.train as train_mod
from solosr.bench import config_with, config_with_text, machine_description, synthetic_cases
from solosr.config import DEFAULT_PRESET, preset
from solosr.distill import train_teacher
from solosr.estimate import estimate_kernel
from solosr.infer import apply_net
from solosr.metrics import psnr_y, quantize


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--synthetic", nargs="+", required=True)
    ap.add_argument("-s", "--scale", type=int, default=2)
    ap.add_argument("--configs", nargs="+", required=True, help="NAME=STAGE.FIELD=VALUE,...")
    ap.add_argument("--net", default="teacher", choices=["teacher", "zssr"])
    ap.add_argument("--iters", type=int, default=800)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--crop", type=int, default=0)
    ap.add_argument("-o", "--output", default="docs/results")
    ap.add_argument("--name", required=True)
    args = ap.parse_args()
    cases = list(synthetic_cases(args.synthetic, args.scale, 0, crop=args.crop))
    cases = cases[:args.limit] if args.limit else cases
    curves: dict[str, dict[str, list]] = {}
    real_evaluate = train_mod.evaluate
    dev = torch.device("cpu")
    for case in cases:
        k = estimate_kernel(case.lr, args.scale).kernel
        lr = torch.from_numpy(np.ascontiguousarray(case.lr.transpose(2, 0, 1)))
        for text in args.configs:
            name, _, changes = text.partition("=")
            cfg = config_with_text(preset(DEFAULT_PRESET), [c for c in changes.split(",") if c])
            cfg = config_with(cfg, train={"max_iters": args.iters, "pixels_per_iter": 0.0})
            points, holder = [], {}
            scoring = [0.0]
            t_start = time.perf_counter()

            def evaluate(net, *a, **kw):
                value = real_evaluate(net, *a, **kw)
                t0 = time.perf_counter()
                with torch.no_grad():
                    sr = apply_net(net, lr, args.scale, tile=0, amp=cfg.infer.amp, device=dev).clamp(0, 1)
                net.train()
                p = psnr_y(quantize(sr.numpy().transpose(1, 2, 0)), case.hr, args.scale)
                scoring[0] += time.perf_counter() - t0
                holder.setdefault("n", 0)
                holder["n"] += 1
                points.append((holder["n"] * cfg.train.eval_every, round(time.perf_counter() - t_start - scoring[0], 2),
                               round(p, 3)))
                return value

            train_mod.evaluate = evaluate
            try:
                torch.manual_seed(0)
                train_teacher(lr, k, args.scale, cfg.replace(method="teacher"), torch.Generator().manual_seed(0), dev,
                              pre=args.net == "teacher")
            finally:
                train_mod.evaluate = real_evaluate
            curves.setdefault(name, {})[case.name] = points
            print(name, case.name, points, flush=True)
    meta = {"date": datetime.date.today().isoformat(), "machine": machine_description(),
            "command": "python benchmarks/train_curve.py " + " ".join(sys.argv[1:]), "configs": args.configs}
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}.json").write_text(json.dumps({"meta": meta, "curves": curves}, indent=1))
    lines = [f"## {args.name}", "", f"{meta['date']}, {meta['machine']}", "", f"Command: `{meta['command']}`", "",
             "Mean over the images of the one-pass Y-PSNR (dB) and training seconds at each evaluation "
             "(a run that stopped early keeps its last value):", ""]
    for name, per_image in curves.items():
        n = max(len(p) for p in per_image.values())
        lines += [f"**{name}**", "", "| iteration | seconds | Y-PSNR |", "|---|---|---|"]
        for j in range(n):
            pts = [p[min(j, len(p) - 1)] for p in per_image.values()]
            lines.append(f"| {(j + 1) * 50} | {np.mean([q[1] for q in pts]):.1f} | {np.mean([q[2] for q in pts]):.2f} |")
        lines.append("")
    (out / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
