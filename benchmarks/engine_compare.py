"""One table of the new default against the last default, per set and per image (Markdown + JSON).

    .venv/bin/python benchmarks/engine_compare.py --set "DIV2K photos x2" new_x2_div2k20.json:new \
        old:docs/results/ablation_x2_div2k_ensbp_w0_xeon.json:6 old:docs/results/ablation_x2_div2k_next10_xeon.json:6 \
        --set ... -o docs/results --name fast_engine_quality

Each `--set` names a set of images and its sources: `FILE:CONFIG` (an `engine_quality.py` JSON and the
configuration in it) is the new figures; `old:FILE:ROW` (an `ablation.py` JSON and the row number) or
`old:FILE:CONFIG` (an `engine_quality.py` JSON) the last default's. Images are matched by name.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

import numpy as np


def load(spec: str) -> dict[str, dict]:
    """{image: {"psnr", "ssim", "seconds"}} from FILE:CONFIG or FILE:ROW."""
    path, _, key = spec.rpartition(":")
    data = json.loads(Path(path).read_text())
    if "rows" in data:  # engine_quality.py
        return {r["image"]: r for r in data["rows"] if r["config"] == key}
    row = next(name for name in data["images"] if name.split(" ", 1)[0] == key)  # ablation.py
    return {r["image"]: r for r in data["images"][row]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", nargs="+", action="append", required=True, metavar="NAME SOURCE...")
    ap.add_argument("-o", "--output", default="docs/results")
    ap.add_argument("--name", default="fast_engine_quality")
    args = ap.parse_args()
    sets = []
    for name, *sources in args.set:
        new, old = {}, {}
        for src in sources:
            (old if src.startswith("old:") else new).update(load(src.removeprefix("old:")))
        images = [i for i in new if i in old]
        sets.append({"set": name, "images": [{"image": i, "old": {k: old[i][k] for k in ("psnr", "ssim", "seconds")},
                                              "new": {k: new[i][k] for k in ("psnr", "ssim", "seconds")}}
                                             for i in images]})
    meta = {"date": datetime.date.today().isoformat(),
            "command": "python benchmarks/engine_compare.py " + " ".join(sys.argv[1:])}
    out = Path(args.output)
    (out / f"{args.name}.json").write_text(json.dumps({"meta": meta, "sets": sets}, indent=1))
    lines = [f"Command: `{meta['command']}`", "",
             "| images | n | last default Y-PSNR | new default Y-PSNR | new - last | new ahead | last s / image | "
             "new s / image |", "|---|---|---|---|---|---|---|---|"]
    for s in sets:
        o = np.array([r["old"]["psnr"] for r in s["images"]])
        n = np.array([r["new"]["psnr"] for r in s["images"]])
        so = np.mean([r["old"]["seconds"] for r in s["images"]])
        sn = np.mean([r["new"]["seconds"] for r in s["images"]])
        lines.append(f"| {s['set']} | {len(o)} | {o.mean():.2f} | {n.mean():.2f} | {n.mean() - o.mean():+.2f} | "
                     f"{int((n > o).sum())}/{len(o)} | {so:.0f} | {sn:.0f} |")
    for s in sets:
        lines += ["", f"**{s['set']}**", "", "| image | last | new | new - last |", "|---|---|---|---|"]
        lines += [f"| {r['image']} | {r['old']['psnr']:.2f} | {r['new']['psnr']:.2f} | "
                  f"{r['new']['psnr'] - r['old']['psnr']:+.2f} |" for r in s["images"]]
    (out / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
