"""The one bicubic resize (MATLAB `imresize` semantics) and `degrade`, used everywhere.

MATLAB semantics: pixel-centre alignment (output pixel i sits at input coordinate
(i + 0.5) / scale - 0.5), the cubic kernel with a = -0.5, an antialiasing kernel
stretched by 1/scale when downscaling, and symmetric (edge-repeating) padding.
Everything works on torch tensors (B,C,H,W) or (C,H,W) so it runs on the device of its
input; `imresize_np` and `degrade_np` wrap it for (H,W) or (H,W,C) numpy arrays.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F


def _cubic(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    return (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1) + (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * (
        (ax > 1) & (ax <= 2)
    )


@lru_cache(maxsize=64)
def _contributions(in_len: int, out_len: int, scale: float, antialias: bool = True):
    """Taps of a 1-D resize: (indices, weights), both (out_len, P), indices mirrored into range."""
    if scale < 1 and antialias:
        width = 4.0 / scale

        def kernel(x):
            return scale * _cubic(scale * x)
    else:
        width = 4.0
        kernel = _cubic
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    taps = int(math.ceil(width)) + 2
    idx = left[:, None] + np.arange(taps)[None, :]  # 1-based
    w = kernel(u[:, None] - idx)
    w = w / w.sum(axis=1, keepdims=True)
    keep = np.any(w != 0, axis=0)
    w, idx = w[:, keep], idx[:, keep]
    mirror = np.concatenate([np.arange(in_len), np.arange(in_len)[::-1]])
    idx = mirror[np.mod(idx.astype(np.int64) - 1, 2 * in_len)]
    return idx, w


def _resize_axis(x: torch.Tensor, dim: int, out_len: int, scale: float) -> torch.Tensor:
    idx, w = _contributions(x.shape[dim], out_len, scale)
    idx_t = torch.from_numpy(idx).to(x.device)
    w_t = torch.from_numpy(w).to(device=x.device, dtype=x.dtype)
    shape = [1] * x.ndim
    shape[dim] = out_len
    out = x.index_select(dim, idx_t[:, 0]).mul_(w_t[:, 0].reshape(shape))
    for p in range(1, idx.shape[1]):  # one tap at a time keeps memory at two outputs' size
        out.add_(x.index_select(dim, idx_t[:, p]).mul_(w_t[:, p].reshape(shape)))
    return out


def output_size(in_size: tuple[int, int], scale: float) -> tuple[int, int]:
    """MATLAB's output size: ceil(scale * input)."""
    return tuple(int(math.ceil(scale * s - 1e-9)) for s in in_size)  # type: ignore[return-value]


def imresize(
    x: torch.Tensor, scale: float | None = None, size: tuple[int, ...] | None = None
) -> torch.Tensor:
    """Bicubic resize of (..., H, W) float tensor by `scale` or to `size` (H', W').

    When only `size` is given the per-axis scale is size / input; when both are given,
    `scale` sets the kernel and `size` the output (as MATLAB does).
    """
    if scale is None and size is None:
        raise ValueError("imresize needs a scale or a size")
    h, w = x.shape[-2:]
    if size is None:
        assert scale is not None
        size = output_size((h, w), scale)
    sh = scale if scale is not None else size[0] / h
    sw = scale if scale is not None else size[1] / w
    orig_dtype = x.dtype
    if not x.is_floating_point() or x.dtype in (torch.float16, torch.bfloat16):
        x = x.float()
    # Resize the axis that shrinks first: less work.
    if sh <= sw:
        x = _resize_axis(x, x.ndim - 2, size[0], sh)
        x = _resize_axis(x, x.ndim - 1, size[1], sw)
    else:
        x = _resize_axis(x, x.ndim - 1, size[1], sw)
        x = _resize_axis(x, x.ndim - 2, size[0], sh)
    return x.to(orig_dtype) if orig_dtype.is_floating_point else x


def _symmetric_index(n: int, before: int, after: int, device) -> torch.Tensor:
    mirror = torch.cat([torch.arange(n), torch.arange(n).flip(0)])
    return mirror[torch.remainder(torch.arange(-before, n + after), 2 * n)].to(device)


