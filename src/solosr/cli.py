"""The command line: parse -> config -> read -> pipeline -> write. The only place that prints."""

from __future__ import annotations

import argparse
import glob
import logging
import os
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from . import __version__
from .bench import IMAGE_SUFFIXES, METHODS, config_with, folder_cases, run_bench, synthetic_cases, write_results
from .config import DEFAULT_PRESET, PRESETS, SCALES, describe, preset
from .imageio import DEFAULT_MAX_PIXELS, SUFFIXES, ImageError, Picture, read_image, write_image
from .kernels import random_div2krk_kernel
from .metrics import psnr_y, quantize
from .pipeline import X4_MODES, check_scale, resolve_kernel, upscale
from .resize import degrade_np, imresize_np
from .train import uses_bf16

log = logging.getLogger("solosr")


class CliError(Exception):
    """A bad argument or input: printed as one line, exit 1."""


# A rough run-time model for the up-front estimate of a large input (fast preset, 2 threads, AVX2 fp32):
# seconds = fixed + per_hr_mp * output megapixels, fitted to docs/results/fast_engine_epyc.md (320x320
# and 3000x2000 at x2, 256x256 at x4; x3 between, not measured).
_ESTIMATE_FIXED_S = {2: 35.0, 3: 50.0, 4: 70.0}
_ESTIMATE_PER_HR_MP_S = 4.3
LARGE_INPUT_PIXELS = 2_000_000


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
        self.bar, self.stage, self.t_stage, self.t_line = None, None, 0.0, 0.0

    def announce(self, pic: Picture, scale: int, cfg) -> None:
        """Before the work: the input's size and, for a large one, about how long it will take."""
        h, w = pic.size
        if self.mode is None or h * w < LARGE_INPUT_PIXELS:
            return
        import torch

        minutes = rough_seconds(h, w, scale, torch.get_num_threads()) / 60
        print(f"solosr: {self.label}: {w}x{h} ({h * w / 1e6:.1f} MP) -> x{scale}: a large input; roughly "
              f"{minutes:.0f} min with the fast preset on {torch.get_num_threads()} AVX2 threads "
              f"(less with bf16 or a GPU, more with a slower preset)", file=sys.stderr, flush=True)

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


def _expand_inputs(items: list[str]) -> list[Path]:
    """Files, folders (their images, sorted) and globs, in order, without duplicates."""
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.suffix.lower() in IMAGE_SUFFIXES)
        elif not p.exists() and any(ch in item for ch in "*?["):
            found = sorted(Path(q) for q in glob.glob(item, recursive=True) if Path(q).is_file())
        else:
            found = [p]  # a missing file is reported when it is read
        out += [q for q in found if q not in out]
    return out


def _output_path(src: Path, out_dir: Path, scale: int, fmt: str | None) -> Path:
    suffix = f".{fmt.lower()}" if fmt else (src.suffix.lower() if src.suffix.lower() in SUFFIXES else ".png")
    return out_dir / f"{src.stem}_x{scale}{suffix}"


def _refuse_collisions(inputs: list[Path], out_dir: Path, scale: int, fmt: str | None, report: bool) -> None:
    """Two inputs that would write one output (a/photo.png and b/photo.png, or photo.png and photo.tif
    with --format png; with --report, one report folder per name) stop the batch before any work."""
    seen: dict[str, Path] = {}
    for src in inputs:
        keys = [str(_output_path(src, out_dir, scale, fmt))] + ([f"report {src.stem}"] if report else [])
        for key in keys:
            other = seen.setdefault(key, src)
            if other != src:
                where = f"the report folder {src.stem}/" if key.startswith("report ") else key
                raise CliError(f"{other} and {src} would both write {where}: upscale them into separate "
                               f"output folders (or rename one)")


def _prepare_out_dir(path: str) -> Path:
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CliError(f"{out}: cannot create output folder ({e.strerror or e})") from None
    if not os.access(out, os.W_OK):
        raise CliError(f"{out}: output folder is not writable")
    return out


