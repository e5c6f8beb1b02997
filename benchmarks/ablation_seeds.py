"""Join ablation runs on the same data with different training seeds (`ablation.py --train-seed`): how far
one run of a row is from another, and whether a difference between two rows outlasts that spread.

    .venv/bin/python benchmarks/ablation_seeds.py docs/results/ablation_x2_cap50.json \\
        docs/results/ablation_x2_cap50_seed1.json docs/results/ablation_x2_cap50_seed2.json \\
        --pair 6,3 --pair 6,3L --pair 5,3 -o docs/results/ablation_x2_cap50_seeds.md

For every row the runs have in common: its mean Y-PSNR in each run, the mean over runs, and the mean
per-image standard deviation across runs. For each `--pair A,B`: the difference A - B in each run, over
all runs (each image's mean over runs), and on how many images A is ahead on that mean.

A run given as `a.json+b.json` is the two files' images together (one run made in parts); files
from different image sets (Set5 and Set14 both have an img_001) key each image by its set, as in
`set5/img_001_SRF_2_HR`. With `--also SUFFIX:R0,R1,...` the rows of a variant's runs (one per run,
same order) join as rows with SUFFIX on their code, e.g. `--also d:v0.json,v1.json,v2.json --pair 6d,6`.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np


def image_set(meta: dict) -> str:
    """The image folders a run's command names after --synthetic, e.g. "set14"."""
    cmd = meta["command"].split("--synthetic ", 1)[-1]
    return "+".join(Path(w).name for w in itertools.takewhile(lambda w: not w.startswith("-"), cmd.split()))


def by_row(path: str, suffix: str = "") -> tuple[dict, dict[str, dict[str, float]], dict[str, str]]:
    """The run's meta, {row code: {image: Y-PSNR}} and {row code: row name}; `path` may join files
    with "+" (the first one's meta)."""
    meta, rows, names = None, {}, {}
    parts = [json.loads(Path(part).read_text()) for part in str(path).split("+")]
    sets = [image_set(d["meta"]) for d in parts]
    # Set5 and Set14 both name their images img_001...: parts from several sets key an image by its set.
    prefix = len(set(sets)) > 1
    for d, set_name in zip(parts, sets):
        meta = meta or d["meta"]
        change = meta["command"].split("--config ")[-1].split(" ")[0] if "--config " in meta["command"] else ""
        for row, entries in d["images"].items():
            code = row.split()[0] + suffix
            names[code] = code + row[len(row.split()[0]):] + (f" ({change})" if suffix and change else "")
            rows.setdefault(code, {}).update({(f"{set_name}/" if prefix else "") + e["image"]: e["psnr"]
                                              for e in entries})
    return meta, {c: r for c, r in rows.items() if r}, names


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="+", help="ablation .json files, one per training seed (a+b: one run in parts)")
    ap.add_argument("--also", action="append", default=[], metavar="SUFFIX:R0,R1,...",
                    help="a variant's runs, one per run above, as rows with SUFFIX on their code")
    ap.add_argument("--pair", action="append", default=[], metavar="A,B", help="rows to compare, e.g. 6,3")
    ap.add_argument("--rows", help="only these rows, e.g. 1,3,6,6d (the images are those every row has)")
    ap.add_argument("-o", "--output", type=Path, required=True, help="the markdown table (a .json beside it)")
    args = ap.parse_args()
    loaded = [by_row(p) for p in args.runs]
    for also in args.also:
        suffix, files = also.split(":", 1)
        files = files.split(",")
        if len(files) != len(loaded):
            raise SystemExit(f"--also {also}: {len(files)} runs for {len(loaded)}")
        for (meta, rows, names), f in zip(loaded, files):
            _, more, more_names = by_row(f, suffix)
            more.pop("1" + suffix, None)  # bicubic: the same in every run
            rows.update(more)
            names.update(more_names)
    runs = [(m, rs) for m, rs, _ in loaded]
    names = loaded[0][2]
    metas = [m for m, _ in runs]
    if len({m["scale"] for m in metas}) != 1:
        raise SystemExit("the runs have different scales")
    rows = [r for r in runs[0][1] if all(r in rs for _, rs in runs)
            and (not args.rows or r in args.rows.split(","))]
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
             + "".join(f" --also {a}" for a in args.also) + (f" --rows {args.rows}" if args.rows else "")
             + "".join(f" --pair {q}" for q in args.pair)
             + f" -o {args.output}`", "", "Runs:"]
    lines += [f"- seed {s}: `{m['command']}`" for s, m in zip(seeds, metas)]
    for also in args.also:
        suffix, files = also.split(":", 1)
        lines += [f"- rows with suffix {suffix}: " + ", ".join(f"`{f}`" for f in files.split(","))]
    lines += ["", f"| row | {head} | mean | per-image spread (std over runs) |",
              "|---|" + "---|" * (len(runs) + 2)]
    for r in rows:
        p = psnr[r]
        spread = float(p.std(axis=0, ddof=1).mean()) if len(runs) > 1 else float("nan")
        lines.append(f"| {names[r]} | " + " | ".join(f"{v:.2f}" for v in p.mean(axis=1)) + f" | {p.mean():.2f} | "
                     + (f"{spread:.2f}" if len(runs) > 1 else "-") + " |")
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