def pad_symmetric(x: torch.Tensor, top: int, bottom: int, left: int, right: int) -> torch.Tensor:
    """Pad (..., H, W) by repeating mirrored edges (d c b a | a b c d), any width."""
    h, w = x.shape[-2:]
    x = x.index_select(x.ndim - 2, _symmetric_index(h, top, bottom, x.device))
    return x.index_select(x.ndim - 1, _symmetric_index(w, left, right, x.device))


# Above this many input values `blur` works in bands of output rows: the padded copy and the convolution's
# workspace stay a band's size (2000x2000 x2, in-place back-projection: peak 1790 -> 1550 MiB). 1 << 21, not
# 1 << 23: a 24 MP photo's back-projection (x2, 2 steps, EPYC) 10-12 s instead of 16-17, 100 MiB less.
BLUR_BAND_ELEMENTS = 1 << 21


def blur(x: torch.Tensor, kernel: torch.Tensor | np.ndarray, stride: int = 1) -> torch.Tensor:
    """Correlate every channel of (B,C,H,W) with a 2-D kernel (symmetric borders), sample every `stride`.

    Output pixel (i, j) is sum_ab k[a,b] x[s*i + a - kh//2, s*j + b - kw//2] (scipy.ndimage.correlate
    convention, then `[::s, ::s]`).
    """
    k = torch.as_tensor(np.asarray(kernel, dtype=np.float32) if isinstance(kernel, np.ndarray) else kernel)
    k = k.to(device=x.device, dtype=x.dtype)
    kh, kw = k.shape
    b, c, h, w = x.shape
    weight = k.expand(c, 1, kh, kw)
    rows = _symmetric_index(h, kh // 2, kh - 1 - kh // 2, x.device)  # padded row -> image row
    cols = _symmetric_index(w, kw // 2, kw - 1 - kw // 2, x.device)
    out_h = (h - 1) // stride + 1
    # A large image in bands of output rows, each padded from its own rows (BLUR_BAND_ELEMENTS).
    band = max(1, BLUR_BAND_ELEMENTS // max(1, b * c * w * stride)) if x.numel() > BLUR_BAND_ELEMENTS else out_h
    if band >= out_h:
        return F.conv2d(x.index_select(2, rows).index_select(3, cols), weight, stride=stride, groups=c)
    out = x.new_empty(b, c, out_h, (w - 1) // stride + 1)
    for o0 in range(0, out_h, band):
        o1 = min(out_h, o0 + band)
        part = x.index_select(2, rows[o0 * stride:(o1 - 1) * stride + kh]).index_select(3, cols)
        out[:, :, o0:o1] = F.conv2d(part, weight, stride=stride, groups=c)
    return out


def degrade(hr: torch.Tensor, kernel: torch.Tensor | np.ndarray, scale: int) -> torch.Tensor:
    """LR = (HR ⊛ k)[::s, ::s] after cropping HR to a multiple of s. (B,C,H,W) -> (B,C,H/s,W/s).

    The kernel carries its own sub-pixel alignment (see `kernels.center_kernel`).
    """
    h, w = hr.shape[-2:]
    hr = hr[..., : h - h % scale, : w - w % scale]
    return blur(hr, kernel, stride=scale)


def _np_call(fn, arr: np.ndarray, *args, **kwargs) -> np.ndarray:
    a = np.asarray(arr, dtype=np.float32)
    squeeze = a.ndim == 2
    t = torch.from_numpy(a[..., None] if squeeze else a).permute(2, 0, 1)[None]
    out = fn(t, *args, **kwargs)[0].permute(1, 2, 0).numpy()
    return out[..., 0] if squeeze else out


def imresize_np(arr: np.ndarray, scale: float | None = None, size: tuple[int, ...] | None = None) -> np.ndarray:
    """`imresize` for (H,W) or (H,W,C) float arrays."""
    return _np_call(imresize, arr, scale=scale, size=size)


def degrade_np(hr: np.ndarray, kernel: np.ndarray, scale: int) -> np.ndarray:
    """`degrade` for (H,W) or (H,W,C) float arrays."""
    return _np_call(degrade, hr, kernel, scale)
