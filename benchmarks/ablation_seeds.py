"""Join ablation runs on the same data with different training seeds (`ablation.py --train-seed`): how far
one run of a row is from another, and whether a difference between two rows outlasts that spread.

    .venv/bin/python benchmarks/ablation_seeds.py docs/results/ablation_x2_cap50.json \\
        docs/results/ablation_x2_cap50_seed1.json docs/results/ablation_x2_cap50_seed2.json \\
        --pair 6,3 --pair 6,3L --pair 5,3 -o docs/results/ablation_x2_cap50_seeds.md

For every row the runs have in common: its mean Y-PSNR in each run, the mean over runs, and the mean
per-image standard deviation across runs. For each `--pair A,B`: the difference A - B in each run, over
all runs (each image's mean over runs), and on how many images A is ahead on that mean.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def by_row(path: Path) -> tuple[dict, dict[str, dict[str, float]], dict[str, str]]:
    """The run's meta, {row code: {image: Y-PSNR}} and {row code: row name}."""
    d = json.loads(path.read_text())
    rows = {row.split()[0]: {e["image"]: e["psnr"] for e in entries} for row, entries in d["images"].items() if entries}
    return d["meta"], rows, {row.split()[0]: row for row in d["images"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="+", type=Path, help="ablation .json files, one per training seed")
    ap.add_argument("--pair", action="append", default=[], metavar="A,B", help="rows to compare, e.g. 6,3")
    ap.add_argument("-o", "--output", type=Path, required=True, help="the markdown table (a .json beside it)")
    args = ap.parse_args()
    loaded = [by_row(p) for p in args.runs]
    runs = [(m, rs) for m, rs, _ in loaded]
    names = loaded[0][2]
    metas = [m for m, _ in runs]
    if len({m["scale"] for m in metas}) != 1:
        raise SystemExit("the runs have different scales")
    rows = [r for r in runs[0][1] if all(r in rs for _, rs in runs)]
    images = sorted(set.intersection(*(set(rs[r]) for _, rs in runs for r in rows)))
    if not images:
        raise SystemExit("no image has every row in every run")
    # psnr[row] is runs x images
    psnr = {r: np.array([[rs[r][i] for i in images] for _, rs in runs]) for r in rows}
    seeds = [m.get("train_seed", 0) for m in metas]
    head = " | ".join(f"seed {s}" for s in seeds)
    lines = [f"## Ablation over training seeds, x{metas[0]['scale']}: {len(images)} images, {len(runs)} runs",
             "", f"{metas[-1]['date']}, {metas[-1]['machine']}; preset {metas[0]['preset']}, iterations "
             f"{metas[0]['iters']}. The data (images, kernels) are the same in every run; the training seed "
             "(crops, initial weights) differs.", "",
             "Command: `python benchmarks/ablation_seeds.py " + " ".join(str(p) for p in args.runs)
             + "".join(f" --pair {q}" for q in args.pair) + f" -o {args.output}`", "", "Runs:"]
    lines += [f"- seed {s}: `{m['command']}`" for s, m in zip(seeds, metas)]
    lines += ["", f"| row | {head} | mean | per-image spread (std over runs) |",
              "|---|" + "---|" * (len(runs) + 2)]
    for r in rows:
        p = psnr[r]
        spread = float(p.std(axis=0, ddof=1).mean()) if len(runs) > 1 else float("nan")
        lines.append(f"| {names[r]} | " + " | ".join(f"{v:.2f}" for v in p.mean(axis=1)) + f" | {p.mean():.2f} | {spread:.2f} |")
    pairs = {}
    if args.pair:
        lines += ["", f"| difference | {head} | mean | images ahead (on the mean over runs) |",
                  "|---|" + "---|" * (len(runs) + 2)]
    for pair in args.pair:
        a, b = pair.split(",")
        if a not in psnr or b not in psnr:
            raise SystemExit(f"--pair {pair}: not a row every run has ({', '.join(rows)})")
        diff = psnr[a] - psnr[b]
        per_image = diff.mean(axis=0)
        ahead = int((per_image > 0).sum())
        pairs[f"{a}-{b}"] = {"per_run": diff.mean(axis=1).tolist(), "mean": float(diff.mean()),
                             "per_image": dict(zip(images, per_image.tolist())), "ahead": ahead}
        lines.append(f"| {a} - {b} | " + " | ".join(f"{v:+.2f}" for v in diff.mean(axis=1))
                     + f" | {diff.mean():+.2f} | {ahead} of {len(images)} |")
    lines += ["", "Per image, mean over runs (Y-PSNR dB):", "", "| image | " + " | ".join(rows) + " |",
              "|---|" + "---|" * len(rows)]
    for j, name in enumerate(images):
        lines.append(f"| {name} | " + " | ".join(f"{psnr[r][:, j].mean():.2f}" for r in rows) + " |")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines) + "\n")
    args.output.with_suffix(".json").write_text(json.dumps(
        {"runs": [str(p) for p in args.runs], "seeds": seeds, "images": images,
         "psnr": {r: p.tolist() for r, p in psnr.items()}, "pairs": pairs}, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
