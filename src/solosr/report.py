"""Pictures for people: a kernel as an image with its size and scale, and loss curves; and the
per-image report folder (`write_report`) that holds them with run.json.

Only Pillow is used (no plotting library); pictures come back as uint8 (H,W,3) arrays that the
caller writes with `imageio.write_image`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .imageio import Picture, write_image
from .pairs import textured_window
from .resize import imresize_np

# Anchor colours of a perceptually ordered dark-blue -> yellow map.
_ANCHORS = np.array([[13, 8, 135], [84, 2, 163], [139, 10, 165], [185, 50, 137], [219, 92, 104],
                     [244, 136, 73], [254, 188, 43], [240, 249, 33]], dtype=np.float64)


def colormap(values: np.ndarray) -> np.ndarray:
    """Values in [0,1] -> uint8 RGB."""
    v = np.clip(values, 0, 1) * (len(_ANCHORS) - 1)
    lo = np.floor(v).astype(int).clip(0, len(_ANCHORS) - 2)
    t = (v - lo)[..., None]
    return np.round(_ANCHORS[lo] * (1 - t) + _ANCHORS[lo + 1] * t).astype(np.uint8)


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def kernel_picture(kernel: np.ndarray, caption: str, cell: int | None = None) -> np.ndarray:
    """The kernel as a colour image (peak = yellow), each tap a square, with a caption underneath."""
    k = np.asarray(kernel, dtype=np.float64)
    cell = cell or max(8, 320 // max(k.shape))
    img = colormap(k / max(k.max(), 1e-12))
    img = np.kron(img, np.ones((cell, cell, 1), dtype=np.uint8))
    h, w = img.shape[:2]
    width = max(w, 320)
    canvas = Image.new("RGB", (width, h + 44), "white")
    canvas.paste(Image.fromarray(img), ((width - w) // 2, 0))
    draw = ImageDraw.Draw(canvas)
    draw.text((6, h + 6), caption, fill="black", font=_font(14))
    draw.text((6, h + 24), f"sum {k.sum():.3f}, peak {k.max():.4f}", fill="dimgray", font=_font(12))
    return np.asarray(canvas)


def finite_runs(values: np.ndarray) -> list[list[int]]:
    """Indices of the runs of consecutive finite values: [1, nan, 2, 3] -> [[0], [2, 3]]."""
    runs: list[list[int]] = []
    for j, y in enumerate(values):
        if not np.isfinite(y):
            continue
        if runs and runs[-1][-1] == j - 1:
            runs[-1].append(j)
        else:
            runs.append([j])
    return runs


def loss_picture(history: list[dict], keys: list[str] | None = None, size: tuple[int, int] = (640, 360)) -> np.ndarray:
    """Loss curves (log scale) of the training history, one colour per key."""
    w, h = size
    canvas = Image.new("RGB", (w, h), "white")
    draw = ImageDraw.Draw(canvas)
    if not history:
        draw.text((10, 10), "no training history", fill="black", font=_font(14))
        return np.asarray(canvas)
    if keys is None:  # every numeric term of every stage, in order of first appearance
        keys = list(dict.fromkeys(k for e in history for k, v in e.items()
                                  if k not in ("iter", "lr") and isinstance(v, (int, float))))
    iters = np.array([e["iter"] for e in history], dtype=np.float64)
    series = {k: np.array([max(e.get(k, np.nan), 1e-8) for e in history]) for k in keys}
    allv = np.concatenate([np.log10(v[np.isfinite(v)]) for v in series.values()] or [np.zeros(1)])
    lo, hi = float(allv.min()), float(allv.max())
    hi = hi if hi > lo else lo + 1
    left, right, top, bottom = 50, w - 10, 30, h - 30
    draw.rectangle([left, top, right, bottom], outline="gray")
    x0, x1 = iters.min(), max(iters.max(), iters.min() + 1)
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    for i, (k, v) in enumerate(series.items()):
        col = colours[i % len(colours)]
        for run in finite_runs(v):  # a term a stage does not have leaves a gap (x4: step 2's teacher)
            pts = [(left + (iters[j] - x0) / (x1 - x0) * (right - left),
                    bottom - (np.log10(v[j]) - lo) / (hi - lo) * (bottom - top)) for j in run]
            if len(pts) > 1:
                draw.line(pts, fill=col, width=2)
            else:  # one evaluation (a short stage): a dot
                (x, y), = pts
                draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=col)
        draw.text((left + 8 + 110 * i, 8), k, fill=col, font=_font(13))
    draw.text((4, top), f"{10 ** hi:.2g}", fill="black", font=_font(11))
    draw.text((4, bottom - 12), f"{10 ** lo:.2g}", fill="black", font=_font(11))
    draw.text((left, bottom + 6), f"iteration {int(x0)}", fill="black", font=_font(11))
    draw.text((right - 60, bottom + 6), f"{int(x1)}", fill="black", font=_font(11))
    return np.asarray(canvas)


def _label(img: np.ndarray, text: str) -> np.ndarray:
    canvas = Image.new("RGB", (img.shape[1], img.shape[0] + 22), "white")
    canvas.paste(Image.fromarray(img), (0, 22))
    ImageDraw.Draw(canvas).text((4, 3), text, fill="black", font=_font(14))
    return np.asarray(canvas)


def _to_rgb8(img: np.ndarray) -> np.ndarray:
    img = np.clip(np.asarray(img, dtype=np.float32), 0, 1)
    if img.ndim == 2:
        img = img[..., None]
    if img.shape[-1] == 1:
        img = np.repeat(img, 3, axis=-1)
    return np.round(img * 255).astype(np.uint8)


def side_by_side(lr: np.ndarray, bicubic: np.ndarray, sr: np.ndarray, scale: int, side: int = 96) -> np.ndarray:
    """Input (nearest-neighbour enlarged) | bicubic | solosr on the most textured crop, labelled."""
    y, x, h, w = textured_window(lr, side)
    crops = [np.kron(_to_rgb8(lr)[y:y + h, x:x + w], np.ones((scale, scale, 1), np.uint8)),
             _to_rgb8(bicubic)[y * scale:(y + h) * scale, x * scale:(x + w) * scale],
             _to_rgb8(sr)[y * scale:(y + h) * scale, x * scale:(x + w) * scale]]
    labels = ["input (nearest)", "bicubic", "solosr"]
    gap = np.full((crops[0].shape[0] + 22, 6, 3), 255, np.uint8)
    parts = []
    for crop, text in zip(crops, labels):
        parts += [_label(crop, text), gap]
    return np.concatenate(parts[:-1], axis=1)


def history_for_plot(history: list[dict]) -> list[dict]:
    """Stages one after another on one iteration axis (the student's steps follow the teacher's, and a
    net trained again after getting stuck follows its first try)."""
    out, offset, last_stage, last_iter = [], 0, None, 0
    for e in history:
        if e.get("stage") != last_stage or e["iter"] <= last_iter:
            offset += last_iter
            last_stage = e.get("stage")
        last_iter = e["iter"]
        out.append({**e, "iter": e["iter"] + offset})
    return out


def write_report(root: Path, src: Path, pic: Picture, result) -> None:
    """Per image: kernel (.npy and picture), loss curves, side-by-side crop, run.json."""
    import json
    import platform

    import torch

    from . import __version__
    from .device import uses_bf16

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
