"""Benchmark runner (BENCHMARK.md): named methods on a DIV2KRK-format folder or a synthetic set,
per-image and mean Y-PSNR/SSIM and seconds, written as Markdown and JSON.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import platform
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .config import RunConfig
from .device import cpu_compute_path
from .imageio import IMAGE_SUFFIXES, Picture, read_image
from .kernels import compose_x2_to_x4, random_blur_kernel, random_div2krk_kernel
from .metrics import psnr_y, quantize, ssim_y
from .niqe import niqe as niqe_score
from .pairs import jpeg_roundtrip
from .pipeline import upscale
from .resize import degrade_np, imresize_np


@dataclass
class Case:
    """One benchmark image: LR input (H,W,3) in [0,1], its true kernel, and HR when known."""

    name: str
    lr: np.ndarray
    kernel: np.ndarray | None
    hr: np.ndarray | None
    kernel_x2: np.ndarray | None = None  # x4 synthetic cases: the x2 kernel that `kernel` composes


def list_images(folder: str | os.PathLike) -> list[Path]:
    folder = Path(folder)
    return sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=_natural)


def _natural(p: Path):
    import re

    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)]


def _rgb(pic: Picture) -> np.ndarray:
    px = pic.pixels
    return np.repeat(px, 3, axis=-1) if px.shape[-1] == 1 else px


def synthetic_case(name: str, hr: np.ndarray, scale: int, rng: np.random.Generator, *,
                   noise: float = 0.0, jpeg: int | None = None, blur: str = "gaussian") -> Case:
    """Degrade HR by a DIV2KRK-protocol kernel (or a seeded disk or motion blur, `blur`, see
    kernels.random_blur_kernel): LR = (HR ⊛ k)[::s, ::s], quantised to 8 bits.

    With `noise` (sigma, 0-255 scale) Gaussian noise is added to the LR before quantising; with `jpeg`
    the LR is then saved and read back as JPEG at that quality (issue 5's real-degradation sets).
    """
    h, w = hr.shape[:2]
    hr = hr[: h - h % scale, : w - w % scale]
    # Same draws as random_div2krk_kernel(scale, rng); at x4 the x2 kernel is kept as well.
    if blur == "gaussian" and scale == 4:
        k2 = random_div2krk_kernel(2, rng)
        k = compose_x2_to_x4(k2)
    else:
        k2, k = None, random_blur_kernel(blur, scale, rng)
    lr = degrade_np(hr, k, scale)
    if noise:
        lr = lr + rng.normal(0.0, noise / 255, lr.shape)
    lr = quantize(lr).astype(np.float32)
    if jpeg:
        lr = jpeg_roundtrip(torch.from_numpy(lr).permute(2, 0, 1)[None], jpeg)[0].permute(1, 2, 0).numpy()
    return Case(name, lr, k, hr, k2)


def center_crop(image: np.ndarray, side: int) -> np.ndarray:
    """The middle `side` x `side` of (H,W,...) `image`, or as much of it as the image has."""
    h, w = image.shape[:2]
    y, x = max(0, (h - side) // 2), max(0, (w - side) // 2)
    return image[y:y + side, x:x + side]


def synthetic_cases(hr_dirs: list[str], scale: int, seed: int = 0, *, noise: float = 0.0,
                    jpeg: int | None = None, crop: int = 0, blur: str = "gaussian") -> Iterator[Case]:
    """Every HR image in `hr_dirs` (sorted, in order), each with its own seeded kernel (and noise).

    With `crop` > 0 each HR image is first cut to its middle `crop` x `crop` pixels (the same content
    at a smaller input size; each image keeps the kernel of its place).
    """
    paths = [p for d in hr_dirs for p in list_images(d)]
    for i, p in enumerate(paths):
        rng = np.random.default_rng([seed, i])
        name = f"{Path(p).parent.name}/{p.stem}" if len(hr_dirs) > 1 else p.stem
        hr = _rgb(read_image(p))
        yield synthetic_case(name, center_crop(hr, crop) if crop > 0 else hr, scale, rng, noise=noise, jpeg=jpeg,
                             blur=blur)


def folder_cases(root: str | os.PathLike, scale: int) -> Iterator[Case]:
    """A DIV2KRK-format folder: lr_xS/NAME.png, kernels_xS/NAME.npy, optional hr/ (or gt/) NAME.png."""
    root = Path(root)
    lr_dir = root / f"lr_x{scale}"
    if not lr_dir.is_dir():
        raise ValueError(f"{root}: no lr_x{scale}/ folder (not a DIV2KRK-format set for x{scale})")
    hr_dir = next((root / d for d in ("hr", "gt", "HR") if (root / d).is_dir()), None)
    for p in list_images(lr_dir):
        kpath = root / f"kernels_x{scale}" / f"{p.stem}.npy"
        kernel = np.load(kpath) if kpath.exists() else None
        hr = None
        if hr_dir is not None:
            cand = [q for q in hr_dir.glob(f"{p.stem}.*") if q.suffix.lower() in IMAGE_SUFFIXES]
            hr = _rgb(read_image(cand[0])) if cand else None
        yield Case(p.stem, _rgb(read_image(p)), kernel, hr)


# A method maps (case, scale, config, seed, device) -> (SR image (H,W,3) in [0,1], extra info).
Method = Callable[[Case, int, RunConfig, int, str], tuple[np.ndarray, dict]]


def _bicubic(case: Case, scale: int, cfg: RunConfig, seed: int, device: str = "cpu"):
    return imresize_np(case.lr, scale), {}


def _trained(method: str, kernel_of: Callable[[Case], object], aware: bool = False) -> Method:
    """`aware`: the sons carry the input's estimated noise and JPEG (`--noise auto --jpeg auto`);
    otherwise they get none (`--noise 0 --jpeg off`), right for the noise-free DIV2KRK protocol."""

    def run(case: Case, scale: int, cfg: RunConfig, seed: int, device: str = "cpu"):
        kernel = kernel_of(case)
        if kernel is None:
            raise ValueError(f"{case.name}: no true kernel for this image")
        k2 = case.kernel_x2 if kernel is case.kernel else None
        real = {"noise": "auto", "jpeg": "auto"} if aware else {"noise": 0.0, "jpeg": "off"}
        r = upscale(case.lr, scale, kernel=kernel, config=cfg.replace(method=method), seed=seed,
                    kernel_x2=k2, device=device, **real)
        extra = {"iters": sum(1 for _ in r.history) and r.history[-1]["iter"]}
        if r.estimate is not None:
            extra["noise_est_255"] = round(r.estimate.noise_sigma * 255, 2)
            extra["jpeg_detected"] = bool(r.estimate.jpeg)
        return r.image, extra

    return run


METHODS: dict[str, Method] = {
    "bicubic": _bicubic,
    "zssr": _trained("zssr", lambda c: "bicubic"),
    "zssr-est": _trained("zssr", lambda c: "auto"),
    "zssr-true": _trained("zssr", lambda c: c.kernel),
    "kd-est": _trained("kd", lambda c: "auto"),
    "kd-true": _trained("kd", lambda c: c.kernel),
    "zssr-est-aware": _trained("zssr", lambda c: "auto", aware=True),
    "kd-est-aware": _trained("kd", lambda c: "auto", aware=True),
    "kd-true-aware": _trained("kd", lambda c: c.kernel, aware=True),
}


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    gpu = f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    return (f"{cpu}, {os.cpu_count()} cores{gpu}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
            f"CPU training in {cpu_compute_path()}")


def run_bench(cases: Iterator[Case], scale: int, methods: list[str], cfg: RunConfig, *, seed: int = 0,
              on_result: Callable[[str, str, dict], None] | None = None, device: str = "cpu",
              niqe: bool | None = None) -> dict:
    """Run every method on every case. Returns the JSON-ready result dict.

    NIQE (no reference, lower is better) is scored for images without ground truth, or for all
    with `niqe=True`; images too small for it get none.
    """
    for m in methods:
        if m not in METHODS:
            raise ValueError(f"unknown method {m!r}; choose from {', '.join(METHODS)}")
    rows: dict[str, list[dict]] = {m: [] for m in methods}
    for case in cases:
        for m in methods:
            t0 = time.perf_counter()
            sr, extra = METHODS[m](case, scale, cfg, seed, device)
            seconds = time.perf_counter() - t0
            row = {"image": case.name, "seconds": round(seconds, 3), **extra}
            srq = quantize(sr)
            if case.hr is not None:
                row["psnr"] = round(psnr_y(srq, case.hr, scale), 4)
                row["ssim"] = round(ssim_y(srq, case.hr, scale), 5)
            if niqe or (niqe is None and case.hr is None):
                try:
                    row["niqe"] = round(niqe_score(srq), 4)
                except ValueError:
                    pass
            rows[m].append(row)
            if on_result:
                on_result(case.name, m, row)
    summary = {}
    for m, rs in rows.items():
        mean = {key: float(np.mean([r[key] for r in rs])) for key in ("psnr", "ssim", "niqe", "seconds")
                if rs and all(key in r for r in rs)}
        summary[m] = {"mean": mean, "images": rs}
    return {
        "meta": {
            "date": datetime.date.today().isoformat(),
            "machine": machine_description(),
            "scale": scale,
            "seed": seed,
            "device": device,
            "config": cfg.to_dict(),
        },
        "methods": summary,
    }


def to_markdown(result: dict, title: str = "") -> str:
    meta, methods = result["meta"], result["methods"]
    lines = [f"## {title}" if title else "## Benchmark", ""]
    lines.append(f"x{meta['scale']}, seed {meta['seed']}, {meta['date']}, {meta['machine']}")
    if meta.get("command"):
        lines.append(f"\nCommand: `{meta['command']}`")
    with_niqe = any("niqe" in r["mean"] for r in methods.values())
    lines += ["", "| method | mean Y-PSNR | mean SSIM |" + (" mean NIQE |" if with_niqe else "") + " s / image |",
              "|---|---|---|" + ("---|" if with_niqe else "") + "---|"]
    for m, r in methods.items():
        mean = r["mean"]
        psnr = f"{mean['psnr']:.2f}" if "psnr" in mean else "—"
        ssim = f"{mean['ssim']:.4f}" if "ssim" in mean else "—"
        nq = (f" {mean['niqe']:.3f} |" if "niqe" in mean else " — |") if with_niqe else ""
        lines.append(f"| {m} | {psnr} | {ssim} |{nq} {mean.get('seconds', 0):.1f} |")
    names = [m for m in methods]
    images = [r["image"] for r in methods[names[0]]["images"]] if names else []
    if images and all("psnr" in r for m in names for r in methods[m]["images"]):
        lines += ["", "Per image, Y-PSNR / SSIM:", "",
                  "| image | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        for i, img in enumerate(images):
            cells = [f"{methods[m]['images'][i]['psnr']:.2f} / {methods[m]['images'][i]['ssim']:.4f}" for m in names]
            lines.append(f"| {img} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_results(result: dict, out_dir: str | os.PathLike, stem: str, title: str = "") -> tuple[Path, Path]:
    """Write STEM.json and STEM.md into `out_dir` (atomically)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = (out / f"{stem}.json", out / f"{stem}.md")
    for path, text in zip(paths, (json.dumps(result, indent=1), to_markdown(result, title))):
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    return paths


def config_with(cfg: RunConfig, **stage_changes) -> RunConfig:
    """`cfg` with fields of its stage configs changed: config_with(cfg, train={"max_iters": 5})."""
    return cfg.replace(**{k: dataclasses.replace(getattr(cfg, k), **v) for k, v in stage_changes.items()})


def config_with_text(cfg: RunConfig, changes) -> RunConfig:
    """`cfg` with "STAGE.FIELD=VALUE" changes applied, e.g. ["distill.w_feat=0", "train.amp=false"];
    each value takes the type of the field it replaces. Raises ValueError for an unknown field."""
    for item in changes:
        key, _, value = item.partition("=")
        stage, _, name = key.partition(".")
        try:
            old = getattr(getattr(cfg, stage), name) if name else getattr(cfg, stage)
        except AttributeError:
            raise ValueError(f"no config field {key!r}") from None
        if dataclasses.is_dataclass(old):
            example = f"{key}.{dataclasses.fields(old)[0].name}"
            raise ValueError(f"{key!r} is a stage: name one of its fields, e.g. {example}")
        value = (value.lower() in ("1", "true", "yes")) if isinstance(old, bool) else type(old)(value)
        cfg = config_with(cfg, **{stage: {name: value}}) if name else cfg.replace(**{stage: value})
    return cfg
