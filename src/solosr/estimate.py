"""Kernel (and noise) estimation from one image (DESIGN stage 1).

Cross-scale patch recurrence (after Michaeli & Irani, ICCV 2013): small patches of a natural image
recur in its own downscaled copy, and only the right kernel makes the copy's patches look like the
image's. Two estimators use it:

- "gaussian" (default): the anisotropic Gaussian whose degraded copy (y ⊛ k)↓s lets the image's
  textured patches find the closest nearest neighbours (`RecurrenceObjective`), searched over
  (sigma1, sigma2, theta). On the 64 DIV2KRK dev images its error is under half that of the best
  fixed Gaussian at x2 (docs/results/kernel_accuracy_x2.md).
- "recurrence": the nonparametric iteration. Each step degrades the image with the current kernel,
  matches textured patches of the image to patches of that copy, and solves a weighted, regularised
  least-squares problem for the kernel that maps each matched patch's *parent* (the region of the
  image it was made from) to the query patch. Measured here it drifts to kernels about twice too
  wide, so it is opt-in (and "gaussian+recurrence" refines the Gaussian with it).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from typing import Any
from dataclasses import dataclass, field

import numpy as np
import torch

from .config import EstimateConfig
from .kernels import center_kernel, compose_x2_to_x4, gaussian_kernel, warp_kernel
from .pairs import textured_window
from .resize import degrade

log = logging.getLogger(__name__)

MIN_SIDE = 8  # pixels: below this there is nothing to learn a kernel or a network from


@dataclass
class KernelEstimate:
    """Result of `estimate_kernel`. `kernel` is centred for `scale` (the image's degraded copy, (y ⊛ k)↓s, is
    `resize.degrade_np(image, kernel, scale)`)."""

    kernel: np.ndarray
    scale: int
    confidence: float
    iterations: int
    seconds: float
    noise_sigma: float
    jpeg: bool
    blockiness: float
    fallback: str | None = None
    history: list[dict] = field(default_factory=list)
    kernel_x2: np.ndarray | None = None  # at x4: the x2 kernel that `kernel` composes


def luminance(img: np.ndarray) -> np.ndarray:
    """(H,W,3) or (H,W[,1]) in [0,1] -> (H,W) float64."""
    img = np.asarray(img, dtype=np.float64)
    if img.ndim == 3 and img.shape[-1] == 3:
        return img @ np.array([0.299, 0.587, 0.114])
    return img[..., 0] if img.ndim == 3 else img


def _haar_diagonal(x: np.ndarray) -> np.ndarray:
    """Finest diagonal Haar coefficients; for white noise of std sigma they have std sigma."""
    h, w = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
    return (x[:h:2, :w:2] - x[:h:2, 1:w:2] - x[1:h:2, :w:2] + x[1:h:2, 1:w:2]) / 2


_NOISE_BLOCK = 8  # Haar coefficients per block side (16x16 pixels)
_NOISE_QUANTILE = 0.1
_NOISE_BIAS = 0.823  # that quantile of the block estimates, over sigma, for pure Gaussian noise


def _channel_noise(x: np.ndarray) -> float:
    hh = _haar_diagonal(x)
    b = _NOISE_BLOCK
    rows, cols = hh.shape[0] // b, hh.shape[1] // b
    sigmas = np.empty(0)
    if rows * cols >= 20:
        blocks = np.abs(hh[:rows * b, :cols * b]).reshape(rows, b, cols, b).swapaxes(1, 2).reshape(rows * cols, -1)
        px = x[:2 * rows * b, :2 * cols * b].reshape(rows, 2 * b, cols, 2 * b).swapaxes(1, 2).reshape(rows * cols, -1)
        clipped = ((px <= 0.5 / 255) | (px >= 254.5 / 255)).mean(axis=1) > 0.05
        sigmas = np.median(blocks, axis=1)[~clipped] / 0.6745
    if len(sigmas) < 20:  # too few usable blocks: the whole image's median
        return float(np.median(np.abs(hh)) / 0.6745)
    return float(np.quantile(sigmas, _NOISE_QUANTILE) / _NOISE_BIAS)


def estimate_noise(img: np.ndarray) -> float:
    """Per-channel Gaussian noise sigma (0-1 scale), read where the image is flattest.

    Each channel's finest diagonal Haar coefficients are split into 16x16-pixel blocks; each block
    gives a robust (median absolute) sigma, and texture only ever adds to it, so a low quantile of
    the blocks, corrected for the spread pure noise gives, estimates the noise. Blocks with clipped
    pixels (which hide noise) are left out. The channels' median is returned: the noise that
    `PairsConfig.noise_sigma` adds to each channel of the sons. Accepts (H,W) or (H,W,C).
    """
    img = np.asarray(img)
    channels = [img] if img.ndim == 2 else [img[..., c] for c in range(min(img.shape[-1], 3))]
    # One channel at a time in float64: a large photo's peak is one channel's copy, not the image's.
    return float(np.median([_channel_noise(c.astype(np.float64)) for c in channels]))


def blockiness(lum: np.ndarray) -> float:
    """Ratio of the mean step across 8x8 block borders to the mean step elsewhere (about 1 if not JPEG)."""
    dx = np.abs(np.diff(lum, axis=1))
    dy = np.abs(np.diff(lum, axis=0))
    if dx.shape[1] < 16 or dy.shape[0] < 16:
        return 1.0
    col = np.arange(dx.shape[1]) % 8 == 7
    row = np.arange(dy.shape[0]) % 8 == 7
    border = dx[:, col].mean() + dy[row].mean()
    inner = dx[:, ~col].mean() + dy[~row].mean()
    return float(border / max(inner, 1e-12))


def _patches(img: np.ndarray, p: int) -> np.ndarray:
    """All p x p patches of (H,W): (H-p+1, W-p+1, p*p)."""
    v = np.lib.stride_tricks.sliding_window_view(img, (p, p))
    return v.reshape(v.shape[0], v.shape[1], p * p)


class _NN:
    """Exact L2 nearest neighbours: faiss when installed (about 5x faster), else chunked torch."""

    def __init__(self, base: np.ndarray):
        self.base = np.ascontiguousarray(base, dtype=np.float32)
        try:
            import faiss

            self.index: Any = faiss.IndexFlatL2(base.shape[1])
            self.index.add(self.base)
        except ImportError:
            self.index = None

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        q = np.ascontiguousarray(queries, dtype=np.float32)
        if self.index is not None:
            return self.index.search(q, k)
        base = torch.from_numpy(self.base)
        dists, idx = [], []
        for chunk in torch.from_numpy(q).split(2048):
            d = torch.cdist(chunk, base).pow_(2)
            vals, ids = d.topk(k, dim=1, largest=False)
            dists.append(vals)
            idx.append(ids)
        return torch.cat(dists).numpy(), torch.cat(idx).numpy()


def _difference_operator(n: int) -> np.ndarray:
    """Rows are horizontal and vertical first differences of an n x n kernel (flattened)."""
    rows = []
    for i in range(n):
        for j in range(n):
            if j + 1 < n:
                r = np.zeros(n * n)
                r[i * n + j], r[i * n + j + 1] = -1, 1
                rows.append(r)
            if i + 1 < n:
                r = np.zeros(n * n)
                r[i * n + j], r[(i + 1) * n + j] = -1, 1
                rows.append(r)
    return np.array(rows)


def _recurrence_step(y: np.ndarray, k: np.ndarray, scale: int, cfg: EstimateConfig, queries: np.ndarray,
                     rng: np.random.Generator, reg: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, float]:
    """One iteration: returns the new kernel (not yet projected) and the mean match distance."""
    p, K, s = cfg.patch, k.shape[0], scale
    C = K // 2
    ya = degrade(torch.from_numpy(y)[None, None], k, s)[0, 0].double().numpy()
    # Candidate patches of the degraded copy whose parent region lies inside the image.
    P = s * (p - 1) + K
    rows = [r for r in range(ya.shape[0] - p + 1) if s * r - C >= 0 and s * r - C + P <= y.shape[0]]
    cols = [c for c in range(ya.shape[1] - p + 1) if s * c - C >= 0 and s * c - C + P <= y.shape[1]]
    if not rows or not cols:
        raise ValueError("image too small for the kernel size")
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    base = _patches(ya, p)[r0:r1, c0:c1].reshape(-1, p * p)
    rr, cc = np.divmod(np.arange(base.shape[0]), c1 - c0)
    rr, cc = rr + r0, cc + c0
    if base.shape[0] > cfg.database:
        keep = rng.choice(base.shape[0], cfg.database, replace=False)
        base, rr, cc = base[keep], rr[keep], cc[keep]
    base = base - base.mean(1, keepdims=True)
    q = queries - queries.mean(1, keepdims=True)
    dist, idx = _NN(base).search(q, cfg.neighbours)
    # Weights: Gaussian in the match distance, bandwidth from the typical best match.
    h2 = max(float(np.median(dist[:, 0])), 1e-10)
    w = np.exp(-dist / (2 * h2))
    # Parent regions (P x P) in y of every matched patch, mean removed.
    flat_idx = idx.reshape(-1)
    pr, pc = s * rr[flat_idx] - C, s * cc[flat_idx] - C
    win = np.lib.stride_tricks.sliding_window_view(y, (P, P))
    parents = win[pr, pc]  # (M, P, P)
    parents = parents - parents.mean(axis=(1, 2), keepdims=True)
    # Each query pixel (a, b) is <k, parent[s a : s a + K, s b : s b + K]>.
    sub = np.lib.stride_tricks.sliding_window_view(parents, (K, K), axis=(1, 2))[:, ::s, ::s]  # (M,p,p,K,K)
    A = sub.reshape(-1, K * K).astype(np.float32)  # (M*p*p, K*K), rows in (match, pixel) order
    target = np.repeat(q, cfg.neighbours, axis=0).reshape(-1).astype(np.float32)  # same order
    wf = np.repeat(w.reshape(-1), p * p).astype(np.float32)
    Aw = A * wf[:, None]
    AtA = (Aw.T @ A).astype(np.float64)
    Atb = (Aw.T @ target).astype(np.float64)
    scale_ = np.trace(AtA) / (K * K)
    D, spread = reg
    M = AtA + cfg.smoothness * scale_ * D + cfg.spread * scale_ * spread
    # Sum to one as a heavily weighted equation.
    ones = np.ones(K * K)
    big = 1e3 * scale_
    M = M + big * np.outer(ones, ones)
    rhs = Atb + big * ones
    k_new = np.linalg.solve(M, rhs).reshape(K, K)
    return k_new, float(np.mean(dist[:, 0]))


def _select_queries(y: np.ndarray, cfg: EstimateConfig, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Textured p x p patches of y (the top half by contrast), at most cfg.queries of them."""
    pt = _patches(y, cfg.patch).reshape(-1, cfg.patch**2)
    contrast = pt.std(1)
    order = np.argsort(contrast)[::-1]
    top = order[: max(len(order) // 2, 1)]
    chosen = rng.choice(top, min(cfg.queries, len(top)), replace=False)
    return pt[chosen], float(np.median(contrast[top]))


def _centred_patches(img: np.ndarray, p: int) -> np.ndarray:
    pt = _patches(img, p).reshape(-1, p * p)
    return pt - pt.mean(1, keepdims=True)


class RecurrenceObjective:
    """Mean distance from the image's textured patches to their nearest patches in (y ⊛ k)↓s.

    Too wide a kernel makes the copy too smooth, too narrow a one makes it aliased: the distance is
    smallest near the image's own kernel. Query and database positions are fixed, so the objective
    is a deterministic function of k.
    """

    def __init__(self, y: np.ndarray, scale: int, cfg: EstimateConfig, rng: np.random.Generator):
        self.y, self.scale, self.cfg = y, scale, cfg
        pt = _centred_patches(y, cfg.patch)
        contrast = pt.std(1)
        top = np.argsort(contrast)[::-1][: max(len(pt) // 3, 1)]
        self.texture = float(np.median(contrast[top]))
        self.queries = pt[rng.choice(top, min(cfg.fit_queries, len(top)), replace=False)]
        self.rng_state = rng.integers(1 << 31)
        self.evals = 0

    def __call__(self, k: np.ndarray) -> float:
        self.evals += 1
        ya = degrade(torch.from_numpy(self.y)[None, None], k, self.scale)[0, 0].double().numpy()
        base = _centred_patches(ya, self.cfg.patch)
        if len(base) > self.cfg.fit_database:
            pick = np.random.default_rng(self.rng_state).choice(len(base), self.cfg.fit_database, replace=False)
            base = base[pick]
        return float(_NN(base).search(self.queries, 1)[0].mean())


def _gaussian_from_params(params, size: int, scale: int) -> np.ndarray:
    ls1, ls2, theta = params
    s1, s2 = (float(np.clip(math.exp(v), 0.3, 5.0)) for v in (ls1, ls2))
    return center_kernel(gaussian_kernel(size, s1, s2, float(theta)), scale)


def fit_gaussian_by_recurrence(obj: RecurrenceObjective, size: int, scale: int, max_evals: int,
                               init_sigma: float | None = None) -> tuple[np.ndarray, list[dict]]:
    """Search (sigma1, sigma2, theta): an isotropic sweep, an anisotropy sweep, then Nelder-Mead."""
    from scipy.optimize import minimize

    history: list[dict] = []

    def f(params):
        val = obj(_gaussian_from_params(params, size, scale))
        history.append({"eval": len(history) + 1, "params": [float(v) for v in params], "match_error": val})
        return val

    sigmas = [0.6, 0.9, 1.2, 1.5, 1.8, 2.2, 2.7, 3.3] if init_sigma is None else [init_sigma]
    best = min(([math.log(sg), math.log(sg), 0.0] for sg in sigmas), key=f)
    s0 = math.exp(best[0])
    cands = [[math.log(s0 * math.sqrt(r)), math.log(s0 / math.sqrt(r)), th]
             for r in (1.6, 2.5) for th in (0.0, math.pi / 4, math.pi / 2, 3 * math.pi / 4)]
    vals = [f(c) for c in cands]
    iso_val = min(h["match_error"] for h in history[: len(sigmas)])
    if min(vals) < iso_val:
        best = cands[int(np.argmin(vals))]
    left = max(max_evals - len(history), 5)
    simplex = np.array([best, [best[0] + 0.25, best[1], best[2]], [best[0], best[1] - 0.25, best[2]],
                        [best[0], best[1], best[2] + 0.4]])
    minimize(f, np.array(best), method="Nelder-Mead",  # fills `history`: the best evaluation wins
             options={"maxfev": left, "initial_simplex": simplex, "xatol": 0.02, "fatol": 1e-7})
    winner = min(history, key=lambda h: h["match_error"])
    return _gaussian_from_params(winner["params"], size, scale), history


def refine_by_recurrence(lum: np.ndarray, k: np.ndarray, step: int, cfg: EstimateConfig, rng: np.random.Generator,
                         history: list[dict]) -> np.ndarray:
    """The nonparametric iteration from `k` until it stops moving (or `cfg.iters`); appends to `history`."""
    ksize = k.shape[0]
    queries, _ = _select_queries(lum, cfg, rng)
    D = _difference_operator(ksize)
    yy, xx = np.mgrid[0:ksize, 0:ksize] - (ksize // 2 + (step - 1) / 2)
    reg = (D.T @ D, np.diag(((yy**2 + xx**2) / ksize**2).reshape(-1)))
    for it in range(cfg.iters):
        k_raw, err = _recurrence_step(lum, k, step, cfg, queries, rng, reg)
        k_new = center_kernel(np.clip(k_raw, 0, None), step)
        change = float(np.abs(k_new - k).sum())
        history.append({"iter": it + 1, "match_error": err, "change": change})
        k = k_new
        if change < 1e-3:
            break
    return k


def _centre(img: np.ndarray, side: int, grid: int = 1) -> np.ndarray:
    """The middle side x side of (H,W[,C]) `img` (all of a shorter axis), its corner on a multiple of `grid`."""
    h, w = img.shape[:2]
    y, x = max(0, (h - side) // 2) // grid * grid, max(0, (w - side) // 2) // grid * grid
    return img[y:y + side, x:x + side]


def estimate_kernel(lr: np.ndarray, scale: int, cfg: EstimateConfig | None = None) -> KernelEstimate:
    """Estimate the SR kernel of `lr` ((H,W[,C]) float in [0,1]) for `scale` (2, 3 or 4).

    x4 estimates the x2 kernel and composes it (the x4 LR is the x2 step applied twice).
    Never raises on a flat, small or noisy image: it falls back to a Gaussian, sets `fallback`
    and a low `confidence`, and logs a warning. Raises ValueError for an image with a side under
    `MIN_SIDE` pixels, which has nothing to degrade.
    """
    cfg = cfg or EstimateConfig()
    h, w = np.shape(lr)[:2]
    if min(h, w) < MIN_SIDE:
        raise ValueError(f"image of {w}x{h} is too small (at least {MIN_SIDE}x{MIN_SIDE} pixels)")
    if scale == 4 and cfg.x4_effort != 1:
        e = cfg.x4_effort
        cfg = dataclasses.replace(cfg, fit_evals=round(cfg.fit_evals * e), fit_queries=round(cfg.fit_queries * e),
                                  fit_database=round(cfg.fit_database * e))
    t0 = time.perf_counter()
    noise = estimate_noise(lr)
    # A large image is read in its centre: JPEG blocks within 1024 px (on the 8x8 grid), the kernel in max_side.
    block = blockiness(luminance(_centre(lr, 1024, grid=8)))
    lum = luminance(_centre(lr, cfg.max_side))
    step = 2 if scale == 4 else scale
    ksize = cfg.kernel_size + (4 if scale == 3 else 0)
    init = center_kernel(gaussian_kernel(ksize, cfg.init_sigma * (1.5 if scale == 3 else 1.0)), step)

    def finish(k_step, confidence, iters, fallback=None, history=()):
        if scale == 4 and fallback is None and cfg.x4_width != 1:
            k_step = warp_kernel(k_step, 2, cfg.x4_width * np.eye(2))
        k = compose_x2_to_x4(k_step) if scale == 4 else center_kernel(k_step, scale)
        if fallback:
            log.info("kernel estimation fell back to %s", fallback)
        return KernelEstimate(k, scale, confidence, iters,
                              time.perf_counter() - t0, noise, block > 1.15, block, fallback, list(history),
                              kernel_x2=center_kernel(k_step, 2) if scale == 4 else None)

    if min(h, w) < cfg.min_side:
        return finish(init, 0.0, 0, f"a Gaussian (image {w}x{h} is too small to estimate a kernel)")
    if noise > 0.04:
        return finish(init, 0.0, 0, f"a Gaussian (image too noisy: sigma {noise * 255:.1f}/255)")
    rng = np.random.default_rng(cfg.seed)
    obj = RecurrenceObjective(lum, step, cfg, rng)
    if obj.texture < cfg.min_texture and max(h, w) > cfg.max_side:
        # A large photo's centre can be sky or a wall: then its most textured window.
        y0, x0, hh, ww = textured_window(lr, cfg.max_side)
        lum = luminance(lr[y0:y0 + hh, x0:x0 + ww])
        rng = np.random.default_rng(cfg.seed)
        obj = RecurrenceObjective(lum, step, cfg, rng)
    if obj.texture < cfg.min_texture:
        return finish(init, 0.0, 0, "a Gaussian (image too flat to estimate a kernel)")
    start_err = obj(init)
    history: list[dict] = []
    k = init
    if cfg.method in ("gaussian", "gaussian+recurrence"):
        k, history = fit_gaussian_by_recurrence(obj, ksize, step, cfg.fit_evals)
    if cfg.method in ("recurrence", "gaussian+recurrence"):
        k = refine_by_recurrence(lum, k, step, cfg, rng, history)
    final_err = obj(k)
    # Confidence: how sharply the recurrence distance singles out this kernel, from the relative gain
    # over the starting Gaussian and the image's texture (flat images say little about their kernel).
    gain = float(np.clip((start_err - final_err) / max(start_err, 1e-12), 0, 1))
    texture_term = float(np.clip(obj.texture / (5 * cfg.min_texture), 0, 1))
    confidence = float(np.clip(0.5 * texture_term + 5 * gain, 0, 1))
    return finish(k, confidence, obj.evals if cfg.method == "gaussian" else len(history), None, history)
