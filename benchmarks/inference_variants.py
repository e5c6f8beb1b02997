"""Is kd's gain its soft target's inference? One trained net per image and method, scored with each inference.

    .venv/bin/python benchmarks/inference_variants.py --synthetic .devdata/div2k -s 2 -m zssr -o FILE.json

The student's soft target is its teacher's self-ensemble with 2 back-projection steps
(`distill.target_ensemble`, `target_backprojection`); at the fast preset both ZSSR and the student then
run one pass. Here each method trains once per image, exactly as `upscale` trains it (estimated kernel,
noise-free sons, training seed --seed), and its net is applied six ways: one pass (the preset's); with
2 back-projection steps ("BP"); the ensemble over all 8 rotations/flips (the ensemble before
`infer.ensemble_tolerance`), with and without BP; and the ensemble over the rotations/flips that keep the
estimated kernel ("kernel's", the ensemble now), with and without BP. "ZSSR, kernel's + BP" against
"kd, one pass" asks whether distillation adds anything beyond teaching the student that inference.

Each inference is also scored one step down, inside the image: it upscales the input's son (the input
blurred with its kernel estimate and subsampled) and is compared with the input. "Picked by the son" is
the HR PSNR of the inference that does best there, an image-internal choice a user's run could make.

The JSON (and the Markdown table beside it) is rewritten after every image, so a run cut short keeps
what it finished; `--start N` skips the first N images, `--merge A.json B.json ...` joins such runs.
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

from solosr.bench import machine_description, synthetic_cases
from solosr.config import preset
from solosr.imageio import picture_from_array
from solosr.infer import kernel_symmetries, super_resolve
from solosr.metrics import psnr_y, quantize
from solosr.pipeline import resolve_kernel, train_method
from solosr.resize import degrade

INFERENCES = {  # name: (ensemble, ensemble_tolerance, back-projection steps)
    "one pass": (False, 0.1, 0),
    "BP": (False, 0.1, 2),
    "all 8": (True, 1.0, 0),
    "all 8 + BP": (True, 1.0, 2),
    "kernel's": (True, 0.1, 0),
    "kernel's + BP": (True, 0.1, 2),
}


def run_case(case, scale: int, methods: list[str], base, seed: int, dev: torch.device) -> dict:
    """{method: {"train_seconds", "infer_seconds": {inference: s}, "psnr": {inference: dB}}} for one image."""
    pic, _ = picture_from_array(case.lr)
    t0 = time.perf_counter()
    k = resolve_kernel("auto", scale, pic.pixels)
    k_seconds = time.perf_counter() - t0
    lr = torch.from_numpy(np.ascontiguousarray(pic.pixels.transpose(2, 0, 1)))
    son = degrade(lr[None], k, scale)[0]  # the input one step down, blurred with its own kernel estimate
    out = {"kernel_symmetries": kernel_symmetries(k, scale, 0.1)}
    for method in methods:
        cfg = base.replace(method=method, pairs=dataclasses.replace(base.pairs, noise_sigma=0.0, jpeg_quality=0))
        gen = torch.Generator().manual_seed(seed)
        t0 = time.perf_counter()
        net, _ = train_method(lr, k, scale, cfg, seed, gen, dev)
        entry = {"train_seconds": k_seconds + time.perf_counter() - t0, "psnr": {}, "infer_seconds": {},
                 "son_psnr": {}}
        for name, (ensemble, tolerance, bp) in INFERENCES.items():
            infer = dataclasses.replace(cfg.infer, ensemble=ensemble, ensemble_tolerance=tolerance,
                                        backprojection_iters=bp)
            t0 = time.perf_counter()
            sr = super_resolve(net, lr, scale, k, infer, device=dev)
            entry["infer_seconds"][name] = time.perf_counter() - t0
            entry["psnr"][name] = psnr_y(quantize(sr.numpy().transpose(1, 2, 0)), case.hr, scale)
            sr_son = super_resolve(net, son, scale, k, infer, device=dev)
            entry["son_psnr"][name] = psnr_y(quantize(sr_son.numpy().transpose(1, 2, 0)), pic.pixels, scale)
        out[method] = entry
        print(case.name, method, {n: round(p, 2) for n, p in entry["psnr"].items()},
              f"train {entry['train_seconds']:.0f} s", flush=True)
    return out


def table(meta: dict, images: dict) -> str:
    methods = list(dict.fromkeys(m for r in images.values() for m in r if m != "kernel_symmetries"))
    lines = [f"## One trained net, six inferences: x{meta['scale']}, {meta['data']} ({len(images)} images)", "",
             f"{meta['date']}, {meta['machine']}; preset {meta['preset']}, training seed {meta['seed']}", "",
             f"Command: `{meta['command']}`", "",
             "| method | " + " | ".join(INFERENCES) + " | train s / image |",
             "|---|" + "---|" * (len(INFERENCES) + 1)]
    for m in methods:
        rs = [r[m] for r in images.values() if m in r]
        cells = [f"{np.mean([r['psnr'][n] for r in rs]):.2f}" for n in INFERENCES]
        seconds = np.mean([r["train_seconds"] for r in rs])
        lines.append(f"| {m} ({len(rs)} images) | " + " | ".join(cells) + f" | {seconds:.0f} |")
    scored = {m: [r[m] for r in images.values() if "son_psnr" in r.get(m, {})] for m in methods}
    if any(scored.values()):
        lines += ["", "Chosen inside the image: each inference also upscales the input's son (the input "
                  "degraded once more with its kernel estimate) and is scored against the input. Mean son-level "
                  "Y-PSNR, and the HR Y-PSNR of the inference the son picks against the best in hindsight:", "",
                  "| method | " + " | ".join(INFERENCES) + " | picked by the son | best per image |",
                  "|---|" + "---|" * (len(INFERENCES) + 2)]
        for m, rs in scored.items():
            if rs:
                cells = [f"{np.mean([r['son_psnr'][n] for r in rs]):.2f}" for n in INFERENCES]
                lines.append(f"| {m} ({len(rs)} images) | " + " | ".join(cells)
                             + f" | {np.mean([picked(r) for r in rs]):.2f} | "
                             + f"{np.mean([max(r['psnr'].values()) for r in rs]):.2f} |")
    lines += ["", "Per image (Y-PSNR dB, " + " / ".join(INFERENCES) + "; the son's pick):", ""]
    for name, r in images.items():
        lines.append(f"- {name} (kernel's transforms {r['kernel_symmetries']}): "
                     + "; ".join(f"{m} " + " / ".join(f"{r[m]['psnr'][n]:.2f}" for n in INFERENCES)
                                 + (f" (son picks {pick(r[m])})" if "son_psnr" in r[m] else "")
                                 for m in methods if m in r))
    return "\n".join(lines) + "\n"


def pick(entry: dict) -> str:
    """The inference whose upscaled son is closest to the input (ties: the cheaper, listed first)."""
    return max(INFERENCES, key=lambda n: round(entry["son_psnr"][n], 3))


def picked(entry: dict) -> float:
    return entry["psnr"][pick(entry)]


def write(path: Path, meta: dict, images: dict) -> None:
    for p, text in ((path, json.dumps({"meta": meta, "images": images}, indent=1)), (path.with_suffix(".md"),
                                                                                      table(meta, images))):
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_text(text)
        tmp.replace(p)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--synthetic", nargs="+")
    ap.add_argument("-s", "--scale", type=int, default=2)
    ap.add_argument("-m", "--methods", default="zssr,kd", help="comma-separated: zssr, kd, teacher")
    ap.add_argument("-p", "--preset", default="fast")
    ap.add_argument("--seed", type=int, default=0, help="the training's seed (the data's kernels are seed 0)")
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--merge", nargs="+", metavar="JSON", help="join earlier runs' JSON files into -o")
    ap.add_argument("-o", "--output", required=True, help="JSON file (the Markdown table goes beside it)")
    args = ap.parse_args()
    out = Path(args.output)
    if args.merge:
        parts = [json.loads(Path(f).read_text()) for f in args.merge]
        images = {}
        for part in parts:
            for name, r in part["images"].items():
                images.setdefault(name, {}).update(r)
        meta = dict(parts[0]["meta"], command="`; `".join(dict.fromkeys(p["meta"]["command"] for p in parts)))
        write(out, meta, images)
        print(table(meta, images))
        return
    if not args.synthetic:
        ap.error("--synthetic is needed (or --merge)")
    methods = [m for m in args.methods.split(",") if m]
    dev = torch.device(args.device)
    meta = {"date": time.strftime("%Y-%m-%d"), "machine": machine_description(), "scale": args.scale,
            "preset": args.preset, "seed": args.seed, "data": ", ".join(Path(d).name for d in args.synthetic),
            "command": f"python benchmarks/inference_variants.py --synthetic {' '.join(args.synthetic)} "
                       f"-s {args.scale} -m {args.methods} -p {args.preset}"
                       + (f" --seed {args.seed}" if args.seed else "") + (f" --start {args.start}" if args.start else "")
                       + (f" --limit {args.limit}" if args.limit else "") + f" -o {out.name}"}
    images: dict[str, dict] = {}
    cases = itertools.islice(synthetic_cases(args.synthetic, args.scale, 0), args.start, args.limit or None)
    for case in cases:
        images[case.name] = run_case(case, args.scale, methods, preset(args.preset), args.seed, dev)
        write(out, meta, images)
    print(table(meta, images))


if __name__ == "__main__":
    main()
