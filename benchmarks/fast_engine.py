"""The fast-engine targets: whole-process seconds, peak RSS and FLOPs of `solosr upscale`, one
configuration against another, in one run on one machine.

    .venv/bin/python benchmarks/fast_engine.py -o docs/results                  # new default vs --net hr
    .venv/bin/python benchmarks/fast_engine.py --avx2 -o docs/results           # as a CPU without bf16
    .venv/bin/python benchmarks/fast_engine.py --cases 320x2 --configs "new=" "hr=--net hr"
    .venv/bin/python benchmarks/fast_engine.py --repeat 3 ...     # median of 3 interleaved runs (shared VMs)

Cases: `320x2` (a 320x320 input, x2; target <= 45 s), `256x4` (256x256, x4; <= 90 s), `3000x2000x2`
(<= 600 s and <= 4 GiB peak RSS). Each input is a crop of a photo scikit-image ships (bicubic-enlarged
where the size needs it), degraded by a DIV2KRK-protocol kernel; the kernel is estimated, as a user's
run does. `/usr/bin/time -v` measures each process after one warm-up run.

`--avx2` runs every process as a CPU with AVX2 and no native bf16 (the targets' machine, most laptops
and VMs): `ATEN_CPU_CAPABILITY=avx2` and `ONEDNN_MAX_CPU_ISA=AVX2` cap torch's kernels, so solosr
computes in fp32 (`device.cpu_has_fast_bf16` reads the cap). On an AVX-512 machine this is close to,
not the same as, a real AVX2 CPU: say which in the table.

FLOPs: the multiply-adds of the convolutions and matrix products (torch's FlopCounterMode, 2 FLOPs
per multiply-add) of one in-process run of the same command, the floor being FLOPs / the CPU's rate.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from solosr.bench import machine_description
from solosr.imageio import Picture, write_image
from solosr.kernels import random_div2krk_kernel
from solosr.metrics import quantize
from solosr.resize import degrade_np, imresize_np

TARGETS = {"320x2": (45, None), "256x4": (90, None), "3000x2000x2": (600, 4096)}
AVX2_ENV = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}


def parse_case(name: str) -> tuple[int, int, int]:
    m = re.fullmatch(r"(\d+)(?:x(\d+))?x(\d)", name)
    if not m:
        raise SystemExit(f"bad case {name!r}: WIDTHxS or WIDTHxHEIGHTxS")
    w = int(m.group(1))
    h = int(m.group(2) or w)
    return w, h, int(m.group(3))


def make_input(w: int, h: int, scale: int, folder: Path) -> Path:
    from skimage import data

    hr = data.astronaut().astype(np.float32) / 255  # 512x512
    need = max(w, h) * scale
    if need > hr.shape[0]:
        hr = imresize_np(hr, need / hr.shape[0])
    hr = hr[: h * scale, : w * scale]
    k = random_div2krk_kernel(scale, np.random.default_rng(0))
    lr = quantize(degrade_np(hr, k, scale)).astype(np.float32)
    path = folder / f"in_{w}x{h}.png"
    write_image(path, Picture(lr))
    return path


# As an AVX2 CPU, an earlier commit (which did not read the cap) is told too: fp32, default layout.
AVX2_PRELUDE = ("import solosr.train as t; t.cpu_has_fast_bf16 = t.cpu_has_avx512 = lambda: False\n"
                "try:\n    import solosr.device as d; d.cpu_has_fast_bf16 = d.cpu_has_avx512 = lambda: False\n"
                "except ImportError:\n    pass\n")
PRELUDE = ""


def solosr_command(path: Path, scale: int, out: Path, extra: list[str]) -> list[str]:
    return [sys.executable, "-c", PRELUDE + "import sys; from solosr.cli import main; sys.exit(main())", "upscale",
            str(path), "-o", str(out), "-s", str(scale), "--overwrite", "-q", *extra]


def timed(cmd: list[str], env: dict) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    return {"wall_s": round(wall, 1), "peak_rss_mib": round(rss_kb / 1024)}


def counted_flops(cmd: list[str], env: dict) -> float:
    """GFLOPs of one run of `cmd` (a `solosr upscale` command line), counted in a child process."""
    code = (PRELUDE + "import sys, torch; from torch.utils.flop_counter import FlopCounterMode; from solosr.cli import main\n"
            "m = FlopCounterMode(display=False)\n"
            "with m: rc = main(sys.argv[1:])\n"
            "print('FLOPS', m.get_total_flops())\n")
    proc = subprocess.run([sys.executable, "-c", code, *cmd[3:]], capture_output=True, text=True, env=env)
    found = re.search(r"FLOPS (\d+)", proc.stdout)
    if proc.returncode != 0 or not found:
        raise RuntimeError(proc.stderr[-2000:])
    return int(found.group(1)) / 1e9


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", nargs="+", default=["320x2", "256x4", "3000x2000x2"])
    ap.add_argument("--configs", nargs="+", default=["new=", "hr=--net hr"],
                    help="NAME=extra upscale options, e.g. 'hr=--net hr'; NAME@SRC=... runs the solosr package "
                         "in SRC (a checkout's src/ folder: an earlier commit as the baseline)")
    ap.add_argument("--avx2", action="store_true", help="run as a CPU with AVX2 and no bf16 (see the docstring)")
    ap.add_argument("--no-flops", action="store_true")
    ap.add_argument("--skip", nargs="*", default=[], help="CONFIG:CASE pairs not to run (too slow to be useful)")
    ap.add_argument("--skip-flops", nargs="*", default=[], help="CONFIG:CASE pairs timed but not counted")
    ap.add_argument("--repeat", type=int, default=1,
                    help="time each process N times, configurations interleaved, and report the median (a shared "
                         "VM's timings move 5-10 %% run to run)")
    ap.add_argument("-o", "--output", default="docs/results")
    ap.add_argument("--name", default="fast_engine")
    args = ap.parse_args()
    global PRELUDE
    env = dict(os.environ, **(AVX2_ENV if args.avx2 else {}))
    PRELUDE = AVX2_PRELUDE if args.avx2 else ""
    configs = [c.split("=", 1) for c in args.configs]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        warm = make_input(64, 64, 2, tmp)
        timed(solosr_command(warm, 2, tmp / "out", ["--iters", "5"]), env)
        for case in args.cases:
            w, h, s = parse_case(case)
            path = make_input(w, h, s, tmp)
            todo = [(c[0].partition("@"), c[1]) for c in configs if f"{c[0].partition('@')[0]}:{case}" not in args.skip]
            runs: dict[str, list[dict]] = {}
            for _ in range(max(1, args.repeat)):  # interleaved: a slow spell of the machine hits every config
                for (name, _, src), extra in todo:
                    run_env = dict(env, PYTHONPATH=src) if src else env
                    runs.setdefault(name, []).append(timed(solosr_command(path, s, tmp / "out", shlex.split(extra)), run_env))
            for (name, _, src), extra in todo:
                run_env = dict(env, PYTHONPATH=src) if src else env
                cmd = solosr_command(path, s, tmp / "out", shlex.split(extra))
                walls = sorted(t["wall_s"] for t in runs[name])
                r = {"case": case, "config": name, "source": src or "this checkout", "options": extra,
                     "wall_s": round(statistics.median(walls), 1), "peak_rss_mib": max(t["peak_rss_mib"] for t in runs[name]),
                     **({"wall_s_all": walls} if len(walls) > 1 else {})}
                if not args.no_flops and w * h <= 512 * 512 and f"{name}:{case}" not in args.skip_flops:
                    r["gflops"] = round(counted_flops(cmd, run_env), 1)
                target_s, target_mib = TARGETS.get(case, (None, None))
                r["target_s"], r["target_mib"] = target_s, target_mib
                rows.append(r)
                print(r, flush=True)
    import torch

    from solosr.device import cpu_compute_path

    meta = {"date": datetime.date.today().isoformat(), "machine": machine_description(),
            "as": "AVX2, no bf16 (capped: ATEN_CPU_CAPABILITY=avx2, ONEDNN_MAX_CPU_ISA=AVX2)" if args.avx2 else
            "the machine as it is", "torch": torch.__version__,
            "compute": cpu_compute_path() if not args.avx2 else "fp32, default layout",
            "command": "python benchmarks/fast_engine.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])}
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    lines = [f"## {args.name}: {meta['date']}", "", f"{meta['machine']}, torch {meta['torch']}; run as: {meta['as']}; "
             f"nets in {meta['compute']}.", "", f"Command: `{meta['command']}`", "",
             "| case | config | options | wall s (median) | target s | peak RSS MiB | GFLOPs |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        ok = "" if r["target_s"] is None else (" met" if r["wall_s"] <= r["target_s"] else " missed")
        mem = f"{r['peak_rss_mib']}" + ("" if r["target_mib"] is None else f" (<= {r['target_mib']})")
        spread = f", runs {r['wall_s_all'][0]}-{r['wall_s_all'][-1]}" if "wall_s_all" in r else ""
        lines.append(f"| {r['case']} | {r['config']} | `{r['options'] or '(default)'}` | {r['wall_s']}{ok}{spread} | "
                     f"{r['target_s'] or ''} | {mem} | {r.get('gflops', '')} |")
    (out / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
