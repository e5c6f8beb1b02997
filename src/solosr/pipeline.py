"""`upscale`: the only place the stages are chained. No file I/O here."""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .config import DEFAULT_PRESET, SCALES, EstimateConfig, RunConfig, preset as get_preset
from .imageio import Picture, picture_from_array, picture_to_array
from .estimate import MIN_SIDE, KernelEstimate, estimate_kernel
from .distill import Anchor, train_student, train_teacher
from .infer import ensemble_transforms, super_resolve
from .kernels import bicubic_kernel, center_kernel, load_kernel
from .nets import make_net
from .pairs import PairSampler
from .resize import imresize
from .device import prepare, resolve_device
from .progress import Progress
from .train import TrainingDiverged, train_network

log = logging.getLogger(__name__)



@dataclass
class Result:
    """What `upscale` returns.

    `image` has the input's kind: a numpy array of the input's dtype (alpha kept as the last
    channel) or a PIL image. `picture` is the same as a `Picture`.
    """

    image: object
    picture: Picture
    kernel: np.ndarray
    scale: int
    config: RunConfig  # as the (first) step trained: a fallback's lower lr shows here
    device: str
    timings: dict[str, float] = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    estimate: KernelEstimate | None = None  # with kernel="auto": confidence, noise, iterations
    # Per upscaling step, the rotations/flips (0..7, as pairs.dihedral) its inference averaged: [0] is
    # one pass; the self-ensemble takes those that keep the step's kernel (infer.ensemble_transforms);
    # [] where the step had no net and interpolated.
    turns: list[list[int]] = field(default_factory=list)


def resolve_kernel(kernel, scale: int, lr: np.ndarray | None = None, estimate: list | None = None,
                   cfg: EstimateConfig | None = None) -> np.ndarray:
    """'auto' (estimated from `lr` with `cfg`), 'bicubic', a kernel file path, or a 2-D array -> a kernel
    centred for `scale`. With 'auto' the KernelEstimate is appended to `estimate` when given."""
    if isinstance(kernel, str) and kernel == "auto":
        if lr is None:
            raise ValueError("kernel 'auto' needs the image")
        est = estimate_kernel(lr, scale, cfg)
        if estimate is not None:
            estimate.append(est)
        return est.kernel
    if kernel is None or (isinstance(kernel, str) and kernel == "bicubic"):
        return bicubic_kernel(scale)
    if isinstance(kernel, (str, Path)):
        return load_kernel(str(kernel), scale)
    return center_kernel(np.asarray(kernel, dtype=np.float64), scale)


NOISE_FLOOR = 2.0 / 255  # below this the estimate is mostly texture and quantisation, not noise


def _degradation_extras(noise, jpeg, estimate: KernelEstimate | None, file_quality: int | None = None) -> dict:
    """Noise sigma and JPEG quality that the sons get, from the arguments and the estimate."""
    if noise == "auto":
        sigma = estimate.noise_sigma if estimate is not None and estimate.noise_sigma > NOISE_FLOOR else 0.0
    else:
        sigma = float(noise)
        if not 0 <= sigma < 0.5:
            raise ValueError(f"noise sigma must be in [0, 0.5) on the 0-1 scale, got {noise}")
    if jpeg == "auto":
        # A JPEG file's own quality when known; else a blocky-looking image is taken to be quality 75.
        quality = file_quality or (75 if estimate is not None and estimate.jpeg else 0)
    elif jpeg in ("off", None, 0):
        quality = 0
    else:
        quality = int(jpeg)
        if not 1 <= quality <= 100:
            raise ValueError(f"JPEG quality must be 1..100, got {jpeg}")
    return {"noise_sigma": sigma, "jpeg_quality": quality}


def _is_bicubic(kernel) -> bool:
    return kernel is None or (isinstance(kernel, str) and kernel == "bicubic")


def check_scale(scale) -> int:
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(map(str, SCALES))}, got {scale}")
    return int(scale)


X4_MODES = ("2x2", "2x2-reuse", "direct")


