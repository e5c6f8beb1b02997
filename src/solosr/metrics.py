"""Quality metrics (BENCHMARK.md): PSNR and SSIM on the BT.601 Y channel with the border shaved."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def rgb_to_y(img: np.ndarray) -> np.ndarray:
    """(H,W,3) or (H,W[,1]) float in [0,1] -> (H,W) Y in [16, 235] on the 0-255 scale (ITU-R BT.601)."""
    img = np.asarray(img, dtype=np.float64)
    if img.ndim == 3 and img.shape[-1] == 3:
        return 16.0 + img @ np.array([65.481, 128.553, 24.966])
    gray = img[..., 0] if img.ndim == 3 else img
    return 16.0 + gray * (65.481 + 128.553 + 24.966)


def _aligned(sr: np.ndarray, hr: np.ndarray, shave: int) -> tuple[np.ndarray, np.ndarray]:
    h = min(sr.shape[0], hr.shape[0])
    w = min(sr.shape[1], hr.shape[1])
    a, b = rgb_to_y(sr[:h, :w]), rgb_to_y(hr[:h, :w])
    if shave:
        a, b = a[shave:-shave, shave:-shave], b[shave:-shave, shave:-shave]
    return a, b


def psnr_y(sr: np.ndarray, hr: np.ndarray, shave: int = 0) -> float:
    """Y-channel PSNR in dB of images in [0,1], cropped to a common size, `shave` pixels off each border."""
    a, b = _aligned(sr, hr, shave)
    mse = np.mean((a - b) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 255.0, sigma: float = 1.5) -> float:
    """SSIM of two 2-D arrays: Gaussian window (sigma 1.5, 11x11), population covariance.

    Matches skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=data_range).
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    truncate = 3.5
    pad = int(truncate * sigma + 0.5)

    def filt(x):
        return ndimage.gaussian_filter(x, sigma, truncate=truncate, mode="reflect")

    ua, ub = filt(a), filt(b)
    vaa, vbb, vab = filt(a * a) - ua * ua, filt(b * b) - ub * ub, filt(a * b) - ua * ub
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * ua * ub + c1) * (2 * vab + c2)) / ((ua * ua + ub * ub + c1) * (vaa + vbb + c2))
    return float(s[pad:-pad, pad:-pad].mean()) if min(s.shape) > 2 * pad else float(s.mean())


def ssim_y(sr: np.ndarray, hr: np.ndarray, shave: int = 0) -> float:
    """Y-channel SSIM of images in [0,1] (BENCHMARK.md settings)."""
    a, b = _aligned(sr, hr, shave)
    return ssim(a, b)


def quantize(img: np.ndarray) -> np.ndarray:
    """Round to 8-bit levels, as an image written to disk would be."""
    return np.round(np.clip(img, 0, 1) * 255) / 255
