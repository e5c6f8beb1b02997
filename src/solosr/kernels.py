"""Kernel maths: Gaussians, the DIV2KRK generator, centring, x2 -> x4 composition, comparison.

Convention: a kernel is an odd-sized 2-D float64 array that sums to 1. `degrade` samples
`(x ⊛ k)[::s]`, so a kernel *centred for scale s* has its centre of mass at
index `size // 2 + (s - 1) / 2` on both axes: then LR pixel i sits at HR coordinate
(i + 0.5) * s - 0.5, the pixel-centre alignment of the bicubic resize.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
from scipy import ndimage

from .resize import _cubic


def normalize_kernel(k: np.ndarray) -> np.ndarray:
    """Clip negatives, make it sum to 1. Raises ValueError for an all-zero or non-finite kernel."""
    k = np.asarray(k, dtype=np.float64)
    if k.ndim != 2 or not np.all(np.isfinite(k)):
        raise ValueError("a kernel must be a finite 2-D array")
    k = np.clip(k, 0, None)
    total = k.sum()
    if total <= 0:
        raise ValueError("a kernel must have a positive sum")
    return k / total


def make_odd(k: np.ndarray) -> np.ndarray:
    """Pad an even side with a zero row/column at the end so both sides are odd."""
    ph, pw = 1 - k.shape[0] % 2, 1 - k.shape[1] % 2
    return np.pad(k, ((0, ph), (0, pw))) if ph or pw else k


def center_of_mass(k: np.ndarray) -> np.ndarray:
    return np.array(ndimage.center_of_mass(np.clip(k, 0, None)), dtype=np.float64)


def _shift(k: np.ndarray, shift: np.ndarray) -> np.ndarray:
    # Linear interpolation keeps the kernel non-negative (cubic would ring).
    return ndimage.shift(k, shift, order=1, mode="constant", cval=0.0)


def _covariance(k: np.ndarray) -> np.ndarray:
    """The 2x2 second moments (y, x) of the kernel's mass about its centre of mass, in pixels squared."""
    k = np.clip(np.asarray(k, dtype=np.float64), 0, None)
    k = k / k.sum()
    c = center_of_mass(k)
    y, x = np.indices(k.shape)
    dy, dx = y - c[0], x - c[1]
    cross = (dy * dx * k).sum()
    return np.array([[(dy * dy * k).sum(), cross], [cross, (dx * dx * k).sum()]])


def rms_radius(k: np.ndarray) -> float:
    """The kernel's width: the root-mean-square distance of its mass from its centre of mass, in pixels."""
    return float(np.sqrt(np.trace(_covariance(k))))


def elongation(k: np.ndarray) -> float:
    """How stretched the kernel is: its long axis' RMS width over its short axis' (1 for a round blur;
    sigma1 / sigma2 for an untruncated Gaussian)."""
    low, high = np.linalg.eigvalsh(_covariance(k))
    return float(np.sqrt(high / max(low, 1e-12)))


def center_kernel(k: np.ndarray, scale: int) -> np.ndarray:
    """Normalise and shift the centre of mass to where `degrade` at `scale` expects it."""
    k = make_odd(normalize_kernel(k))
    n0, n1 = k.shape
    wanted = np.array(k.shape) // 2 + (scale - 1) / 2
    for _ in range(3):  # cropping back to size moves the centre a little: repeat until it sits
        shift = wanted - center_of_mass(k)
        if np.abs(shift).max() < 1e-3:
            break
        # Pad so no mass falls off while shifting, then crop back to the kernel's own size.
        pad = int(np.ceil(np.abs(shift).max())) + 1
        k = normalize_kernel(_shift(np.pad(k, pad), shift)[pad:pad + n0, pad:pad + n1])
    return k


def warp_kernel(k: np.ndarray, scale: int, matrix: np.ndarray, pad: int = 0) -> np.ndarray:
    """`k` stretched by the 2x2 `matrix` about its centre of mass, on a grid `pad` pixels wider each side,
    normalised and centred for `scale`: the blur a lens a little wider, narrower or more elongated gives."""
    k = np.pad(np.asarray(k, dtype=np.float64), pad)
    c = center_of_mass(k)
    inv = np.linalg.inv(np.asarray(matrix, dtype=np.float64))  # output coordinate -> input coordinate
    out = ndimage.affine_transform(k, inv, offset=c - inv @ c, order=3, mode="constant")
    return center_kernel(np.clip(out, 0, None), scale).astype(np.float32)


def gaussian_kernel(size: int, sigma1: float, sigma2: float | None = None, theta: float = 0.0) -> np.ndarray:
    """Anisotropic Gaussian, (size, size), centred on the middle pixel, sum 1.

    `sigma1`, `sigma2` are standard deviations along the axes rotated by `theta` radians.
    """
    sigma2 = sigma1 if sigma2 is None else sigma2
    c, s = math.cos(theta), math.sin(theta)
    rot = np.array([[c, -s], [s, c]])
    cov = rot @ np.diag([sigma1**2, sigma2**2]) @ rot.T
    inv = np.linalg.inv(cov)
    r = np.arange(size) - (size - 1) / 2
    yy, xx = np.meshgrid(r, r, indexing="ij")
    pts = np.stack([xx, yy], axis=-1)
    k = np.exp(-0.5 * np.einsum("...i,ij,...j->...", pts, inv, pts))
    return k / k.sum()


