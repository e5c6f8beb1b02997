"""GPU speed of `solosr upscale` (CUDA path), and how throughput scales with processes sharing the GPU.

    python3 benchmarks/gpu_probe.py          # on a machine with a CUDA GPU (benchmarks/gpu_run.sh smoke)

Inputs are made as in speed.py. Each figure is one whole `solosr upscale -s 2 --device cuda` process
(start-up and CUDA initialisation included), after one warm-up run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from speed import make_input


def upscale_cmd(path: Path, out: Path, preset: str, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "solosr.cli", "upscale", str(path), "-o", str(out), "-s", "2", "-p", preset,
            "--device", "cuda", "--overwrite", "-q", *extra]


def timed(cmds: list[list[str]], env: dict) -> float:
    t0 = time.perf_counter()
    procs = [subprocess.Popen(c, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in cmds]
    for p in procs:
        _, err = p.communicate()
        if p.returncode:
            raise RuntimeError(err[-1500:])
    return time.perf_counter() - t0


def main() -> None:
    env = dict(os.environ, OMP_NUM_THREADS="2")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        inputs = {s: make_input(s, tmp) for s in (128, 256, 512, 1024)}
        timed([upscale_cmd(inputs[128], tmp / "w", "fast", ["--iters", "20"])], env)  # warm-up
        print("| preset | input | wall s |\n|---|---|---|")
        for preset, size in (("fast", 256), ("fast", 512), ("balanced", 512), ("fast", 1024), ("best", 512)):
            sec = timed([upscale_cmd(inputs[size], tmp / "o", preset, [])], env)
            print(f"| {preset} | {size}x{size} | {sec:.1f} |", flush=True)
        print("\nProcesses sharing the GPU (each: fast preset, 128x128, zssr, 300 iterations):")
        base = None
        for n in (1, 4, 8):
            cmds = [upscale_cmd(inputs[128], tmp / f"p{i}", "fast", ["-m", "zssr", "--iters", "300"])
                    for i in range(n)]
            sec = timed(cmds, env)
            base = base or sec
            print(f"{n} processes: {sec:.1f} s wall, throughput {n * base / sec:.2f}x one process", flush=True)


if __name__ == "__main__":
    main()
