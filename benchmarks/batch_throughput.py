"""Batch throughput by engine: images per hour for eight small photos through `solosr upscale`, and what
Ray adds per task, on one machine in one run.

    .venv/bin/python benchmarks/batch_throughput.py -o docs/results

Engines (the fast preset, x2, each command a fresh process, its wall time whole: start-up included):
`local --jobs 1` (one image at a time on every core), `local --jobs 2` (two at once, the cores split),
`ray` (a Ray started by the command on this machine, one CPU per image) and `ray --threads 2`.

Ray's per-task overhead: on a warm local Ray, a tiny image's task (one training iteration) is sent
again and again; overhead = round trip - the pipeline's own seconds (scheduling, sending the input and
the encoded output, the worker's temporary files). Also: starting and stopping a local Ray, and the first
task on a fresh worker (imports).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
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
from solosr.resize import degrade_np

ENGINES = {"local --jobs 1": [], "local --jobs 2": ["--jobs", "2"], "ray": ["--engine", "ray"],
           "ray --threads 2": ["--engine", "ray", "--threads", "2"]}


def make_inputs(folder: Path, n: int, side: int) -> list[Path]:
    """n LR photos of side x side: crops of scikit-image's photos, blurred by DIV2KRK kernels, x2 down."""
    from skimage import data

    photos = [data.astronaut(), data.coffee(), data.rocket(), data.immunohistochemistry()]
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        hr = photos[i % len(photos)].astype(np.float32) / 255
        y = int(rng.integers(0, hr.shape[0] - 2 * side + 1))
        x = int(rng.integers(0, hr.shape[1] - 2 * side + 1))
        k = random_div2krk_kernel(2, rng)
        lr = quantize(degrade_np(hr[y:y + 2 * side, x:x + 2 * side], k, 2)).astype(np.float32)
        paths.append(folder / f"photo{i}.png")
        write_image(paths[-1], Picture(lr))
    return paths


def run_engine(folder: Path, out: Path, extra: list[str]) -> dict:
    cmd = [sys.executable, "-m", "solosr.cli", "upscale", str(folder), "-o", str(out), "--overwrite", *extra]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    per_image = [float(s) for s in re.findall(r"\((\d+\.\d+) s: train", proc.stdout)]
    return {"wall_s": round(wall, 1), "images": len(per_image), "image_s_mean": round(statistics.mean(per_image), 1)}


def ray_overhead(folder: Path, repeats: int) -> dict:
    import ray

    from solosr.batch import Settings, _ray_task
    from solosr.bench import config_with
    from solosr.config import preset

    tiny = folder / "tiny.png"
    write_image(tiny, Picture(np.random.default_rng(1).random((32, 32, 3)).astype(np.float32)))
    data = tiny.read_bytes()
    cfg = config_with(preset("fast"), train={"max_iters": 1, "min_iters": 1, "eval_every": 1})
    settings = Settings(scale=2, config=cfg, kernel="bicubic")
    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
             _node_ip_address="127.0.0.1")
    start_s = time.perf_counter() - t0
    task = ray.remote(num_cpus=1)(_ray_task)
    trips = []
    for _ in range(repeats + 1):
        t0 = time.perf_counter()
        outcome = ray.get(task.remote(str(tiny), data, "tiny_x2.png", settings, 1))
        trips.append((time.perf_counter() - t0, outcome.timings["total"]))
    t0 = time.perf_counter()
    ray.shutdown()
    stop_s = time.perf_counter() - t0
    warm = [trip - work for trip, work in trips[1:]]
    return {"start_s": round(start_s, 2), "stop_s": round(stop_s, 2),
            "first_task_overhead_s": round(trips[0][0] - trips[0][1], 2),
            "task_overhead_s_median": round(statistics.median(warm), 3), "task_overhead_s_max": round(max(warm), 3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=8)
    ap.add_argument("--side", type=int, default=160, help="LR side of each photo")
    ap.add_argument("--engines", nargs="+", default=list(ENGINES), choices=list(ENGINES))
    ap.add_argument("--repeats", type=int, default=10, help="warm tasks timed for Ray's overhead")
    ap.add_argument("-o", "--output", default="docs/results")
    ap.add_argument("--name", default="batch_throughput")
    args = ap.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "in").mkdir()
        make_inputs(tmp / "in", args.images, args.side)
        for name in args.engines:
            rows[name] = run_engine(tmp / "in", tmp / "out", ENGINES[name])
            rows[name]["images_per_hour"] = round(args.images * 3600 / rows[name]["wall_s"])
            print(name, rows[name], flush=True)
        overhead = ray_overhead(tmp, args.repeats)
        print("ray overhead", overhead, flush=True)
    result = {"machine": machine_description(), "date": datetime.date.today().isoformat(),
              "command": " ".join(["benchmarks/batch_throughput.py", *sys.argv[1:]]),
              "images": args.images, "side": args.side, "engines": rows, "ray_overhead": overhead}
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}.json").write_text(json.dumps(result, indent=1))
    lines = [f"# Batch throughput by engine ({result['date']})", "",
             f"Machine: {result['machine']}. Command: `{result['command']}`.", "",
             f"{args.images} photos of {args.side}x{args.side}, x2, fast preset; each command a fresh process, "
             "its whole wall time (Python and Ray start-up included).", "",
             "| engine | wall s | images / hour | s / image (pipeline, mean) |", "|---|---|---|---|"]
    lines += [f"| {name} | {r['wall_s']} | {r['images_per_hour']} | {r['image_s_mean']} |" for name, r in rows.items()]
    o = overhead
    lines += ["", f"Ray on this machine: start {o['start_s']} s, stop {o['stop_s']} s; a task's overhead (round trip - "
              f"pipeline) {o['task_overhead_s_median']} s median, {o['task_overhead_s_max']} s max over {args.repeats} "
              f"warm tasks; the first task on a fresh worker {o['first_task_overhead_s']} s (imports).", ""]
    (out / f"{args.name}.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
