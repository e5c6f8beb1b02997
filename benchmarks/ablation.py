"""Issue 4's ablation: every stage of the method measured against the pipeline without it.

    .venv/bin/python benchmarks/ablation.py --synthetic ../shared/data/hr/set5 -s 2 --iters 300 -o docs/results

`--iters 0` keeps the preset's own lengths. For a GPU machine: `--device cuda --shard K/N` runs every N-th
image from the K-th (0-based) and writes a shard file; `--merge` then joins the shards into the table.

Rows (synthetic images, DIV2KRK-protocol kernels, seed 0), each mean Y-PSNR / SSIM and seconds per image:
 1 bicubic; 2 ZSSR, bicubic kernel; 3 ZSSR, estimated kernel; 3L the same trained for the wall time
 of row 6; 4 teacher without preprocessing; 5 teacher with preprocessing; 6 full method (student by
 distillation from teacher 5); 7.. row 6 with one distillation term removed; 3T/6T rows 3 and 6 with the
 true kernel. Every network gets --iters iterations (the student: distill.student_iters times that); the
 teacher of rows 6.. is row 5's, trained once per image. Inference is the preset's for every row.
 Row 3L trains without the training-length cap (`train.pixels_per_iter`), until row 6's seconds are spent.

`--via-pipeline` runs every row through `upscale` (at x4: two x2 steps, the default); there rows 4 and
7-10 are `upscale` calls with the preprocessing or one loss term switched off, each training its own
teacher.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import time
from pathlib import Path

import numpy as np
import torch

from solosr.bench import config_with, config_with_text, machine_description, synthetic_cases
from solosr.config import preset
from solosr.distill import train_student, train_teacher
from solosr.estimate import estimate_kernel
from solosr.infer import super_resolve
from solosr.metrics import psnr_y, quantize, ssim_y
from solosr.pipeline import upscale
from solosr.resize import imresize_np

ROWS = ["1 bicubic", "2 zssr, bicubic kernel", "3 zssr, estimated kernel", "3L zssr, estimated, same wall time as 6",
        "4 teacher without preprocessing", "5 teacher with preprocessing", "6 full method (kd)",
        "7 kd without rec", "8 kd without kd_feat", "9 kd without kd_out", "10 kd without cycle",
        "3T zssr, true kernel", "6T kd, true kernel", "6S kd, smaller student (width 32, from scratch)"]
SMALL = {"student_width": 32, "student_init": "scratch"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--synthetic", nargs="+", required=True)
    ap.add_argument("-s", "--scale", type=int, default=2)
    ap.add_argument("--iters", type=int, default=300)
    ap.add_argument("-p", "--preset", default="fast")
    ap.add_argument("--seed", type=int, default=0, help="the synthetic kernels' seed (the data)")
    ap.add_argument("--train-seed", type=int, default=None,
                    help="the training's seed (crops, initial weights); default --seed. Another value gives "
                         "another run on the same data: the run-to-run spread")
    ap.add_argument("-o", "--output", default="docs/results")
    ap.add_argument("--limit", type=int, default=0, help="only the first N images (with --start: images START to N-1)")
    ap.add_argument("--start", type=int, default=0,
                    help="skip the first N images (each keeps its own kernel: the kernels follow the image's place)")
    ap.add_argument("--crop", type=int, default=0,
                    help="cut each HR image to its middle CROP x CROP pixels first: the same content as a smaller input")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--shard", default="", help="K/N: only images K, K+N, K+2N, ... (writes a shard file)")
    ap.add_argument("--merge", action="store_true", help="join the shard files in --output into the table")
    ap.add_argument("--tag", default="", help="suffix for the output file names")
    ap.add_argument("--config", action="append", default=[], metavar="STAGE.FIELD=VALUE",
                    help="change the base config, e.g. --config distill.w_feat=0 (repeatable)")
    ap.add_argument("--via-pipeline", action="store_true",
                    help="every row through `upscale` (x4 runs as two x2 steps there); rows 4 and 7-10, "
                         "which need the teacher from inside the pipeline, train their own teacher")
    ap.add_argument("--skip-terms", action="store_true", help="leave out rows 7-10 (one loss term removed)")
    ap.add_argument("--rows", default="", help="only these rows, e.g. 1,3,6 (3L needs 6; without --via-pipeline "
                                               "rows 6-10 and 6S train teacher 5, which is then recorded too)")
    args = ap.parse_args()
    s = args.scale
    out = Path(args.output)
    stem = f"ablation_x{s}{args.tag}"
    if args.merge:
        shards = [json.loads(f.read_text()) for f in sorted(out.glob(f"{stem}.shard*.json"))]
        if not shards:
            raise SystemExit(f"no {stem}.shard*.json in {out}")
        # Shards may split one image's rows between them (`--rows`); each repeats row 1: keep one entry.
        results = {r: sorted({e["image"]: e for sh in reversed(shards) for e in sh["images"].get(r, [])}.values(),
                             key=lambda e: e["image"]) for r in ROWS}
        # A shard cut short leaves images with only some rows: the table keeps images that have them all.
        rows_run = [r for r in ROWS if results[r]]
        complete = set.intersection(*({e["image"] for e in results[r]} for r in rows_run))
        partial = sorted({e["image"] for r in rows_run for e in results[r]} - complete)
        results = {r: [e for e in rs if e["image"] in complete] for r, rs in results.items()}
        meta = dict(shards[0]["meta"], images=len(complete), shards=len(shards), left_out_incomplete=partial)
        # Shards run with other options (`--start`, `--limit`) each name theirs: the table lists every one.
        meta["command"] = "`; `".join(dict.fromkeys(sh["meta"]["command"] for sh in shards))
        if "student_inference_seconds" not in meta:  # shards stopped early never measured it
            meta["student_inference_seconds"] = student_inference_seconds(preset(args.preset), torch.device("cpu"))
        write_tables(out, stem, meta, results, args.synthetic, args.seed)
        return
    base = preset(args.preset)
    if args.iters:
        base = config_with(base, train={"max_iters": args.iters, "min_iters": args.iters})
    base = config_with_text(base, args.config)
    dev = torch.device(args.device)
    rows_wanted = set(filter(None, args.rows.split(",")))
    unknown = rows_wanted - {r.split()[0] for r in ROWS}
    if unknown:
        raise SystemExit(f"--rows: no row {', '.join(sorted(unknown))} (rows: {', '.join(r.split()[0] for r in ROWS)})")
    if args.limit and args.start >= args.limit:
        raise SystemExit(f"--start {args.start} with --limit {args.limit}: no images left")
    if "3L" in rows_wanted and "6" not in rows_wanted:
        raise SystemExit("row 3L trains for row 6's time: --rows needs 6 with 3L")
    shard, n_shards = (int(v) for v in args.shard.split("/")) if args.shard else (0, 1)
    train_seed = args.seed if args.train_seed is None else args.train_seed

    def want(i: int) -> bool:
        return not rows_wanted or ROWS[i].split()[0] in rows_wanted
    results: dict[str, list[dict]] = {r: [] for r in ROWS}

    def meta_now() -> dict:
        m = {"date": datetime.date.today().isoformat(), "machine": machine_description(), "device": args.device,
             "scale": s, "train_seed": train_seed, "iters": args.iters or f"preset ({base.train.max_iters})",
             "preset": args.preset,
             "images": len(results[ROWS[0]]), "via_pipeline": args.via_pipeline, "x4": base.x4,
             "command": f"python benchmarks/ablation.py --synthetic {' '.join(args.synthetic)} -s {s} "
                        f"-p {args.preset} --iters {args.iters} -o {args.output}"
                        + (f" --start {args.start}" if args.start else "")
                        + (f" --limit {args.limit}" if args.limit else "") + (f" --crop {args.crop}" if args.crop else "")
                        + (" --via-pipeline" if args.via_pipeline else "")
                        + (" --skip-terms" if args.skip_terms else "") + (f" --rows {args.rows}" if args.rows else "")
                        + (f" --seed {args.seed}" if args.seed else "")
                        + (f" --train-seed {train_seed}" if train_seed != args.seed else "")
                        + (f" --device {args.device}" if args.device != "cpu" else "")
                        + "".join(f" --config {c}" for c in args.config) + (f" --tag {args.tag}" if args.tag else ""),
             "config": dataclasses.asdict(base)}
        if args.shard:
            m["command"] += " --shard K/N (then --merge)"
        return m

    def save_shard(inference: dict | None = None) -> None:
        """A shard's file is rewritten after every result, so a run cut short keeps what it finished."""
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{stem}.shard{shard}{f'_from{args.start}' if args.start else ''}.json"
        tmp = path.with_name(path.name + ".tmp")
        meta = dict(meta_now(), **({"student_inference_seconds": inference} if inference else {}))
        tmp.write_text(json.dumps({"meta": meta, "images": results}, indent=1))
        tmp.replace(path)

    def record(row, case, sr, seconds):
        srq = quantize(sr)
        entry = {"image": case.name, "psnr": psnr_y(srq, case.hr, s), "ssim": ssim_y(srq, case.hr, s),
                 "seconds": seconds}
        results[row].append(entry)
        print(f"{case.name:<26} {row:<42} {entry['psnr']:.2f} dB {entry['ssim']:.4f} {seconds:.1f} s", flush=True)
        if args.shard:
            save_shard()

    def run(case, kernel, cfg, method="zssr"):
        t0 = time.perf_counter()
        r = upscale(case.lr, s, kernel=kernel, config=cfg.replace(method=method), seed=train_seed, noise=0.0,
                    jpeg="off", kernel_x2=case.kernel_x2 if kernel is case.kernel else None, device=args.device)
        return r.image, time.perf_counter() - t0

    def long_config(seconds):
        """Row 3L: ZSSR trained for `seconds` of wall time. The training-length cap is lifted here, or it
        would stop the net long before the time is spent."""
        return config_with(base, train={"max_iters": 100 * base.train.max_iters, "min_iters": base.train.min_iters,
                                        "max_seconds": seconds, "pixels_per_iter": 0.0})

    def zssr(case, kernel, cfg):
        return run(case, kernel, cfg)

    def teacher_then(case, kernel, k_seconds, pre=True, variants=()):
        lr = torch.from_numpy(np.ascontiguousarray(case.lr.transpose(2, 0, 1)))
        torch.manual_seed(train_seed)
        gen = torch.Generator().manual_seed(train_seed)
        t0 = time.perf_counter()
        teacher, _ = train_teacher(lr, kernel, s, base, gen, dev, pre=pre)
        t_teacher = time.perf_counter() - t0 + k_seconds
        out = {"teacher": (super_resolve(teacher, lr, s, kernel, base.infer, device=dev), t_teacher)}
        for name, cfg in variants:
            torch.manual_seed(train_seed)
            t0 = time.perf_counter()
            student, _ = train_student(lr, kernel, s, cfg, teacher, gen, dev)
            sr = super_resolve(student, lr, s, kernel, cfg.infer, device=dev)
            out[name] = (sr, t_teacher + time.perf_counter() - t0)
        return {k: (v[0].cpu().numpy().transpose(1, 2, 0), v[1]) for k, v in out.items()}

    import itertools

    cases = itertools.islice(synthetic_cases(args.synthetic, s, args.seed, crop=args.crop), args.start,
                             args.limit or None)
    for case in itertools.islice(cases, shard, None, n_shards):
        record(ROWS[0], case, imresize_np(case.lr, s), 0.0)
        if args.via_pipeline:
            # Each row is one `upscale` call (rows 4, 7-10 train their own teacher: the pipeline shares none).
            calls = [
                (1, lambda: run(case, "bicubic", base)),
                (2, lambda: run(case, "auto", base)),
                (4, lambda: run(case, "auto", config_with(base, distill={"teacher_pre_depth": 0}), "teacher")),
                (5, lambda: run(case, "auto", base, "teacher")),
                (6, lambda: run(case, "auto", base, "kd")),
                *((i, lambda w=w: run(case, "auto", config_with(base, distill={w: 0.0}), "kd"))
                  for i, w in zip(range(7, 11), ("w_rec", "w_feat", "w_out", "w_cycle")) if not args.skip_terms),
                (3, lambda: run(case, "auto", long_config(kd_seconds / (2 if s == 4 else 1)))),
                (11, lambda: run(case, case.kernel, base)),
                (12, lambda: run(case, case.kernel, base, "kd")),
                (13, lambda: run(case, "auto", config_with(base, distill=SMALL), "kd")),
            ]
            for i, call in calls:
                if want(i):
                    sr, sec = call()
                    record(ROWS[i], case, sr, sec)
                    if i == 6:
                        kd_seconds = sec  # row 3L, later in the list, trains for this long
            continue
        if want(1):
            record(ROWS[1], case, *zssr(case, "bicubic", base))
        if any(want(i) for i in (*range(2, 11), 13)):  # the rows with the estimated kernel
            t0 = time.perf_counter()
            k_est = estimate_kernel(case.lr, s).kernel
            k_sec = time.perf_counter() - t0
        if want(2):
            sr, sec = zssr(case, k_est, base)
            record(ROWS[2], case, sr, sec + k_sec)
        if want(4):
            no_pre = teacher_then(case, k_est, k_sec, pre=False)
            record(ROWS[4], case, *no_pre["teacher"])
        variants = [(ROWS[i], base if w is None else config_with(base, distill={w: 0.0}))
                    for i, w in zip(range(6, 11), (None, "w_rec", "w_feat", "w_out", "w_cycle"))
                    if want(i) and not (i > 6 and args.skip_terms)]
        if want(13):
            variants.append((ROWS[13], config_with(base, distill=SMALL)))
        if want(5) or variants:  # (3L needs row 6, a variant)
            full = teacher_then(case, k_est, k_sec, variants=variants)
            record(ROWS[5], case, *full["teacher"])
            for row, _ in variants:
                if row != ROWS[13]:
                    record(row, case, *full[row])
        if want(3):
            sr, sec = zssr(case, k_est, long_config(full[ROWS[6]][1] - k_sec))
            record(ROWS[3], case, sr, sec + k_sec)
        if want(11):
            record(ROWS[11], case, *zssr(case, case.kernel, base))
        if want(12):
            true = teacher_then(case, case.kernel, 0.0, variants=[(ROWS[12], base)])
            record(ROWS[12], case, *true[ROWS[12]])
        if want(13):
            record(ROWS[13], case, *full[ROWS[13]])

    inference = student_inference_seconds(base, dev)  # measured here, while nothing else runs
    out.mkdir(parents=True, exist_ok=True)
    if args.shard:
        save_shard(inference)
        return
    write_tables(out, stem, dict(meta_now(), student_inference_seconds=inference), results, args.synthetic, args.seed)


