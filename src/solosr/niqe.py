"""NIQE, the no-reference "naturalness" score of Mittal, Soundararajan and Bovik (2013); lower is better.

An image's local statistics are compared with those of pristine natural images: luminance is
normalised by its local mean and contrast (MSCN coefficients), each 96x96 block (and each 48x48
block of the half-size image) is described by generalised-Gaussian fits of the coefficients and
of their products with the four neighbours, and the score is the Mahalanobis-like distance between
a Gaussian fitted to this image's block features and the pristine model's. The pristine model is
the standard one (see data/NIQE_PARAMETERS.md); the steps follow the published MATLAB reference
(8-bit BT.601 luma, 7x7 Gaussian window sigma 7/6 with replicated borders, MATLAB-style bicubic
halving), so scores are comparable with papers that report NIQE.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np
from scipy import ndimage
from scipy.special import gamma as gamma_fn

from .metrics import rgb_to_y
from .resize import imresize_np

BLOCK = 96
_SHAPES = np.arange(0.2, 10.0005, 0.001)
_RATIO = gamma_fn(2 / _SHAPES) ** 2 / (gamma_fn(1 / _SHAPES) * gamma_fn(3 / _SHAPES))


@lru_cache(maxsize=1)
def pristine_model() -> tuple[np.ndarray, np.ndarray]:
    """(mu (36,), cov (36,36)) of the standard pristine-image model."""
    with resources.files("solosr").joinpath("data/niqe_pristine.npz").open("rb") as f:
        data = np.load(f)
        return data["mu"].copy(), data["cov"].copy()


def _gaussian_window() -> np.ndarray:
    r = np.arange(-3, 4)
    g = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * (7 / 6) ** 2))
    return g / g.sum()


def mscn(gray: np.ndarray) -> np.ndarray:
    """Mean-subtracted, contrast-normalised coefficients of a (H,W) image on the 0-255 scale."""
    w = _gaussian_window()
    mu = ndimage.correlate(gray, w, mode="nearest")
    var = ndimage.correlate(gray * gray, w, mode="nearest") - mu * mu
    return (gray - mu) / (np.sqrt(np.abs(var)) + 1.0)


def aggd_fit(x: np.ndarray) -> tuple[float, float, float]:
    """Asymmetric generalised Gaussian by moment matching: (shape, left scale, right scale)."""
    x = x.ravel()
    neg, pos = x[x < 0], x[x > 0]
    left = np.sqrt(np.mean(neg * neg)) if neg.size else 0.0
    right = np.sqrt(np.mean(pos * pos)) if pos.size else 0.0
    if left == 0 or right == 0:
        return np.nan, np.nan, np.nan
    g = left / right
    r = np.mean(np.abs(x)) ** 2 / np.mean(x * x)
    r_norm = r * (g**3 + 1) * (g + 1) / (g * g + 1) ** 2
    shape = float(_SHAPES[np.argmin((_RATIO - r_norm) ** 2)])
    unit = np.sqrt(gamma_fn(1 / shape) / gamma_fn(3 / shape))
    return shape, float(left * unit), float(right * unit)


def block_features(block: np.ndarray) -> list[float]:
    """18 features of one block of MSCN coefficients."""
    shape, left, right = aggd_fit(block)
    feats = [shape, (left + right) / 2]
    for dy, dx in ((0, 1), (1, 0), (1, 1), (-1, 1)):
        prod = block * np.roll(block, (dy, dx), axis=(0, 1))
        shape, left, right = aggd_fit(prod)
        mean = (right - left) * gamma_fn(2 / shape) / gamma_fn(1 / shape)
        feats += [shape, mean, left, right]
    return feats


def _features(gray: np.ndarray) -> np.ndarray:
    rows, cols = gray.shape[0] // BLOCK, gray.shape[1] // BLOCK
    img = gray[: rows * BLOCK, : cols * BLOCK]
    per_scale = []
    for level in (1, 2):
        c = mscn(img)
        b = BLOCK // level
        per_scale.append([block_features(c[i * b:(i + 1) * b, j * b:(j + 1) * b])
                          for i in range(rows) for j in range(cols)])
        if level == 1:
            img = imresize_np(img[..., None] / 255.0, scale=0.5)[..., 0] * 255.0
    return np.hstack([np.asarray(f) for f in per_scale])


def to_gray255(img: np.ndarray) -> np.ndarray:
    """(H,W[,C]) float in [0,1] -> (H,W) BT.601 luma (16-235) of the 8-bit image, rounded.

    The convention of the NIQE figures in SR papers: with it the Set14 baboon scores 5.7300
    against the 5.7296 reported for the MATLAB reference.
    """
    img = np.round(np.clip(np.asarray(img, dtype=np.float64), 0, 1) * 255) / 255
    if img.ndim == 3 and img.shape[-1] >= 3:
        img = img[..., :3]
    return np.round(rgb_to_y(img))


def niqe(img: np.ndarray) -> float:
    """NIQE of an (H,W[,C]) image with values in [0,1]; lower is more natural.

    Needs at least two 96x96 blocks (e.g. 192x96); raises ValueError for a smaller image.
    """
    gray = to_gray255(img)
    if (gray.shape[0] // BLOCK) * (gray.shape[1] // BLOCK) < 2:
        raise ValueError(f"NIQE needs an image of at least two {BLOCK}x{BLOCK} blocks, got "
                         f"{gray.shape[1]}x{gray.shape[0]}")
    feats = _features(gray)
    feats = feats[np.isfinite(feats).all(axis=1)]
    if len(feats) < 2:
        return float("nan")
    mu_p, cov_p = pristine_model()
    d = mu_p - feats.mean(axis=0)
    cov = (cov_p + np.cov(feats, rowvar=False)) / 2
    return float(np.sqrt(d @ np.linalg.pinv(cov) @ d))
