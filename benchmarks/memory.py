"""Peak memory of `solosr upscale -s 2` against input size (issue 5: <= 4 GiB at 2048x2048, growing no
faster than the output pixel count).

    .venv/bin/python benchmarks/memory.py --sizes 512 1024 2048 4096 -o docs/results   # the default preset

(`docs/results/memory.md` was made so, 2026-12-08: 5 min on 2 cores.)

Whole-process peak RSS from `/usr/bin/time -v`, inputs made as in speed.py. Training is cut to
`--iters` iterations: its memory does not grow with its length (fixed-size crops), so this measures
what a full run peaks at in far less time; wall times here are therefore not the presets' times.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
from pathlib import Path

from speed import make_input, timed_upscale

from solosr.bench import machine_description
from solosr.config import DEFAULT_PRESET


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", nargs="+", type=int, default=[512, 1024, 2048])
    ap.add_argument("-p", "--preset", default=DEFAULT_PRESET)
    ap.add_argument("--iters", type=int, default=100)
    ap.add_argument("-o", "--output", default="docs/results")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for size in args.sizes:
            path = make_input(size, tmp)
            r = {"size": size, "output_mpix": round((2 * size) ** 2 / 1e6, 2),
                 **timed_upscale(path, args.preset, tmp / "out", ["--iters", str(args.iters)])}
            rows.append(r)
            print(r, flush=True)
            path.unlink()
    base = rows[0]
    for r in rows:
        r["rss_growth"] = round(r["peak_rss_mib"] / base["peak_rss_mib"], 2)
        r["pixel_growth"] = round(r["output_mpix"] / base["output_mpix"], 2)
    meta = {"date": datetime.date.today().isoformat(), "machine": machine_description(), "preset": args.preset,
            "iters": args.iters, "command": "python benchmarks/memory.py " + " ".join(sys.argv[1:])}
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / "memory.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    lines = ["## Peak memory against input size", "", f"{meta['date']}, {meta['machine']}", "",
             f"Command: `{meta['command']}`", "",
             f"`solosr upscale -s 2 -p {args.preset} --iters {args.iters}` on one image, whole process "
             "(`/usr/bin/time -v`). Training memory does not depend on its length; wall times are for the "
             "shortened run.", "",
             "| input | output Mpx | peak RSS MiB | RSS growth | output-pixel growth | wall s |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['size']}x{r['size']} | {r['output_mpix']} | {r['peak_rss_mib']} | {r['rss_growth']}x | "
              f"{r['pixel_growth']}x | {r['wall_s']} |" for r in rows]
    (out / "memory.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