def random_div2krk_kernel(scale: int, rng: np.random.Generator, *, size: int = 11,
                          var_range: tuple[float, float] = (0.6, 5.0), noise: float = 0.25) -> np.ndarray:
    """A DIV2KRK-protocol kernel (KernelGAN, NeurIPS 2019), centred for `scale`.

    x2: anisotropic Gaussian with variances uniform in `var_range`, angle uniform in [0, π),
    each element multiplied by (1 + u), u uniform in [-noise, noise]. x4: that x2 kernel
    applied twice (`compose_x2_to_x4`). x3: the same recipe with the Gaussian widened by 1.5.
    """
    if scale not in (2, 3, 4):
        raise ValueError(f"DIV2KRK kernels exist for scales 2, 3, 4, not {scale}")
    lam1, lam2 = rng.uniform(*var_range, size=2)
    theta = rng.uniform(0, math.pi)
    widen = 1.5 if scale == 3 else 1.0
    ksize = size if scale != 3 else size + 4
    k = gaussian_kernel(ksize, widen * math.sqrt(lam1), widen * math.sqrt(lam2), theta)
    k = k * (1 + rng.uniform(-noise, noise, size=k.shape))
    if scale == 4:
        return compose_x2_to_x4(center_kernel(k, 2))
    return center_kernel(k, scale)


# Blurs of other shapes than a Gaussian, for benchmark sets (`solosr degrade --blur`): a lens out of
# focus (a disk) and a short camera shake (a line). Kernel sides hold the largest of each with a margin.
BLURS = ("gaussian", "disk", "motion")
_BLUR_SIZE = {2: 17, 3: 23, 4: 31}
_SUPERSAMPLE = 8


def _subpixel_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(y, x) of _SUPERSAMPLE^2 points per pixel of a size x size kernel, relative to its middle pixel's centre."""
    c = (np.arange(size * _SUPERSAMPLE) + 0.5) / _SUPERSAMPLE - size / 2
    return np.meshgrid(c, c, indexing="ij")


def _pixel_shares(inside: np.ndarray, size: int) -> np.ndarray:
    k = inside.astype(np.float64).reshape(size, _SUPERSAMPLE, size, _SUPERSAMPLE).mean(axis=(1, 3))
    return k / k.sum()


def disk_kernel(radius: float, size: int) -> np.ndarray:
    """A defocus blur: uniform inside a circle of `radius` pixels, each pixel weighted by the share of
    its area inside (anti-aliased). Centred on the middle pixel, sum 1."""
    if not 0 < radius < size / 2:
        raise ValueError(f"a disk of radius {radius} does not fit a {size}x{size} kernel")
    yy, xx = _subpixel_grid(size)
    return _pixel_shares(xx**2 + yy**2 <= radius**2, size)


def motion_kernel(length: float, angle: float, size: int) -> np.ndarray:
    """A linear motion blur: a segment of `length` pixels through the middle at `angle` radians from the
    x axis, one pixel wide, anti-aliased. Centred on the middle pixel, sum 1."""
    if not 0 < length < size - 1:
        raise ValueError(f"a motion of {length} pixels does not fit a {size}x{size} kernel")
    yy, xx = _subpixel_grid(size)
    dx, dy = math.cos(angle), math.sin(angle)
    t = np.clip(xx * dx + yy * dy, -length / 2, length / 2)
    return _pixel_shares(np.hypot(xx - t * dx, yy - t * dy) <= 0.5, size)


def random_blur_kernel(blur: str, scale: int, rng: np.random.Generator) -> np.ndarray:
    """A seeded blur of the kind `blur` names, centred for `scale`: "gaussian" is DIV2KRK's; "disk" a
    defocus disk of radius 1-3 LR pixels; "motion" a straight motion of 1.5-4.5 LR pixels (3-9 HR pixels
    at x2) at any angle. Sizes are drawn uniformly."""
    if blur == "gaussian":
        return random_div2krk_kernel(scale, rng)
    if scale not in _BLUR_SIZE:
        raise ValueError(f"no {blur} kernels for x{scale} (scales 2, 3, 4)")
    size = _BLUR_SIZE[scale]
    if blur == "disk":
        return center_kernel(disk_kernel(rng.uniform(1.0, 3.0) * scale, size), scale)
    if blur == "motion":
        length, angle = rng.uniform(1.5, 4.5) * scale, rng.uniform(0, math.pi)
        return center_kernel(motion_kernel(length, angle, size), scale)
    raise ValueError(f"unknown blur {blur!r}; choose one of {', '.join(BLURS)}")