def upscale(
    image,
    scale: int = 2,
    *,
    kernel="auto",
    preset: str = DEFAULT_PRESET,
    method: str | None = None,
    config: RunConfig | None = None,
    seed: int = 0,
    device: str = "auto",
    noise: float | str = "auto",
    jpeg: int | str = "auto",
    kernel_x2: np.ndarray | None = None,
    progress: Progress | None = None,
) -> Result:
    """Super-resolve one image by `scale` using nothing but the image.

    `image`: numpy (H,W) / (H,W,C) uint8, uint16 or float in [0,1], a PIL image, or a `Picture`.
    `kernel`: "auto" (estimated from the image, `Result.estimate`), "bicubic", a kernel file path
    (.npy or text), or a 2-D array.
    `method`: "kd" (teacher + distilled student, the preset's default) or "zssr" (one network).
    `noise`: "auto" (the estimate's, when the kernel is estimated; else 0) or sigma on the 0-1 scale,
    given to the sons. `jpeg`: "auto" (the input looked JPEG-compressed: quality 75), "off"/0, or a
    quality for re-compressing the sons.
    `kernel_x2`: at x4 with `config.x4` "2x2" or "2x2-reuse", the x2 kernel of each step when the caller knows it
    (with kernel="auto" it is estimated; with "bicubic" it is the x2 bicubic kernel; a given x4 kernel
    alone runs x4 directly).
    `preset`: a name in `PRESETS` (default `DEFAULT_PRESET`, fast).
    `config` overrides `preset`. The same seed on the same CPU gives the same result.
    Raises ValueError for bad input (scale, kernel, image too small).
    """
    t_start = time.perf_counter()
    scale = check_scale(scale)
    cfg = config or get_preset(preset)
    if method is not None:
        cfg = cfg.replace(method=method)
    if cfg.x4 not in X4_MODES:
        raise ValueError(f"unknown x4 mode {cfg.x4!r}; choose one of {', '.join(X4_MODES)}")
    pic, kind = (image, "picture") if isinstance(image, Picture) else picture_from_array(image)
    h, w = pic.size
    if min(h, w) < MIN_SIDE:
        raise ValueError(f"image of {w}x{h} is too small to super-resolve (at least {MIN_SIDE}x{MIN_SIDE})")
    dev = resolve_device(device)
    if progress:
        progress("kernel", 0, 1)
    estimates: list[KernelEstimate] = []
    k = resolve_kernel(kernel, scale, pic.pixels, estimates, cfg.estimate)
    estimate = estimates[0] if estimates else None
    run = _Run(cfg, seed, dev, progress, timings={"kernel": time.perf_counter() - t_start})
    if estimate is not None and estimate.fallback:
        run.warnings.append(f"kernel estimation fell back to {estimate.fallback}")
    run.cfg = cfg.replace(pairs=dataclasses.replace(cfg.pairs, **_degradation_extras(noise, jpeg, estimate,
                                                                                        pic.jpeg_quality)))
    # A view (never written to): no copy of a large photo; a read-only array is copied (torch warns on it).
    lr = torch.from_numpy(pic.pixels if pic.pixels.flags.writeable else pic.pixels.copy()).permute(2, 0, 1)
    sr, used = _upscale_steps(lr, _steps(scale, k, kernel, kernel_x2, estimate, run.cfg), k, scale, run)
    sr = within_input_range(sr, lr)
    t0 = time.perf_counter()
    alpha = None
    if pic.alpha is not None:  # alpha is upscaled on its own, never fed to the network
        alpha = imresize(torch.from_numpy(pic.alpha)[None], scale=scale)[0].clamp_(0, 1).numpy()
    run.timings["infer"] += time.perf_counter() - t0
    run.timings["total"] = time.perf_counter() - t_start

    out = pic.with_pixels(np.ascontiguousarray(sr.permute(1, 2, 0).numpy()), alpha)  # no copy: infer lays it out so
    return Result(
        image=out if kind == "picture" else picture_to_array(out, kind),
        picture=out, kernel=k, scale=scale, config=used, device=str(dev),
        timings=run.timings, history=run.history, warnings=run.warnings, estimate=estimate, turns=run.turns,
    )


@dataclass
class _Run:
    """What the steps of one `upscale` share and fill in."""

    cfg: RunConfig
    seed: int
    dev: torch.device
    progress: Progress | None
    timings: dict[str, float]
    history: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    turns: list[list[int]] = field(default_factory=list)


def _steps(scale: int, k: np.ndarray, kernel, kernel_x2, estimate: KernelEstimate | None,
           cfg: RunConfig) -> list[tuple[int, np.ndarray]]:
    """The (scale, kernel) of each upscaling step. x4 as two x2 steps with the x2 kernel: the x4 kernel is
    that kernel applied twice, and each step learns from an image four times the size of the direct x4 sons."""
    if scale == 4 and cfg.x4 in ("2x2", "2x2-reuse"):
        k2 = kernel_x2 if kernel_x2 is not None else (
            estimate.kernel_x2 if estimate is not None else bicubic_kernel(2) if _is_bicubic(kernel) else None)
        if k2 is not None:
            return [(2, center_kernel(k2, 2))] * 2
    return [(scale, k)]


