"""What goes with one ablation row's lead over another, image by image: the input's size, and how far
the kernel estimate is from the true kernel (error, width, and above all elongation).

    .venv/bin/python benchmarks/kd_gain_factors.py docs/results/ablation_x2_div2k_ensbp_w0_xeon.json \\
        docs/results/ablation_x2_div2k_next10_xeon.json docs/results/ablation_x2_div2k_crop256_xeon.json \\
        --pair 6,3 -o docs/results/kd_gain_factors_x2.md

Each run's cases are drawn again from its command (`--synthetic` folders, `--crop`, `--seed`; the
folders must be where the command found them) and the kernel estimated again, as `ablation.py` does
(the estimate is deterministic). The elongation ratio is the estimate's elongation over the true
kernel's (`kernels.elongation`): above 1 the estimate is more stretched than the blur, below 1 rounder.
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import shlex
from pathlib import Path

import numpy as np
from ablation_seeds import by_row

from solosr.bench import machine_description, synthetic_cases
from solosr.estimate import estimate_kernel
from solosr.kernels import elongation, kernel_error, rms_radius


def cases_of(meta: dict):
    """The run's synthetic cases, drawn as its command drew them."""
    words = shlex.split(meta["command"].replace("`", ""))
    folders = list(itertools.takewhile(lambda w: not w.startswith("-"), words[words.index("--synthetic") + 1:]))

    def option(name: str, default: int) -> int:
        return int(words[words.index(name) + 1]) if name in words else default
    return synthetic_cases(folders, meta["scale"], option("--seed", 0), crop=option("--crop", 0))


def binned(images: list[dict], key: str, edges: list[float], pairs: list[str], fmt: str) -> list[str]:
    lines = [f"| {key} | images | " + " | ".join(f"row {p} (ahead)" for p in pairs) + " |",
             "|---|---|" + "---|" * len(pairs)]
    for lo, hi in zip(edges[:-1], edges[1:]):
        part = [e for e in images if lo <= e[key] < hi]
        if part:
            cells = [f"{np.mean([e[p] for e in part]):+.2f} ({sum(e[p] > 0 for e in part)} of {len(part)})" for p in pairs]
            lines.append(f"| {fmt.format(lo)} to {fmt.format(hi)} | {len(part)} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="+", help="ablation .json files (one run each, one scale)")
    ap.add_argument("--pair", action="append", required=True, metavar="A,B", help="rows to compare, e.g. 6,3")
    ap.add_argument("-o", "--output", type=Path, required=True, help="the markdown table (a .json beside it)")
    args = ap.parse_args()
    pairs = [tuple(p.split(",")) for p in args.pair]
    keys = [f"{a}-{b}" for a, b in pairs]
    images = []
    for path in args.runs:
        meta, rows, _ = by_row(path)
        names = set.intersection(*(set(rows[c]) for p in pairs for c in p))
        for case in cases_of(meta):
            if case.name not in names:
                continue
            est = estimate_kernel(case.lr, meta["scale"]).kernel
            h, w = case.lr.shape[:2]
            images.append({"run": Path(path).stem, "image": case.name, "input": f"{w}x{h}", "pixels": h * w,
                           "kernel_error": kernel_error(est, case.kernel),
                           "width_ratio": rms_radius(est) / rms_radius(case.kernel),
                           "elongation_true": elongation(case.kernel), "elongation_estimate": elongation(est),
                           "elongation_ratio": elongation(est) / elongation(case.kernel),
                           **{k: rows[a][case.name] - rows[b][case.name] for k, (a, b) in zip(keys, pairs)}})
            print({k: v for k, v in images[-1].items() if k != "run"}, flush=True)
    command = "python benchmarks/kd_gain_factors.py " + " ".join(args.runs) + "".join(
        f" --pair {a},{b}" for a, b in pairs) + f" -o {args.output}"
    lines = [f"## What goes with kd's lead, per image: {len(images)} images of {len(args.runs)} ablation runs", "",
             f"{datetime.date.today().isoformat()}, {machine_description()} (the kernel estimates; the PSNRs are the runs')", "",
             f"Command: `{command}`", "",
             "| run | image | input | kernel error | width est/true | elongation true | est | est/true | "
             + " | ".join(f"row {k}" for k in keys) + " |", "|---|---|---|---|---|---|---|---|" + "---|" * len(keys)]
    for e in images:
        lines.append(f"| {e['run']} | {e['image']} | {e['input']} | {e['kernel_error']:.5f} | {e['width_ratio']:.3f} | "
                     f"{e['elongation_true']:.2f} | {e['elongation_estimate']:.2f} | {e['elongation_ratio']:.2f} | "
                     + " | ".join(f"{e[k]:+.2f}" for k in keys) + " |")
    lines += ["", *binned(images, "elongation_ratio", [0, 0.95, 1.05, np.inf], keys, "{:.2f}"), "",
              *binned(images, "pixels", [0, 20000, 40000, 80000, np.inf], keys, "{:,.0f}"), ""]
    for k in keys:
        gains = np.array([e[k] for e in images])
        for factor in ("elongation_ratio", "width_ratio", "kernel_error", "pixels"):
            x = np.array([e[factor] for e in images], dtype=np.float64)
            x = np.log(x) if factor.endswith("ratio") else x
            lines.append(f"- row {k} against {'log ' if factor.endswith('ratio') else ''}{factor}: "
                         f"correlation {np.corrcoef(x, gains)[0, 1]:+.2f} over {len(images)} images")
    text = "\n".join(lines) + "\n"
    args.output.write_text(text)
    args.output.with_suffix(".json").write_text(json.dumps({"runs": args.runs, "pairs": keys, "images": images},
                                                           indent=1))
    print(text)


if __name__ == "__main__":
    main()