def compose_x2_to_x4(k2: np.ndarray) -> np.ndarray:
    """The x4 kernel equal to degrading twice by x2 with `k2`: k2 ⊛ (k2 dilated by 2). n -> 3n - 2.

    If k2 is centred for x2, the result is centred for x4.
    """
    k2 = normalize_kernel(k2)
    n = k2.shape[0]
    dil = np.zeros((2 * n - 1, 2 * n - 1))
    dil[::2, ::2] = k2
    from scipy.signal import convolve2d

    return normalize_kernel(convolve2d(dil, k2, mode="full"))


def bicubic_kernel(scale: int) -> np.ndarray:
    """The numeric kernel of MATLAB's antialiased bicubic downscaling by `scale`, centred for it.

    `degrade(x, bicubic_kernel(s), s)` equals `imresize(x, 1/s)` away from the borders.
    """
    # The stretched cubic reaches 2s either side of a centre that sits (s-1)/2 past the middle.
    size = 5 * scale + (1 - 5 * scale % 2)
    c = size // 2
    centre = c + (scale - 1) / 2
    pos = np.arange(size) - centre
    w = _cubic(pos / scale) / scale
    w = w / w.sum()
    return np.outer(w, w)


def kernel_error(est: np.ndarray, true: np.ndarray) -> float:
    """Sum of squared differences after normalising, centring by centre of mass and padding to one size."""
    a, b = make_odd(normalize_kernel(est)), make_odd(normalize_kernel(true))
    n = max(a.shape + b.shape) + 4
    n += 1 - n % 2

    def place(k):
        out = np.zeros((n, n))
        oy, ox = (n - k.shape[0]) // 2, (n - k.shape[1]) // 2
        out[oy:oy + k.shape[0], ox:ox + k.shape[1]] = k
        return normalize_kernel(_shift(out, np.array([n // 2, n // 2]) - center_of_mass(out)))

    return float(np.sum((place(a) - place(b)) ** 2))


# A kernel file's negative values are taken for numerical noise and set to 0 while they carry at most
# this share of its positive mass: DIV2KRK's own kernels (and KernelGAN's) dip to about -5e-4.
NEGATIVE_NOISE = 0.02


def _mat_variables(path: str) -> dict[str, np.ndarray]:
    """A MATLAB .mat file's 2-D numeric variables, by name."""
    from scipy.io import loadmat

    return {k: v for k, v in loadmat(path).items()
            if not k.startswith("__") and isinstance(v, np.ndarray) and v.ndim == 2 and v.dtype.kind in "fiu"}


def load_kernel(path: str, scale: int) -> np.ndarray:
    """Read a kernel from .npy, .mat (MATLAB, as DIV2KRK's and KernelGAN's files: its one 2-D variable,
    or the one named kernel/Kernel/k/K) or a text matrix, validate, centre for `scale`.

    Raises ValueError with a one-line reason for a missing or unreadable file, a wrong shape, NaN/inf
    or negative values beyond numerical noise (`NEGATIVE_NOISE`; within it they are set to 0).
    """
    if not Path(path).exists():
        raise ValueError(f"{path}: no such kernel file")
    if not Path(path).is_file():
        raise ValueError(f"{path}: not a file")
    suffix = Path(path).suffix.lower()
    try:
        k = np.load(path) if suffix == ".npy" else _mat_variables(path) if suffix == ".mat" else \
            np.loadtxt(path, ndmin=2)
    except Exception:  # noqa: BLE001 - any parse failure is one bad-input message
        raise ValueError(f"{path}: cannot read kernel (a kernel file is a .npy array, a .mat file or a text file "
                         "of numbers, one matrix row per line)") from None
    if isinstance(k, dict):  # a .mat file's variables
        named = [k[n] for n in ("kernel", "Kernel", "k", "K") if n in k]
        if not named and len(k) != 1:
            raise ValueError(f"{path}: expected one 2-D variable (or one named 'kernel'), found "
                             f"{', '.join(sorted(k)) or 'none'}")
        k = named[0] if named else next(iter(k.values()))
    k = np.asarray(k, dtype=np.float64)
    if k.ndim != 2 or min(k.shape) < 1 or max(k.shape) > 101:
        raise ValueError(f"{path}: kernel must be a 2-D array of side 1..101, got shape {k.shape}")
    if not np.all(np.isfinite(k)):
        raise ValueError(f"{path}: kernel has NaN or infinite values")
    negative, positive = -k[k < 0].sum(), k[k > 0].sum()
    if negative > NEGATIVE_NOISE * positive:
        raise ValueError(f"{path}: kernel has negative values ({negative / max(positive, 1e-300):.1%} of its "
                         "positive mass): solosr needs a blur kernel")
    if negative > 0:
        warnings.warn(f"{path}: kernel values below zero ({negative / positive:.2%} of its mass) taken for "
                      "numerical noise and set to 0", stacklevel=2)
        k = np.clip(k, 0, None)
    if k.sum() <= 0:
        raise ValueError(f"{path}: kernel sums to zero")
    return center_kernel(k, scale)
