"""Does the internal validation loss tell a good training run from a bad one? For one synthetic image,
per training seed: the teacher's and ZSSR's last internal validation L1 (son -> father, what a run can
see) beside their Y-PSNR against the HR image (what it cannot).

    .venv/bin/python benchmarks/teacher_val.py ../shared/data/hr/set5 --image 0 --seeds 0,1,2

The teacher is trained as `ablation.py` trains it (row 5), ZSSR as row 3, so the PSNRs match those
tables' runs with the same --train-seed.
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np
import torch

from solosr.bench import synthetic_cases
from solosr.config import preset
from solosr.distill import train_teacher
from solosr.estimate import estimate_kernel
from solosr.infer import super_resolve
from solosr.metrics import psnr_y, quantize
from solosr.pipeline import upscale


def last_val(history: list[dict]) -> float:
    return [e["val_l1"] for e in history if "val_l1" in e][-1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("synthetic", help="a folder of HR images (made synthetic with DIV2KRK kernels, seed 0)")
    ap.add_argument("--image", type=int, default=0, help="the image's place in the folder")
    ap.add_argument("-s", "--scale", type=int, default=2)
    ap.add_argument("-p", "--preset", default="fast")
    ap.add_argument("--seeds", default="0,1,2", help="training seeds")
    args = ap.parse_args()
    base, s, dev = preset(args.preset), args.scale, torch.device("cpu")
    case = next(itertools.islice(synthetic_cases([args.synthetic], s, 0), args.image, None))
    k = estimate_kernel(case.lr, s).kernel
    lr = torch.from_numpy(np.ascontiguousarray(case.lr.transpose(2, 0, 1)))
    print(f"{case.name} x{s}, preset {args.preset}\n| seed | net | internal val L1 | Y-PSNR |\n|---|---|---|---|")
    for seed in (int(v) for v in args.seeds.split(",")):
        torch.manual_seed(seed)
        teacher, history = train_teacher(lr, k, s, base, torch.Generator().manual_seed(seed), dev)
        sr = super_resolve(teacher, lr, s, k, base.infer, device=dev).cpu().numpy().transpose(1, 2, 0)
        print(f"| {seed} | teacher | {last_val(history):.5f} | {psnr_y(quantize(sr), case.hr, s):.2f} |", flush=True)
        r = upscale(case.lr, s, kernel=k, config=base.replace(method="zssr"), seed=seed, noise=0.0, jpeg="off",
                    device="cpu")
        print(f"| {seed} | zssr | {last_val(r.history):.5f} | {psnr_y(quantize(r.image), case.hr, s):.2f} |", flush=True)


if __name__ == "__main__":
    main()