def _whole_number(minimum: int, what: str):
    """An argparse type: a whole number of at least `minimum`, else a one-line usage error."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a {what} whole number, got {text!r}")
        return value
    return parse


_positive_int = _whole_number(1, "positive")
_nonnegative_int = _whole_number(0, "non-negative")


def _with_iters(cfg, iters: int):
    if not iters:
        return cfg
    return config_with(cfg, train={"max_iters": iters, "min_iters": min(cfg.train.min_iters, iters),
                                   "eval_every": min(cfg.train.eval_every, iters)})


def _write_report(root: Path, src: Path, pic: Picture, result) -> None:
    """Per image: kernel (.npy and picture), loss curves, side-by-side crop, run.json."""
    import json
    import platform

    import torch

    from .report import history_for_plot, kernel_picture, loss_picture, side_by_side

    folder = root / src.stem
    folder.mkdir(parents=True, exist_ok=True)
    k = result.kernel
    est = result.estimate
    conf = f", confidence {est.confidence:.2f}" if est else ""
    as_pic = lambda a: Picture(a.astype(np.float32) / 255)  # noqa: E731
    write_image(folder / "kernel.png", as_pic(kernel_picture(k, f"{k.shape[0]}x{k.shape[1]} kernel, x{result.scale}{conf}")))
    np.save(folder / "kernel.npy", k)
    write_image(folder / "losses.png", as_pic(loss_picture(history_for_plot(result.history))))
    bic = imresize_np(pic.pixels, result.scale)
    write_image(folder / "compare.png", as_pic(side_by_side(pic.pixels, bic, result.picture.pixels, result.scale)))
    run = {
        "input": str(src), "scale": result.scale, "device": result.device, "config": result.config.to_dict(),
        "timings": result.timings, "warnings": result.warnings, "ensemble_turns": result.turns,
        "history": result.history,
        "kernel": {"size": list(k.shape), "source": "estimated" if est else "given",
                   **({"confidence": est.confidence, "fallback": est.fallback, "noise_sigma": est.noise_sigma,
                       "jpeg": est.jpeg, "blockiness": est.blockiness, "seconds": est.seconds} if est else {})},
        "bf16": uses_bf16(torch.device(result.device), result.config.train.amp),
        "versions": {"solosr": __version__, "torch": torch.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
    }
    (folder / "run.json").write_text(json.dumps(run, indent=1, default=float))


def _upscale_config(args, scale: int):
    cfg = preset(args.preset).replace(method=args.method)
    infer = {k: v for k, v in (("ensemble", args.ensemble), ("tile", args.tile),
                               ("backprojection_iters", args.backprojection)) if v is not None}
    if infer:
        cfg = config_with(cfg, infer=infer)
    if args.ensemble:  # asked for: kd's student too, instead of its one pass
        cfg = config_with(cfg, distill={"student_one_pass": False})
    if args.net is not None:
        cfg = config_with(cfg, net={"space": args.net})
    if args.no_bf16:
        cfg = config_with(config_with(cfg, train={"amp": False}), infer={"amp": False})
    cfg = _with_iters(cfg, args.iters)
    if args.x4 is not None:
        cfg = cfg.replace(x4=args.x4)
        if scale != 4:
            print(f"solosr: warning: --x4 applies only at -s 4; ignored at x{scale}", file=sys.stderr)
    return cfg


def _upscale_one(src: Path, dst: Path, args, cfg, scale: int, bar=None) -> tuple[str | None, dict, list[str]]:
    """Read, upscale, write (and report) one image: (error or None, timings, warnings)."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pic = read_image(src, max_pixels=args.max_pixels)
            if bar is not None:
                bar.announce(pic, scale, cfg)
            result = upscale(pic, scale, kernel=args.kernel, config=cfg, seed=args.seed, device=args.device,
                             noise=args.noise, jpeg=args.jpeg, progress=bar)
            if bar is not None:
                bar.close()
            # The report before the image: an output image means that everything asked for was written,
            # so a re-run that skips existing outputs never leaves a report unmade.
            if args.report:
                _write_report(Path(args.report), src, pic, result)
            write_image(dst, result.picture)
    except (ImageError, ValueError, OSError, RuntimeError) as e:
        if bar is not None:
            bar.close()
        msg = str(e).splitlines()[0] if str(e) else e.__class__.__name__
        return (msg if str(src) in msg else f"{src}: {msg}"), {}, []
    return None, result.timings, [str(w.message) for w in caught] + list(result.warnings)


