"""The command line: parse -> config -> plan the batch -> run it on an engine -> summary. With progress.py,
the only code that prints."""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from . import __version__
from .batch import ENGINES, RAY_INSTALL, Settings, expand_inputs, import_ray, plan, refuse_collisions, run
from .bench import METHODS, config_with, folder_cases, run_bench, synthetic_cases, write_results
from .config import DEFAULT_PRESET, PRESETS, SCALES, describe, preset
from .imageio import DEFAULT_MAX_PIXELS, SUFFIXES, ImageError, Picture, read_image, write_image
from .kernels import BLURS, random_div2krk_kernel
from .metrics import psnr_y, quantize
from .pipeline import X4_MODES, check_scale, resolve_kernel, upscale
from .progress import StageBar, progress_mode
from .resize import degrade_np, imresize_np

log = logging.getLogger("solosr")


class CliError(Exception):
    """A bad argument or input: printed as one line, exit 1."""


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


def _settings(args, cfg, scale: int) -> Settings:
    return Settings(scale=scale, config=cfg, kernel=args.kernel, seed=args.seed, device=args.device, noise=args.noise,
                    jpeg=args.jpeg, max_pixels=args.max_pixels, report=Path(args.report) if args.report else None)


def _batch_bar(results, total: int):
    """A bar over the batch's images, above each image's own stage bars."""
    from tqdm import tqdm

    with tqdm(total=total, desc="all images", unit="img", position=0, dynamic_ncols=True) as overall:
        for item in results:
            yield item
            overall.update(1)


def _ray_hooks(todo: list, args, mode: str | None) -> dict:
    """Ray's lines: the cluster it runs on, and, piped or logged, one a minute while images run."""
    t0 = time.monotonic()

    def started(cpus: int) -> None:
        print(f"solosr: Ray: {len(todo)} images, {args.threads or 1} CPU(s) each, on a cluster of {cpus} CPUs",
              file=sys.stderr, flush=True)

    def waiting(done: int, running: int) -> None:
        print(f"solosr: Ray: {done} of {len(todo)} images done, {running} running, {time.monotonic() - t0:.0f} s",
              file=sys.stderr, flush=True)

    return {"on_start": started if mode is not None else None, "on_wait": waiting if mode == "lines" else None}


def cmd_upscale(args) -> int:
    scale = check_scale(args.scale)
    cfg = _upscale_config(args, scale)
    _check_engine(args)
    if args.kernel not in ("bicubic", "auto"):
        args.kernel = _read_kernel_once(args.kernel, scale)
    inputs = expand_inputs(args.inputs)
    if not inputs:
        raise CliError("no input images found")
    out_dir = _prepare_out_dir(args.output)
    if args.report:  # every output location is checked before any work
        _prepare_out_dir(args.report)
    refuse_collisions(inputs, out_dir, scale, args.format, bool(args.report))
    todo, summary = plan(inputs, out_dir, scale, args.format, args.overwrite)
    settings = _settings(args, cfg, scale)
    mode = progress_mode(args.quiet)
    hooks = _ray_hooks(todo, args, mode) if args.engine == "ray" else {}
    results = run(todo, settings, engine=args.engine, jobs=args.jobs, threads=args.threads, address=args.address,
                  mode=mode, **hooks)
    pool = args.engine == "local" and min(args.jobs, len(todo)) > 1  # its workers print lines, not bars
    if mode == "bar" and len(todo) > 1 and not pool:
        results = _batch_bar(results, len(todo))
    for src, dst, outcome in results:
        for warning in outcome.warnings:
            print(f"solosr: warning: {src}: {warning}", file=sys.stderr)
        if outcome.error is not None:
            summary.failed.append((src, outcome.error))
            print(f"solosr: error: {outcome.error}", file=sys.stderr)
            continue
        summary.done.append(dst)
        if not args.quiet:
            t = outcome.timings
            print(f"{src} -> {dst}  ({t['total']:.1f} s: train {t['train']:.1f}, infer {t['infer']:.1f})", flush=True)
    if len(inputs) > 1 or summary.failed or summary.skipped:
        _print_summary(summary, args.quiet)
    return 1 if summary.failed else 0


