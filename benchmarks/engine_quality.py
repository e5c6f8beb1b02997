"""Quality and seconds of whole `upscale` runs, one configuration against another, per image.

    .venv/bin/python benchmarks/engine_quality.py --synthetic .devdata/div2k20 -s 2 --limit 10 \
        --configs "hr=net.space=hr" "new=" -o docs/results --name engine_x2_div2k

Each configuration is the default preset with "STAGE.FIELD=VALUE" changes (comma-separated;
`method=zssr` names the method, `preset=NAME` starts from another preset). Synthetic cases: every HR
image degraded by its own DIV2KRK-protocol kernel (seed 0, as `solosr bench`); the kernel is estimated (the same estimate for every
configuration: estimation is deterministic). Mean Y-PSNR / SSIM (DIV2KRK protocol) and seconds per
image; every image's figures in the JSON. `--resume` keeps the rows already in the JSON.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np

from solosr.bench import config_with_text, machine_description, synthetic_cases
from solosr.config import DEFAULT_PRESET, preset
from solosr.metrics import psnr_y, quantize, ssim_y
from solosr.pipeline import upscale


def parse_config(text: str):
    name, _, changes = text.partition("=")
    cfg = preset(DEFAULT_PRESET)
    items = [c for c in changes.split(",") if c]
    for item in items:
        if item.startswith("preset="):
            cfg = preset(item.split("=", 1)[1])
        elif item.startswith("method="):
            cfg = cfg.replace(method=item.split("=", 1)[1])
        else:
            cfg = config_with_text(cfg, [item])
    return name, changes, cfg


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--synthetic", nargs="+", required=True)
    ap.add_argument("-s", "--scale", type=int, default=2)
    ap.add_argument("--configs", nargs="+", required=True)
    ap.add_argument("--limit", type=int, default=0, help="only the first N images (from --start)")
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--crop", type=int, default=0, help="cut each HR image to its middle CROP x CROP first")
    ap.add_argument("--seed", type=int, default=0, help="the training seed")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("-o", "--output", default="docs/results")
    ap.add_argument("--name", required=True)
    args = ap.parse_args()
    configs = [parse_config(c) for c in args.configs]
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    jpath = out / f"{args.name}.json"
    rows = json.loads(jpath.read_text())["rows"] if args.resume and jpath.exists() else []
    have = {(r["image"], r["config"]) for r in rows}
    meta = {"date": datetime.date.today().isoformat(), "machine": machine_description(),
            "command": "python benchmarks/engine_quality.py " + " ".join(sys.argv[1:]),
            "configs": {n: c for n, c, _ in configs}, "scale": args.scale, "training_seed": args.seed}
    cases = list(synthetic_cases(args.synthetic, args.scale, 0, crop=args.crop))
    cases = cases[args.start:args.start + args.limit] if args.limit else cases[args.start:]
    for case in cases:
        for name, _, cfg in configs:
            if (case.name, name) in have:
                continue
            t0 = time.perf_counter()
            r = upscale(case.lr, args.scale, kernel="auto", config=cfg, seed=args.seed, device="cpu")
            sec = time.perf_counter() - t0
            sr = quantize(r.image)
            row = {"image": case.name, "config": name, "input": list(case.lr.shape[:2]),
                   "psnr": round(psnr_y(sr, case.hr, args.scale), 3), "ssim": round(ssim_y(sr, case.hr, args.scale), 4),
                   "seconds": round(sec, 1), "timings": {k: round(v, 2) for k, v in r.timings.items()}}
            rows.append(row)
            print(row, flush=True)
            jpath.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    jpath.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    names = [n for n, _, _ in configs]
    images = [c.name for c in cases]
    by = {(r["image"], r["config"]): r for r in rows}
    lines = [f"## {args.name}", "", f"{meta['date']}, {meta['machine']}", "", f"Command: `{meta['command']}`", "",
             "Configurations (the default preset with): " + "; ".join(f"**{n}** `{c or '(as it is)'}`"
                                                                   for n, c, _ in configs), "",
             "| config | mean Y-PSNR | mean SSIM | s / image | vs first | ahead of first |", "|---|---|---|---|---|---|"]
    base = names[0]
    for n in names:
        rs = [by[(i, n)] for i in images if (i, n) in by]
        if not rs:
            continue
        p = np.mean([r["psnr"] for r in rs])
        diffs = [by[(r["image"], n)]["psnr"] - by[(r["image"], base)]["psnr"] for r in rs if (r["image"], base) in by]
        lines.append(f"| {n} | {p:.2f} | {np.mean([r['ssim'] for r in rs]):.4f} | "
                     f"{np.mean([r['seconds'] for r in rs]):.1f} | {np.mean(diffs):+.2f} | "
                     f"{sum(d > 0 for d in diffs)}/{len(diffs)} |")
    lines += ["", "| image | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for i in images:
        lines.append(f"| {i} | " + " | ".join(f"{by[(i, n)]['psnr']:.2f} ({by[(i, n)]['seconds']:.0f} s)"
                                               if (i, n) in by else "" for n in names) + " |")
    (out / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