def student_inference_seconds(base, dev: torch.device, side: int = 512) -> dict:
    """Seconds for one x2 step of an untrained student of each size on a `side` x `side` RGB input (the
    preset's inference, median of 3): what a smaller student saves on a large image."""
    from solosr.kernels import bicubic_kernel
    from solosr.nets import SRNet
    from solosr.device import prepare

    lr = torch.rand(3, side, side)
    times = {}
    for name, width in (("width 64", base.distill.student_width), ("width 32", SMALL["student_width"])):
        net = prepare(SRNet(3, width=width, depth=base.distill.student_depth,
                            pre_depth=base.distill.teacher_pre_depth, pre_width=base.distill.teacher_pre_width), dev)
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            super_resolve(net, lr, 2, bicubic_kernel(2), base.infer, device=dev)
            runs.append(time.perf_counter() - t0)
        times[name] = float(np.median(runs))
    return {"input": f"{side}x{side}", **times}


def write_tables(out: Path, stem: str, meta: dict, results: dict, dirs: list[str], seed: int) -> None:
    mean = {r: {k: float(np.mean([e[k] for e in rs])) for k in ("psnr", "ssim", "seconds")}
            for r, rs in results.items() if rs}
    (out / f"{stem}.json").write_text(json.dumps({"meta": meta, "mean": mean, "images": results}, indent=1))
    lines = [f"## Ablation, x{meta['scale']}: {', '.join(Path(d).name for d in dirs)} "
             f"({meta['images']} images), DIV2KRK-protocol kernels, seed {seed}"
             + (f", training seed {meta['train_seed']}" if meta.get("train_seed", seed) != seed else ""), "",
             f"{meta['date']}, {meta['machine']}, device {meta.get('device', 'cpu')}; iterations per network: "
             f"{meta['iters']}, preset {meta['preset']}", "",
             f"Command: `{meta['command']}`", ""]
    if meta.get("student_inference_seconds"):
        inf = meta["student_inference_seconds"]
        lines += [f"Inference alone, one x2 step on a {inf['input']} input (the preset's inference): student "
                  f"of width 64 {inf['width 64']:.2f} s, of width 32 {inf['width 32']:.2f} s.", ""]
    if meta.get("left_out_incomplete"):
        lines += [f"Left out (cut off before all rows ran): {', '.join(meta['left_out_incomplete'])}", ""]
    lines += ["| row | mean Y-PSNR | mean SSIM | s / image |", "|---|---|---|---|"]
    for r, m in mean.items():
        lines.append(f"| {r} | {m['psnr']:.2f} | {m['ssim']:.4f} | {m['seconds']:.1f} |")
    (out / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