def _check_engine(args) -> None:
    """Ray's options only with Ray; without Ray installed, how to install it, before any work."""
    if args.engine == "ray":
        import_ray()
        if args.jobs > 1:
            print("solosr: warning: --jobs is for --engine local; Ray runs as many images at once as the cluster "
                  "has CPUs for (each image's with --threads)", file=sys.stderr)
    elif args.address:
        raise CliError("--address is for --engine ray")


def _read_kernel_once(kernel: str, scale: int) -> np.ndarray:
    """A kernel file read once: a bad one fails before any image is touched, and its warnings come once."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        k = resolve_kernel(kernel, scale)
    for w in caught:
        print(f"solosr: warning: {w.message}", file=sys.stderr)
    return k


def _print_summary(summary, quiet: bool) -> None:
    done, failed, skipped = summary.done, summary.failed, summary.skipped
    if quiet and not failed:
        return
    print(f"solosr: {len(done)} done, {len(failed)} failed, {len(skipped)} skipped", file=sys.stderr)
    for src, why in failed:
        print(f"  failed: {why if str(src) in why else f'{src}: {why}'}", file=sys.stderr)
    if not quiet:
        for src, why in skipped:
            print(f"  skipped: {src}: {why}", file=sys.stderr)


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
    for case in synthetic_cases([str(src)], scale, args.seed, blur=args.blur):
        assert case.hr is not None and case.kernel is not None  # made from an HR image, with its kernel
        write_image(dirs["hr"] / f"{case.name}.png", Picture(case.hr.astype(np.float32)))
        write_image(dirs["lr"] / f"{case.name}.png", Picture(case.lr))
        np.save(dirs["kernels"] / f"{case.name}.npy", case.kernel)
        n += 1
    print(f"wrote {n} images to {out} (lr_x{scale}/, kernels_x{scale}/, hr/; {args.blur} blur)")
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
        cases = synthetic_cases(args.synthetic, scale, args.seed, noise=args.add_noise, jpeg=jpeg, blur=args.blur)
        extra = (f" + noise sigma {args.add_noise:g}/255" if args.add_noise else "") + (f" + JPEG q{jpeg}" if jpeg else "")
        blur = "DIV2KRK kernels" if args.blur == "gaussian" else f"{args.blur} blurs"
        title = f"synthetic ({', '.join(Path(d).name for d in args.synthetic)}), {blur}{extra}, x{scale}"
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
    p_sr, p_bic = psnr_y(quantize(np.asarray(result.image)), hr, scale), psnr_y(quantize(bic), hr, scale)
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
                    help="local engine: images at once, each with an equal share of the threads (default 1)")
    up.add_argument("--threads", type=_positive_int, default=None, metavar="N",
                    help="CPU threads in all (default: every core); with --engine ray, each image's threads and "
                         "Ray CPUs (default 1)")
    up.add_argument("--engine", choices=ENGINES, default="local",
                    help="local: this machine (default); ray: one Ray task per image, on a Ray cluster or a "
                         f"local one (needs {RAY_INSTALL})")
    up.add_argument("--address", metavar="auto|ray://HOST:PORT",
                    help="with --engine ray: the cluster to join (default: start a Ray on this machine)")
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
    dg.add_argument("--blur", choices=BLURS, default="gaussian",
                    help="gaussian: DIV2KRK's random anisotropic Gaussians (default); disk: defocus, radius 1-3 LR "
                         "pixels; motion: a straight shake of 1.5-4.5 LR pixels at any angle")
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
    be.add_argument("--blur", choices=BLURS, default="gaussian", help="with --synthetic: the kind of blur (as degrade's)")
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
