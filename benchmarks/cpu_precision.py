"""Seconds per training step of the fast preset's teacher on this CPU, in each precision and memory
layout: which ones `device.uses_bf16` and `device.uses_channels_last` should pick here.

    .venv/bin/python benchmarks/cpu_precision.py            # prints a Markdown table
    .venv/bin/python benchmarks/cpu_precision.py --steps 10

One step: forward, L1 loss, backward and Adam on a batch of the preset (4 crops of 96x96), the teacher
with its preprocessing module. The median of `--steps` steps after one warm-up step.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import time

import torch
import torch.nn.functional as F

from solosr.bench import machine_description
from solosr.config import preset
from solosr.nets import SRNet
from solosr.device import cpu_compute_path


def step_seconds(bf16: bool, channels_last: bool, steps: int) -> float:
    cfg = preset("fast")
    torch.manual_seed(0)
    net = SRNet(3, width=cfg.net.width, depth=cfg.net.depth, pre_depth=cfg.distill.teacher_pre_depth,
                pre_width=cfg.distill.teacher_pre_width)
    crop, batch = cfg.pairs.crop, cfg.pairs.batch
    x, y = torch.rand(batch, 3, crop, crop), torch.rand(batch, 3, crop, crop)
    if channels_last:
        net, x = net.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.train.lr)
    times = []
    for i in range(steps + 1):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = F.l1_loss(net(x).float(), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=5)
    args = ap.parse_args()
    probes = {name: getattr(torch.cpu, name)() for name in dir(torch.cpu) if name.startswith("_is_")}
    print(f"{datetime.date.today().isoformat()}, {machine_description()}")
    print(f"torch.cpu probes: {', '.join(f'{k[4:-10]} {v}' for k, v in probes.items())}")
    print(f"solosr trains on this CPU in {cpu_compute_path()}\n")
    print("| precision | layout | s / step |\n|---|---|---|")
    for bf16 in (False, True):
        for channels_last in (False, True):
            sec = step_seconds(bf16, channels_last, args.steps)
            print(f"| {'bf16 autocast' if bf16 else 'fp32'} | {'channels-last' if channels_last else 'default'} "
                  f"| {sec:.3f} |", flush=True)


if __name__ == "__main__":
    main()
