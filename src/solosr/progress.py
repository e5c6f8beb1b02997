"""Progress for people: a line or a bar per stage, and a rough time for a large input. Printing only;
the pipeline reports (stage, done, total) through its `progress` callback."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from .imageio import Picture

# The pipeline's progress callback: (stage, done, total).
Progress = Callable[[str, int, int], None]

# A rough run-time model for the up-front estimate of a large input (fast preset, 2 threads, AVX2 fp32):
# seconds = fixed + per_hr_mp * output megapixels, fitted to docs/results/fast_engine_epyc.md (320x320 at
# x2, 256x256 at x4; x3 between, not measured) and docs/studies/fast_engine.md section 8 (3000x2000 and
# 6000x4000 at x2: 94-102 s and 190 s, which this puts at 83 and 227).
_ESTIMATE_FIXED_S = {2: 35.0, 3: 50.0, 4: 70.0}
_ESTIMATE_PER_HR_MP_S = 2.0
LARGE_INPUT_PIXELS = 2_000_000


# Peak memory: about this much plus this much per output megapixel: the float result and its 8-bit copy at
# writing; the rest is bounded (4096x4096 and 6000x4000 at x2, the fast preset: 1927 and 2468 MiB,
# docs/studies/fast_engine.md section 8).
_MEMORY_BASE_MIB = 585.0
_MEMORY_PER_OUTPUT_MP_MIB = 20.0


def rough_memory_gib(h: int, w: int, scale: int) -> float:
    """About the peak memory of one h x w input at `scale` (fast preset), in GiB."""
    return (_MEMORY_BASE_MIB + _MEMORY_PER_OUTPUT_MP_MIB * h * w * scale * scale / 1e6) / 1024


def available_memory_gib() -> float | None:
    """Memory the system can give without swapping (Linux's MemAvailable), in GiB; None where unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024**2
    except (OSError, ValueError, IndexError):
        pass
    return None


def rough_seconds(h: int, w: int, scale: int, threads: int) -> float:
    """About how long the fast preset takes for an h x w input on `threads` AVX2 cores (no bf16)."""
    serial = _ESTIMATE_FIXED_S[scale] + _ESTIMATE_PER_HR_MP_S * h * w * scale * scale / 1e6
    return serial * 2 / max(1, threads)


class StageBar:
    """Follows the pipeline's (stage, done, total) callbacks: tqdm bars on a terminal ("bar"), or,
    when the output is piped or logged ("lines"), a line per stage and one every `every` seconds
    with the stage's progress and the time left; None: silent."""

    def __init__(self, label: str, mode: str | None, position: int = 0, every: float = 60.0):
        self.label, self.mode, self.position, self.every = label, mode, position, every
        self.bar: Any = None  # a tqdm bar while a stage runs in "bar" mode
        self.stage: str | None = None
        self.t_stage, self.t_line = 0.0, 0.0

    def announce(self, pic: Picture, scale: int, cfg) -> None:
        """Before the work: for a large input, about how long it will take and how much memory; a warning
        (even when quiet) where that memory is more than the system has free."""
        h, w = pic.size
        if h * w < LARGE_INPUT_PIXELS:
            return
        import torch

        need, free = rough_memory_gib(h, w, scale), available_memory_gib()
        if self.mode is not None:
            minutes = rough_seconds(h, w, scale, torch.get_num_threads()) / 60
            print(f"solosr: {self.label}: {w}x{h} ({h * w / 1e6:.1f} MP) -> x{scale}: a large input; roughly "
                  f"{minutes:.0f} min and {need:.1f} GiB of memory with the fast preset on "
                  f"{torch.get_num_threads()} AVX2 threads (less time with bf16 or a GPU, more with a slower "
                  f"preset)", file=sys.stderr, flush=True)
        if free is not None and need > free:
            print(f"solosr: warning: {self.label}: needs roughly {need:.1f} GiB of memory and {free:.1f} GiB is "
                  f"free: the run may be stopped for lack of memory", file=sys.stderr, flush=True)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.mode == "bar":
            self._bar(stage, done, total)
        elif self.mode == "lines":
            self._line(stage, done, total)

    def _bar(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=total, desc=f"{self.label} {stage}", unit="it" if stage != "infer" else "tile",
                            leave=False, dynamic_ncols=True, position=self.position)
        self.bar.total = total
        self.bar.update(done - self.bar.n)

    def _line(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage != self.stage:
            self.stage, self.t_stage, self.t_line = stage, now, now
            what = {"kernel": "estimating the kernel", "infer": "inference"}.get(stage, f"training {stage}")
            print(f"solosr: {self.label}: {what}" + (f" ({total} iterations)" if stage not in ("kernel", "infer")
                                                    else ""), file=sys.stderr, flush=True)
        elif now - self.t_line >= self.every and 0 < done < total:
            self.t_line = now
            spent = now - self.t_stage
            print(f"solosr: {self.label}: {stage} {done}/{total}, {spent:.0f} s, about "
                  f"{spent * (total - done) / done:.0f} s left", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        self.stage = None


def progress_mode(quiet: bool) -> str | None:
    """tqdm bars on a terminal; plain lines when stderr is piped or logged; nothing with --quiet."""
    if quiet:
        return None
    return "bar" if sys.stderr.isatty() else "lines"