def _worker_init(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def _worker(job):
    src, dst, args, cfg, scale, label, mode = job
    bar = StageBar(label, "lines" if mode else None)  # bars from several processes would garble each other
    return _upscale_one(src, dst, args, cfg, scale, bar)


def _threads_per_job(threads: int | None, jobs: int) -> int:
    """Each of `jobs` images at once gets an equal share of the cores: two images with 2 threads each
    on 2 cores are far slower than one after the other."""
    total = threads or os.cpu_count() or 1
    return max(1, total // jobs)


def cmd_upscale(args) -> int:
    scale = check_scale(args.scale)
    cfg = _upscale_config(args, scale)
    if args.kernel not in ("bicubic", "auto"):
        # Read once: a bad kernel file fails before any image is touched, and its warnings come once.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            args.kernel = resolve_kernel(args.kernel, scale)
        for w in caught:
            print(f"solosr: warning: {w.message}", file=sys.stderr)
    inputs = _expand_inputs(args.inputs)
    if not inputs:
        raise CliError("no input images found")
    out_dir = _prepare_out_dir(args.output)
    if args.report:  # every output location is checked before any work
        _prepare_out_dir(args.report)
    _refuse_collisions(inputs, out_dir, scale, args.format, bool(args.report))
    jobs = min(args.jobs, len(inputs))
    if args.threads:
        import torch

        torch.set_num_threads(_threads_per_job(args.threads, 1))
    skipped, failed, todo = [], [], []
    for src in inputs:
        dst = _output_path(src, out_dir, scale, args.format)
        if dst.exists() and not args.overwrite:
            skipped.append((src, "output exists (use --overwrite)"))
        elif dst.resolve() == src.resolve():
            failed.append((src, "output would overwrite the input"))
        else:
            todo.append((src, dst))
    done = []

    def finish(src: Path, dst: Path, error: str | None, timings: dict, warns: list[str]) -> None:
        for w in warns:
            print(f"solosr: warning: {src}: {w}", file=sys.stderr)
        if error is not None:
            failed.append((src, error))
            print(f"solosr: error: {error}", file=sys.stderr)
            return
        done.append(dst)
        if not args.quiet:
            t = timings
            print(f"{src} -> {dst}  ({t['total']:.1f} s: train {t['train']:.1f}, infer {t['infer']:.1f})", flush=True)

    if jobs > 1:
        import concurrent.futures as cf
        import multiprocessing

        per_job = _threads_per_job(args.threads, jobs)
        with cf.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                                    initializer=_worker_init, initargs=(per_job,)) as pool:
            mode = progress_mode(args.quiet)
            futures = {pool.submit(_worker, (src, dst, args, cfg, scale, f"[{i}/{len(todo)}] {src.name}", mode)):
                       (src, dst) for i, (src, dst) in enumerate(todo, 1)}
            for fut in cf.as_completed(futures):
                src, dst = futures[fut]
                try:
                    finish(src, dst, *fut.result())
                except Exception as e:  # a worker that died (killed, out of memory): the image failed
                    finish(src, dst, f"{src}: worker failed ({e.__class__.__name__}: {e})", {}, [])
    else:
        mode = progress_mode(args.quiet)
        overall = None
        if mode == "bar" and len(todo) > 1:
            from tqdm import tqdm

            overall = tqdm(total=len(todo), desc="all images", unit="img", position=0, dynamic_ncols=True)
        for i, (src, dst) in enumerate(todo, 1):
            label = f"[{i}/{len(todo)}] {src.name}" if len(todo) > 1 else src.name
            bar = StageBar(label, mode, position=1 if overall is not None else 0)
            finish(src, dst, *_upscale_one(src, dst, args, cfg, scale, bar))
            if overall is not None:
                overall.update(1)
        if overall is not None:
            overall.close()
    if len(inputs) > 1 or failed or skipped:
        if not args.quiet or failed:
            print(f"solosr: {len(done)} done, {len(failed)} failed, {len(skipped)} skipped", file=sys.stderr)
            for src, why in failed:
                print(f"  failed: {why if str(src) in why else f'{src}: {why}'}", file=sys.stderr)
            if not args.quiet:
                for src, why in skipped:
                    print(f"  skipped: {src}: {why}", file=sys.stderr)
    return 1 if failed else 0


def _check_writable_file(path: Path, suffixes, what: str) -> None:
    """Refuse an output file before any work: a known suffix and a writable folder that exists."""
    if path.suffix.lower() not in suffixes:
        raise CliError(f"{path}: {what} must be {' or '.join(sorted(suffixes))}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise CliError(f"{path}: no such folder {folder}")
    if not os.access(folder, os.W_OK):
        raise CliError(f"{path}: folder {folder} is not writable")


def cmd_kernel(args) -> int:
    from .estimate import estimate_kernel
    from .report import kernel_picture

    scale = check_scale(args.scale)
    out = Path(args.output)
    _check_writable_file(out, {".npy", ".mat"}, "the kernel file")
    plot = Path(args.plot) if args.plot else None
    if plot is not None:
        _check_writable_file(plot, set(SUFFIXES), "the kernel picture")
    pic = read_image(args.input)
    try:
        est = estimate_kernel(pic.pixels, scale)
    except ValueError as e:
        raise CliError(f"{args.input}: {e}") from None
    n = est.kernel.shape[0]
    if plot is not None:  # the picture first: a kernel file is only left when everything asked for was written
        caption = f"{Path(args.input).name}: {n}x{n} kernel, x{scale}, confidence {est.confidence:.2f}"
        write_image(plot, Picture(kernel_picture(est.kernel, caption).astype(np.float32) / 255))
    tmp = out.with_name(f".{out.name}.tmp{out.suffix}")
    try:
        if out.suffix.lower() == ".mat":  # MATLAB's, as DIV2KRK and KernelGAN write kernels
            from scipy.io import savemat

            savemat(tmp, {"Kernel": est.kernel})
        else:
            np.save(tmp, est.kernel)
        os.replace(tmp, out)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        if plot is not None:
            plot.unlink(missing_ok=True)
        raise CliError(f"{out}: cannot write ({e.strerror or e})") from None
    if est.fallback:
        print(f"solosr: warning: {args.input}: kernel estimation fell back to {est.fallback}", file=sys.stderr)
    print(f"{args.input}: {n}x{n} kernel for x{scale} -> {out}  (confidence {est.confidence:.2f}, "
          f"noise sigma {est.noise_sigma * 255:.1f}/255{', JPEG-compressed' if est.jpeg else ''}, "
          f"{est.seconds:.1f} s)")
    return 0


def cmd_degrade(args) -> int:
    scale = check_scale(args.scale)
    src = Path(args.hr_dir)
    if not src.is_dir():
        raise CliError(f"{src}: not a folder")
    out = _prepare_out_dir(args.output)
    dirs = {d: out / f"{d}_x{scale}" if d != "hr" else out / "hr" for d in ("lr", "kernels", "hr")}
    for d in dirs.values():
        d.mkdir(exist_ok=True)
    n = 0
    for case in synthetic_cases([str(src)], scale, args.seed):
        write_image(dirs["hr"] / f"{case.name}.png", Picture(case.hr.astype(np.float32)))
        write_image(dirs["lr"] / f"{case.name}.png", Picture(case.lr))
        np.save(dirs["kernels"] / f"{case.name}.npy", case.kernel)
        n += 1
    print(f"wrote {n} images to {out} (lr_x{scale}/, kernels_x{scale}/, hr/)")
    return 0


def cmd_bench(args) -> int:
    scale = check_scale(args.scale)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    cfg = preset(args.preset)
    cfg = _with_iters(cfg, args.iters)
    if args.data:
        cases = folder_cases(args.data, scale)
        title = f"{Path(args.data).name}, x{scale}"
    elif args.synthetic:
        jpeg = args.add_jpeg or None
        cases = synthetic_cases(args.synthetic, scale, args.seed, noise=args.add_noise, jpeg=jpeg)
        extra = (f" + noise sigma {args.add_noise:g}/255" if args.add_noise else "") + (f" + JPEG q{jpeg}" if jpeg else "")
        title = f"synthetic ({', '.join(Path(d).name for d in args.synthetic)}), DIV2KRK kernels{extra}, x{scale}"
    else:
        raise CliError("give --data DIR (DIV2KRK format) or --synthetic HR_DIR...")
    if args.limit:
        import itertools

        cases = itertools.islice(cases, args.limit)

    def show(name, method, row):
        if not args.quiet:
            q = f"  {row['psnr']:.2f} dB  {row['ssim']:.4f}" if "psnr" in row else ""
            q += f"  NIQE {row['niqe']:.3f}" if "niqe" in row else ""
            print(f"{name:<28} {method:<12}{q}  {row['seconds']:.1f} s", flush=True)

    result = run_bench(cases, scale, methods, cfg, seed=args.seed, on_result=show, device=args.device,
                       niqe=True if args.niqe else None)
    result["meta"]["command"] = "solosr " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    result["meta"]["preset"] = args.preset
    stem = args.name or f"bench_x{scale}"
    json_path, md_path = write_results(result, args.output, stem, title)
    print(open(md_path).read().split("Per image")[0].rstrip())
    print(f"wrote {json_path} and {md_path}")
    return 0


def cmd_demo(args) -> int:
    scale = check_scale(args.scale)
    out = _prepare_out_dir(args.output)
    if args.image:
        hr = read_image(args.image).pixels
        name = Path(args.image).stem
    else:
        try:
            from skimage import data
        except ImportError:
            raise CliError("the demo's default photo comes from scikit-image: pip install scikit-image, "
                           "or pass --image PATH") from None
        hr = data.astronaut()[:512, :512].astype(np.float32) / 255  # skimage's bundled photo (public domain)
        name = "astronaut"
    h, w = hr.shape[:2]
    hr = hr[: h - h % scale, : w - w % scale]
    kernel = random_div2krk_kernel(scale, np.random.default_rng(args.seed))
    lr = quantize(degrade_np(hr, kernel, scale)).astype(np.float32)
    bar = StageBar("demo", progress_mode(args.quiet))
    t0 = time.perf_counter()
    use = kernel if args.kernel == "true" else args.kernel
    result = upscale(lr, scale, kernel=use, preset=args.preset, seed=args.seed, progress=bar)
    bar.close()
    seconds = time.perf_counter() - t0
    bic = np.clip(imresize_np(lr, scale), 0, 1)
    for tag, img in (("hr", hr), ("lr", lr), ("bicubic", bic), ("sr", result.image)):
        write_image(out / f"{name}_{tag}.png", Picture(np.ascontiguousarray(img, dtype=np.float32)))
    np.save(out / f"{name}_kernel_true.npy", kernel)
    p_sr, p_bic = psnr_y(quantize(result.image), hr, scale), psnr_y(quantize(bic), hr, scale)
    print(f"{name}: {lr.shape[1]}x{lr.shape[0]} -> x{scale}, random DIV2KRK kernel (seed {args.seed}), "
          f"kernel used: {args.kernel}, preset {args.preset}")
    print(f"Y-PSNR  bicubic {p_bic:.2f} dB   solosr {p_sr:.2f} dB   ({p_sr - p_bic:+.2f} dB, {seconds:.1f} s)")
    print(f"wrote {out}/{name}_{{hr,lr,bicubic,sr}}.png")
    return 0


def _sigma_255(text: str) -> float:
    """A noise sigma on the 0-255 scale, 0 <= sigma < 128 (the 0-1 scale's [0, 0.5))."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value < 128:
        raise argparse.ArgumentTypeError(f"expected a noise sigma from 0 to under 128 (the 0-255 scale), got {text!r}")
    return value


def _noise_arg(text: str):
    if text == "auto":
        return text
    try:
        return _sigma_255(text) / 255
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected 'auto' or a sigma from 0 to under 128 (the 0-255 scale), "
                                         f"got {text!r}") from None


def _quality(text: str) -> int:
    """A JPEG quality 1..100, or 0 for none."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"expected a JPEG quality 1..100 (0: none), got {text!r}")
    return value


def _jpeg_arg(text: str):
    if text in ("auto", "off"):
        return text
    try:
        return _quality(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected 'auto', 'off' or a quality 1..100, got {text!r}") from None


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error on one line (the usage block is in --help)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="solosr", description="Zero-shot super-resolution from the image alone.")
    p.add_argument("--version", action="version", version=f"solosr {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log the library's progress messages")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("upscale", help="super-resolve images", description="Super-resolve images, files, "
                        "folders or globs; outputs are NAME_xS.EXT in OUTDIR.")
    up.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders or globs")
    up.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="output folder (created if needed)")
    up.add_argument("-s", "--scale", type=int, default=2, choices=SCALES, help="upscaling factor (default 2)")
    up.add_argument("-k", "--kernel", default="auto", metavar="auto|bicubic|FILE",
                    help="degradation kernel: 'auto' (estimated from each image, default), 'bicubic', "
                         "or a .npy, .mat (MATLAB) or text kernel file")
    up.add_argument("-p", "--preset", default=DEFAULT_PRESET, choices=list(PRESETS),
                    help=f"speed/quality preset (default: {DEFAULT_PRESET}). "
                         + "; ".join(f"{name}: {describe(cfg)}" for name, cfg in PRESETS.items()))
    up.add_argument("-m", "--method", default="kd", choices=["kd", "zssr"],
                    help="kd: teacher + distilled student (default); zssr: one network, the baseline")
    up.add_argument("--noise", default="auto", type=_noise_arg, metavar="auto|SIGMA",
                    help="noise the training sons carry: 'auto' (estimated), 0, or sigma on the 0-255 scale")
    up.add_argument("--jpeg", default="auto", type=_jpeg_arg, metavar="auto|off|QUALITY",
                    help="JPEG re-compression of the training sons: 'auto' (if the input looks compressed)")
    up.add_argument("--report", metavar="DIR", help="write a per-image report (kernel, losses, crops, run.json)")
    up.add_argument("--seed", type=_nonnegative_int, default=0, help="random seed (same seed, same CPU: same result)")
    up.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    up.add_argument("--format", choices=["png", "tif", "webp", "jpg", "bmp"],
                    help="output format (default: the input's)")
    up.add_argument("--ensemble", action=argparse.BooleanOptionalAction, default=None,
                    help="self-ensemble at inference over the rotations/flips that keep the kernel "
                         "(default: the preset's; kd's student makes the image in one pass)")
    up.add_argument("--backprojection", type=_nonnegative_int, default=None, metavar="N",
                    help="back-projection steps after inference, each making the output degrade back to the "
                         "input (default: the preset's)")
    up.add_argument("--tile", type=_nonnegative_int, default=None, metavar="N", help="LR tile side for inference, 0 = whole image")
    up.add_argument("--iters", type=_nonnegative_int, default=0, metavar="N",
                    help="override the preset's maximum training iterations (0: the preset's)")
    up.add_argument("--x4", choices=X4_MODES, default=None,
                    help="x4 as two x2 steps each trained ('2x2', default), one training applied twice "
                         "('2x2-reuse': about half the time), or one x4 step ('direct')")
    up.add_argument("--max-pixels", type=_positive_int, default=DEFAULT_MAX_PIXELS, metavar="N",
                    help=f"refuse inputs of more than N pixels, before decoding (default {DEFAULT_MAX_PIXELS:,})")
    up.add_argument("--net", choices=["lr", "hr"], default=None,
                    help="where the nets compute: lr (at the input's size, the default) or hr (ZSSR's, on the "
                         "interpolated input: s*s times the work)")
    up.add_argument("--no-bf16", action="store_true", help="compute in fp32 even where the CPU or GPU has bf16")
    up.add_argument("--jobs", type=_positive_int, default=1, metavar="N",
                    help="images at once, each with an equal share of the threads (default 1)")
    up.add_argument("--threads", type=_positive_int, default=None, metavar="N",
                    help="CPU threads in all (default: every core)")
    up.add_argument("--overwrite", action="store_true", help="replace existing outputs (default: skip them)")
    up.add_argument("-q", "--quiet", action="store_true", help="no progress bars or per-file lines")
    up.set_defaults(func=cmd_upscale)

    kn = sub.add_parser("kernel", help="estimate an image's blur kernel")
    kn.add_argument("input", metavar="INPUT")
    kn.add_argument("-s", "--scale", type=int, default=2, choices=SCALES)
    kn.add_argument("-o", "--output", required=True, metavar="K.npy|K.mat", help="the kernel, as .npy or MATLAB .mat")
    kn.add_argument("--plot", metavar="K.png", help="also write the kernel as a picture")
    kn.set_defaults(func=cmd_kernel)

    dg = sub.add_parser("degrade", help="make a DIV2KRK-format set from HR images")
    dg.add_argument("hr_dir", metavar="HR_DIR")
    dg.add_argument("-o", "--output", required=True, metavar="OUT")
    dg.add_argument("-s", "--scale", type=int, default=2, choices=SCALES)
    dg.add_argument("--seed", type=_nonnegative_int, default=0)
    dg.set_defaults(func=cmd_degrade)

    be = sub.add_parser("bench", help="benchmark methods, write Markdown and JSON tables")
    src = be.add_mutually_exclusive_group()
    src.add_argument("--data", metavar="DIR", help="a DIV2KRK-format folder (lr_xS/, kernels_xS/, optional hr/)")
    src.add_argument("--synthetic", nargs="+", metavar="HR_DIR", help="HR folders degraded on the fly")
    be.add_argument("-s", "--scale", type=int, default=2, choices=SCALES)
    be.add_argument("-m", "--methods", default="bicubic,zssr,zssr-est,zssr-true",
                    help=f"comma-separated, from: {', '.join(METHODS)}")
    be.add_argument("-p", "--preset", default="fast", choices=list(PRESETS))
    be.add_argument("--iters", type=_nonnegative_int, default=0, help="override the preset's max iterations")
    be.add_argument("--seed", type=_nonnegative_int, default=0)
    be.add_argument("--limit", type=_nonnegative_int, default=0, help="only the first N images")
    be.add_argument("-o", "--output", default="bench_out", metavar="DIR")
    be.add_argument("--name", help="file stem for the tables (default bench_xS)")
    be.add_argument("--add-noise", type=_sigma_255, default=0.0, metavar="SIGMA",
                    help="with --synthetic: Gaussian noise (0-255 scale) added to the LR inputs")
    be.add_argument("--add-jpeg", type=_quality, default=0, metavar="Q",
                    help="with --synthetic: LR inputs saved as JPEG at quality Q")
    be.add_argument("--niqe", action="store_true", help="score NIQE for images with ground truth too")
    be.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    be.add_argument("-q", "--quiet", action="store_true")
    be.set_defaults(func=cmd_bench)

    de = sub.add_parser("demo", help="degrade a bundled photo, super-resolve it, report PSNR")
    de.add_argument("-o", "--output", default="demo_out", metavar="DIR")
    de.add_argument("-s", "--scale", type=int, default=2, choices=SCALES)
    de.add_argument("-k", "--kernel", default="auto", metavar="auto|bicubic|true|FILE",
                    help="kernel: 'auto' (estimated), 'bicubic', 'true' (the one the demo blurred with) or a file")
    de.add_argument("-p", "--preset", default="fast", choices=list(PRESETS))
    de.add_argument("--image", help="use this HR image instead of the bundled photo")
    de.add_argument("--seed", type=_nonnegative_int, default=0)
    de.add_argument("-q", "--quiet", action="store_true")
    de.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="solosr: %(levelname)s: %(message)s")
    try:
        return args.func(args)
    except (CliError, ImageError, ValueError, OSError) as e:
        msg = str(e).splitlines()[0] if str(e) else e.__class__.__name__
        print(f"solosr: error: {msg}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("solosr: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