def _upscale_steps(lr: torch.Tensor, steps: list[tuple[int, np.ndarray]], k: np.ndarray, scale: int,
                   run: _Run) -> tuple[torch.Tensor, RunConfig]:
    """Train and apply a network per step; returns the image and the configuration the first step trained."""
    gen = torch.Generator().manual_seed(run.seed)
    run.timings["train"] = run.timings["infer"] = 0.0
    cfg, used, sr, net = run.cfg, run.cfg, lr, None
    for i, (step_scale, step_k) in enumerate(steps):
        t0 = time.perf_counter()
        step_history: list[dict] = []
        if i == 0 or cfg.x4 != "2x2-reuse":  # "2x2-reuse": the first step's network again, on its own output
            anchor = None
            if i > 0:
                # A later step learns from the earlier step's output, and there a net that learns can be the
                # worse one (Set5 baby x4, fast: ZSSR trained again until its second step learned 27.21 dB,
                # left at interpolation 30.73; the teacher with the warm-up 28.06): no restart, no warm-up.
                cfg = cfg.replace(train=dataclasses.replace(cfg.train, restart_if_stuck=False),
                                  distill=dataclasses.replace(cfg.distill, warmup_iters=0))
                anchor = Anchor(lr, k, scale)  # its student is made consistent with the input itself
            net, step_history, cfg = _train_with_fallback(sr, step_k, step_scale, cfg, run.seed, gen, run.dev,
                                                          run.progress, run.warnings, anchor)
        run.timings["train"] += time.perf_counter() - t0
        if i == 0:
            used = cfg  # what Result.config shows: the first step's (a later step's drops the restart, warm-up)
        if len(steps) > 1:
            step_history = [{**e, "stage": f"step{i + 1}/{e.get('stage', '')}"} for e in step_history]
        run.history += step_history
        run.warnings += [e["stuck"] for e in step_history if "stuck" in e]
        t0 = time.perf_counter()
        if net is None:
            sr = imresize(sr, scale=step_scale).clamp_(0, 1)
            run.turns.append([])
        else:
            infer_cfg = final_inference(cfg)
            run.turns.append(ensemble_transforms(step_k, step_scale, infer_cfg))
            sr = super_resolve(net, sr, step_scale, step_k, infer_cfg, device=run.dev, progress=run.progress)
        run.timings["infer"] += time.perf_counter() - t0
    return sr, used


def within_input_range(sr: torch.Tensor, lr: torch.Tensor) -> torch.Tensor:
    """Each channel of `sr` (C,H,W) clipped, in place, to that channel's range in `lr`: PSNR-neutral, and a
    low-contrast scan's ringing no longer reaches 0 or full scale (docs/studies/settings.md#output_range)."""
    lo, hi = lr.amin(dim=(1, 2), keepdim=True), lr.amax(dim=(1, 2), keepdim=True)
    return sr.clamp_(lo, hi)


def final_inference(cfg: RunConfig):
    """The inference that makes the image: the preset's, but one pass of a kd student with
    `distill.student_one_pass` (it learned the teacher's ensemble + back-projection as its target)."""
    if cfg.method == "kd" and cfg.distill.student_one_pass:
        return dataclasses.replace(cfg.infer, ensemble=False)
    return cfg.infer


def train_method(lr: torch.Tensor, k: np.ndarray, scale: int, cfg: RunConfig, seed: int, gen: torch.Generator,
                 dev: torch.device, progress: Progress | None = None, anchor: Anchor | None = None):
    """Train what `cfg.method` names; returns the network to apply to the image and the history.

    "zssr": one network on internal pairs. "teacher": the teacher with its preprocessing module,
    trained for all of `train.max_iters`. "kd": the teacher, then a student distilled from it
    (with `anchor`, a later step's, see `distill.train_student`).
    """
    torch.manual_seed(seed)
    if cfg.method == "zssr":
        sampler = PairSampler(lr.to(dev), k, scale, cfg.pairs, gen)
        net = prepare(make_net(cfg.net.space, lr.shape[0], scale, width=cfg.net.width, depth=cfg.net.depth), dev)
        history = train_network(net, sampler, sampler.validation_pair(lr.to(dev)), cfg.train, device=dev,
                                progress=progress, stage="zssr")
        return net, [{"stage": "zssr", **e} for e in history]
    if cfg.method == "teacher":
        teacher, th = train_teacher(lr, k, scale, cfg, gen, dev, progress, train=cfg.train)
        return teacher, [{"stage": "teacher", **e} for e in th]
    if cfg.method == "kd":
        teacher, th = train_teacher(lr, k, scale, cfg, gen, dev, progress)
        student, sh = train_student(lr, k, scale, cfg, teacher, gen, dev, progress, anchor=anchor)
        return student, [{"stage": "teacher", **e} for e in th] + [{"stage": "student", **e} for e in sh]
    raise ValueError(f"unknown method {cfg.method!r} (kd, zssr or teacher)")


def _train_with_fallback(lr, k, scale, cfg, seed, gen, dev, progress, warnings_, anchor=None):
    """Train; on divergence retry with a 10x lower lr, then fall back to bicubic interpolation."""
    attempts = [cfg, cfg.replace(train=dataclasses.replace(cfg.train, lr=cfg.train.lr * 0.1))]
    for attempt in attempts:
        try:
            net, history = train_method(lr, k, scale, attempt, seed, gen, dev, progress, anchor)
            return net, history, attempt
        except TrainingDiverged as e:
            msg = f"{e}; retrying with a lower learning rate" if attempt is attempts[0] else \
                f"{e}; falling back to bicubic interpolation"
            log.warning(msg)
            warnings_.append(msg)
    return None, [], cfg
