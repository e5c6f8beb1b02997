"""Issue 5: every real image through `solosr upscale` at x2 and x4, formats checked, NIQE per image.

    .venv/bin/python benchmarks/real_images.py ../shared/data/real -p fast -o docs/results

Methods: bicubic; the ZSSR baseline (`--method zssr --kernel bicubic --noise 0 --jpeg off`, i.e. the
original ZSSR); solosr (`--method kd`, estimated kernel, noise/JPEG-aware sons: the defaults). Each
trained method runs as the user would run it, one `solosr upscale` batch per group of files, with
`--report`; `--jobs N` runs N such processes at once (on a GPU machine; on a 2-core CPU keep 1).
Outputs must keep the input's kind: gray stays gray, alpha stays, 16-bit stays 16-bit, same container.
NIQE (lower is better) is scored on the colour or gray pixels, alpha left out. `--crops NAME,...`
copies those images' side-by-side crops (input | bicubic | solosr) next to the table.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from solosr.bench import machine_description
from solosr.imageio import IMAGE_SUFFIXES
from solosr.imageio import read_image
from solosr.niqe import niqe
from solosr.resize import imresize_np

METHODS = {
    "zssr": ["--method", "zssr", "--kernel", "bicubic", "--noise", "0", "--jpeg", "off"],
    "solosr": ["--method", "kd"],
}


def describe(pic) -> dict:
    return {"channels": int(pic.pixels.shape[-1]), "alpha": pic.alpha is not None, "bit_depth": int(pic.bit_depth)}


def score(pixels: np.ndarray) -> float | None:
    try:
        return round(niqe(pixels), 4)
    except ValueError:
        return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("-p", "--preset", default="fast")
    ap.add_argument("--iters", type=int, default=0)
    ap.add_argument("--scales", default="2,4")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--work", default="bench_out/real", help="where the upscaled images and reports go")
    ap.add_argument("-o", "--output", default="docs/results")
    ap.add_argument("--crops", default="", help="comma-separated image stems whose side-by-side crops to keep")
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    root, work, out = Path(args.root), Path(args.work), Path(args.output)
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    files = files[: args.limit or None]
    scales = [int(s) for s in args.scales.split(",")]
    env = dict(os.environ, OMP_NUM_THREADS=str(max(1, (os.cpu_count() or 2) // args.jobs)),
               PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parents[1] / "src"),
                                           os.environ.get("PYTHONPATH", "")]))
    commands = []
    for s in scales:
        for m, flags in METHODS.items():
            for j in range(args.jobs):
                group = files[j::args.jobs]
                if group:
                    commands.append((s, m, [sys.executable, "-m", "solosr.cli", "upscale", *map(str, group),
                                            "-o", str(work / f"x{s}" / m), "-s", str(s), "-p", args.preset,
                                            "--device", args.device, "--report", str(work / f"x{s}" / f"{m}_report"),
                                            "--overwrite", "-q", *flags,
                                            *(["--iters", str(args.iters)] if args.iters else [])]))

    def launch(job):
        s, m, cmd = job
        t0 = time.perf_counter()
        p = subprocess.run(cmd, env=env, capture_output=True, text=True)
        print(f"x{s} {m}: exit {p.returncode} in {time.perf_counter() - t0:.0f} s", flush=True)
        return s, m, p.returncode, p.stderr

    t0 = time.perf_counter()
    with ThreadPoolExecutor(args.jobs) as pool:
        runs = list(pool.map(launch, commands))
    wall = time.perf_counter() - t0
    errors = [line for *_, err in runs for line in err.splitlines() if "error" in line]

    rows = []
    for f in files:
        pic = read_image(f)
        rel = str(f.relative_to(root))
        row = {"image": rel, "size": f"{pic.pixels.shape[1]}x{pic.pixels.shape[0]}", **describe(pic)}
        for s in scales:
            bic = imresize_np(pic.pixels, s)
            row[f"x{s}"] = {"bicubic": score(bic)}
            for m in METHODS:
                dst = work / f"x{s}" / m / f"{f.stem}_x{s}{f.suffix.lower()}"
                if not dst.exists():
                    row[f"x{s}"][m] = None
                    row.setdefault("problems", []).append(f"x{s} {m}: no output")
                    continue
                res = read_image(dst)
                if describe(res) != describe(pic) or res.pixels.shape[:2] != (pic.pixels.shape[0] * s,
                                                                                pic.pixels.shape[1] * s):
                    row.setdefault("problems", []).append(f"x{s} {m}: output {describe(res)} "
                                                          f"{res.pixels.shape[:2]} differs from input")
                row[f"x{s}"][m] = score(res.pixels)
                rep = work / f"x{s}" / f"{m}_report" / f.stem / "run.json"
                if rep.exists():
                    info = json.loads(rep.read_text())
                    row[f"x{s}"][f"{m}_seconds"] = round(info["timings"]["total"], 1)
                    if m == "solosr":
                        k = info["kernel"]
                        row[f"x{s}"]["noise_255"] = round(k.get("noise_sigma", 0) * 255, 1)
                        row[f"x{s}"]["jpeg"] = k.get("jpeg")
                        row[f"x{s}"]["fallback"] = k.get("fallback")
        rows.append(row)
        print(rel, {f"x{s}": row[f"x{s}"] for s in scales}, flush=True)

    mean = {}
    for s in scales:
        for m in ("bicubic", *METHODS):
            vals = [r[f"x{s}"][m] for r in rows if r[f"x{s}"].get(m) is not None]
            mean[f"x{s}/{m}"] = float(np.mean(vals)) if vals else None
    wins = {s: sum(1 for r in rows if None not in (r[f"x{s}"].get("solosr"), r[f"x{s}"].get("zssr"))
                   and r[f"x{s}"]["solosr"] < r[f"x{s}"]["zssr"]) for s in scales}
    meta = {"date": datetime.date.today().isoformat(), "machine": machine_description(), "device": args.device,
            "preset": args.preset, "iters": args.iters or "preset", "jobs": args.jobs, "wall_seconds": round(wall),
            "command": " ".join(["python benchmarks/real_images.py", args.root, "-p", args.preset]
                                + [f"--iters {args.iters}"] * bool(args.iters) + [f"--device {args.device}"]
                                + [f"--jobs {args.jobs}"] + [f"--crops {args.crops}"] * bool(args.crops))}
    out.mkdir(parents=True, exist_ok=True)
    (out / "real_images.json").write_text(json.dumps({"meta": meta, "mean_niqe": mean, "errors": errors,
                                                      "images": rows}, indent=1))
    problems = [f"{r['image']}: {p}" for r in rows for p in r.get("problems", [])]
    lines = [f"## Real images ({len(rows)}), x{' and x'.join(map(str, scales))}: formats and NIQE", "",
             f"{meta['date']}, {meta['machine']}, device {args.device}; preset {args.preset}"
             f"{', ' + str(args.iters) + ' iterations' if args.iters else ''}; {args.jobs} processes at once, "
             f"{meta['wall_seconds']} s in all", "", f"Command: `{meta['command']}`", "",
             "NIQE: lower is more natural (our implementation, standard pristine model). zssr = the original "
             "ZSSR (bicubic kernel, clean sons); solosr = the defaults (estimated kernel, teacher + student, "
             "noise/JPEG-aware sons).", "",
             f"Errors from `solosr upscale`: {len(errors)}. Outputs whose kind (channels, alpha, bit depth, "
             f"size) differs from the input's: {len(problems)}.", ""]
    lines += [f"- {p}" for p in problems] + [f"- {e}" for e in errors]
    lines += ["| mean NIQE | " + " | ".join(f"x{s}" for s in scales) + " |", "|---|" + "---|" * len(scales)]
    for m in ("bicubic", *METHODS):
        lines.append(f"| {m} | " + " | ".join(f"{mean[f'x{s}/{m}']:.3f}" if mean[f"x{s}/{m}"] is not None
                                               else "—" for s in scales) + " |")
    lines += ["", "solosr scores lower (better) than the ZSSR baseline on "
              + ", ".join(f"{wins[s]}/{len(rows)} images at x{s}" for s in scales) + ".", ""]
    head = "| image | size | kind |" + "".join(f" x{s} bicubic | x{s} zssr | x{s} solosr | x{s} noise / fallback |"
                                               for s in scales)
    lines += [head, "|---" * (3 + 4 * len(scales)) + "|"]
    fmt = lambda v: "—" if v is None else f"{v:.2f}"  # noqa: E731
    for r in rows:
        kind = ("gray" if r["channels"] == 1 else "RGB") + ("A" if r["alpha"] else "") + f" {r['bit_depth']}-bit"
        cells = []
        for s in scales:
            x = r[f"x{s}"]
            note = f"{x.get('noise_255', '—')}" + (" JPEG" if x.get("jpeg") else "") + (" (Gaussian)" if x.get("fallback") else "")
            cells += [fmt(x["bicubic"]), fmt(x.get("zssr")), fmt(x.get("solosr")), note]
        lines.append(f"| {r['image']} | {r['size']} | {kind} | " + " | ".join(cells) + " |")
    crops = [c for c in args.crops.split(",") if c]
    if crops:
        (out / "real_crops").mkdir(exist_ok=True)
        lines += ["", "Side-by-side crops (input nearest-neighbour | bicubic | solosr), the most textured window:", ""]
        for c in crops:
            for s in scales:
                src = work / f"x{s}" / "solosr_report" / c / "compare.png"
                if src.exists():
                    shutil.copyfile(src, out / "real_crops" / f"{c}_x{s}.png")
                    lines.append(f"![{c} x{s}](real_crops/{c}_x{s}.png)")
    (out / "real_images.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines[:20]))


if __name__ == "__main__":
    main()
