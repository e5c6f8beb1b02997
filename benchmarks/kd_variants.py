"""Issue 4's search for a better teacher and student: variants measured on the same images.

    # teacher variants: each trained once per image; its single-pass output (T), its self-ensemble
    # with 2 back-projection steps (E, the student's soft target) and the student made from it (S)
    .venv/bin/python benchmarks/kd_variants.py teachers -s 2 --synthetic ../shared/data/hr/set5 \\
        -v "distill.teacher_pre_depth=0" -v "" -v "distill.teacher_pre_lr=0.1"
    # student variants, all distilled from one default teacher per image (T: that teacher, one pass)
    .venv/bin/python benchmarks/kd_variants.py students -s 2 --synthetic ../shared/data/hr/set5 \\
        -v "" -v "distill.target_backprojection=8,distill.w_cycle=4" -v "distill.w_out=4,distill.w_feat=0"

A variant is a comma-separated list of STAGE.FIELD=VALUE changes to the preset ("" is the preset).
Kernels are estimated (the default search); synthetic images with DIV2KRK-protocol kernels, seed 0.
Prints per-image and mean Y-PSNR and seconds (training, plus the teacher's for S); writes JSON with -o.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import time
from pathlib import Path

import numpy as np
import torch

from solosr.bench import config_with_text, machine_description, synthetic_cases
from solosr.config import preset
from solosr.distill import train_student, train_teacher
from solosr.estimate import estimate_kernel
from solosr.infer import super_resolve
from solosr.metrics import psnr_y, quantize


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("teachers", "students"))
    ap.add_argument("-v", "--variant", action="append", required=True, dest="variants",
                    help="STAGE.FIELD=VALUE,... ('' for the preset itself); repeatable")
    ap.add_argument("--synthetic", nargs="+", required=True)
    ap.add_argument("-s", "--scale", type=int, default=2)
    ap.add_argument("-p", "--preset", default="fast")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--shard", default="0/1", help="K/N: only the images K, K+N, K+2N, ... (one process each)")
    ap.add_argument("-o", "--output", default="")
    args = ap.parse_args()
    s, base, dev = args.scale, preset(args.preset), torch.device(args.device)
    k_shard, n_shard = (int(x) for x in args.shard.split("/"))
    results: dict[str, dict[str, tuple[float, float]]] = {}

    def score(case, sr: torch.Tensor) -> float:
        return psnr_y(quantize(sr.cpu().numpy().transpose(1, 2, 0)), case.hr, s)

    cases = itertools.islice(synthetic_cases(args.synthetic, s, 0), args.limit or None)
    for case in itertools.islice(cases, k_shard, None, n_shard):
        lr = torch.from_numpy(np.ascontiguousarray(case.lr.transpose(2, 0, 1)))
        k = estimate_kernel(case.lr, s).kernel
        r = results.setdefault(case.name, {})
        if args.mode == "teachers":
            for v in args.variants:
                cfg = config_with_text(base, filter(None, v.split(",")))
                torch.manual_seed(0)
                gen = torch.Generator().manual_seed(0)
                t0 = time.perf_counter()
                teacher, _ = train_teacher(lr, k, s, cfg, gen, dev, pre=cfg.distill.teacher_pre_depth > 0)
                t = time.perf_counter() - t0
                r[f"T {v}"] = (score(case, super_resolve(teacher, lr, s, k, cfg.infer, device=dev)), t)
                target = dataclasses.replace(cfg.infer, ensemble=True, backprojection_iters=2,
                                             ensemble_tolerance=cfg.distill.target_ensemble_tolerance)
                r[f"E {v}"] = (score(case, super_resolve(teacher, lr, s, k, target, device=dev)), t)
                torch.manual_seed(0)
                t0 = time.perf_counter()
                student, _ = train_student(lr, k, s, cfg, teacher, gen, dev)
                r[f"S {v}"] = (score(case, super_resolve(student, lr, s, k, cfg.infer, device=dev)),
                               t + time.perf_counter() - t0)
                print(case.name, v, {x: (round(r[f"{x} {v}"][0], 2), round(r[f"{x} {v}"][1], 1)) for x in "TES"},
                      flush=True)
        else:
            torch.manual_seed(0)
            gen = torch.Generator().manual_seed(0)
            t0 = time.perf_counter()
            teacher, _ = train_teacher(lr, k, s, base, gen, dev)
            r["T"] = (score(case, super_resolve(teacher, lr, s, k, base.infer, device=dev)), time.perf_counter() - t0)
            state = gen.get_state()
            for v in args.variants:
                cfg = config_with_text(base, filter(None, v.split(",")))
                gen.set_state(state)
                torch.manual_seed(0)
                t0 = time.perf_counter()
                student, _ = train_student(lr, k, s, cfg, teacher, gen, dev)
                r[f"S {v}"] = (score(case, super_resolve(student, lr, s, k, cfg.infer, device=dev)),
                               time.perf_counter() - t0)
        print(case.name, {key: (round(p, 2), round(t, 1)) for key, (p, t) in r.items()}, flush=True)
    mean = {key: [float(np.mean([r[key][i] for r in results.values()])) for i in (0, 1)]
            for key in next(iter(results.values()))}
    for key, (p, t) in mean.items():
        print(f"{key:<70} {p:.3f} dB {t:.1f} s")
    if args.output:
        meta = {"date": time.strftime("%Y-%m-%d"), "machine": machine_description(), "mode": args.mode,
                "scale": s, "preset": args.preset, "device": args.device, "shard": args.shard,
                "images": len(results), "variants": args.variants}
        Path(args.output).write_text(json.dumps({"meta": meta, "mean": mean, "images": results}, indent=1))


if __name__ == "__main__":
    main()
