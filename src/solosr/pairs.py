"""Internal training pairs (DESIGN stage 2): HR fathers from the image itself, LR sons by the kernel.

Fathers are the image and bicubic-downscaled copies of it; a crop of a father is turned by one of
the 8 rotations/flips *before* it is degraded, so every son carries the image's own kernel in its
own orientation. Crops are drawn with probability rising with the image gradient.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .config import PairsConfig
from .resize import degrade, imresize


def dihedral(x: torch.Tensor, t: int) -> torch.Tensor:
    """One of the 8 rotations/flips of (..., H, W): t in 0..7 (t & 3 quarter turns, t & 4 flip)."""
    if t & 4:
        x = x.flip(-1)
    # rot90 by 0 copies: t = 0 (inference's one pass) returns x itself, a full-size copy less.
    return torch.rot90(x, t & 3, dims=(-2, -1)) if t & 3 else x


def dihedral_inverse(x: torch.Tensor, t: int) -> torch.Tensor:
    if t & 3:
        x = torch.rot90(x, -(t & 3), dims=(-2, -1))
    if t & 4:
        x = x.flip(-1)
    return x


def jpeg_roundtrip(x: torch.Tensor, quality: int) -> torch.Tensor:
    """Encode and decode every (C,H,W) image of a (B,C,H,W) batch in [0,1] as JPEG at `quality`."""
    import io

    from PIL import Image

    out = []
    for img in x.detach().clamp(0, 1).cpu():
        arr = (img.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(arr[..., 0] if arr.shape[-1] == 1 else arr).save(buf, format="JPEG", quality=int(quality))
        back = np.asarray(Image.open(buf), dtype=np.float32) / 255
        out.append(torch.from_numpy(back.reshape(arr.shape)).permute(2, 0, 1))
    return torch.stack(out).to(x.device)


def son_input(son: torch.Tensor, scale: int, size: tuple[int, ...]) -> torch.Tensor:
    """What the network sees: the LR image bicubic-upscaled by `scale` to `size`."""
    return imresize(son, scale=scale, size=size)


def textured_window(lr: np.ndarray, height: int, width: int | None = None) -> tuple[int, int, int, int]:
    """(y, x, h, w) of the LR window (height x width, clipped to the image) with the most gradient energy."""
    g = np.asarray(lr, dtype=np.float64)
    g = g.mean(-1) if g.ndim == 3 else g
    h, w = min(height, g.shape[0]), min(width or height, g.shape[1])
    energy = np.zeros_like(g)
    energy[:, 1:] += np.abs(np.diff(g, axis=1))
    energy[1:, :] += np.abs(np.diff(g, axis=0))
    c = np.pad(energy.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums = c[h:, w:] - c[:-h, w:] - c[h:, :-w] + c[:-h, :-w]
    y, x = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return int(y), int(x), h, w


def _gradient_map(img: torch.Tensor, box: int) -> torch.Tensor:
    """(H-box+1, W-box+1) gradient magnitude of the luminance, averaged over each box x box window.

    Box sums from an integral image (float64): avg_pool2d with a 112-pixel box costs box^2 per
    pixel (120 ms at 320x320 on an AVX2 EPYC, most of a minute at 3000x2000).
    """
    y = img.mean(dim=0)
    g = torch.zeros_like(y)
    g[:, 1:] += (y[:, 1:] - y[:, :-1]).abs()
    g[1:, :] += (y[1:, :] - y[:-1, :]).abs()
    c = F.pad(g.double().cumsum(0).cumsum(1), (1, 0, 1, 0))
    sums = c[box:, box:] - c[:-box, box:] - c[box:, :-box] + c[:-box, :-box]
    return (sums / (box * box)).clamp_min_(0).to(img.dtype)


class PairSampler:
    """Draws batches of (son, son_up, father) crops, (B,C,P/s,P/s), (B,C,P,P) and (B,C,P,P), from one
    LR image: the son, its interpolation (made with the margin's context) and the father.

    `image` is (C,H,W) float in [0,1]; `kernel` is centred for `scale` (see kernels.center_kernel).
    """

    def __init__(self, image: torch.Tensor, kernel: np.ndarray, scale: int, cfg: PairsConfig,
                 generator: torch.Generator):
        self.scale, self.cfg, self.gen = scale, cfg, generator
        self.kernel = torch.as_tensor(np.asarray(kernel, dtype=np.float32), device=image.device)
        c, h, w = image.shape
        self.pixels = h * w
        # Margin around each crop so the blur and the cubic upsampling see real pixels, not padding.
        kmargin = self.kernel.shape[0] // 2 + 2 * scale
        self.margin = int(math.ceil(kmargin / scale)) * scale
        side = min(h, w)
        crop = min(cfg.crop, side - 2 * self.margin)
        crop -= crop % scale
        if crop < 4 * scale:
            # Tiny image: no margin; the padding the blur sees is the symmetric one.
            self.margin = 0
            crop = side - side % scale
        if crop < 2 * scale:
            raise ValueError(f"image of {h}x{w} is too small to learn from at x{scale}")
        self.crop = crop
        full = crop + 2 * self.margin
        self.fathers: list[torch.Tensor] = []
        # Per father, the cumulative distribution of crop positions: a draw is a binary search, where
        # torch.multinomial reads every weight (170 ms a crop for a 6-megapixel father).
        self.cdfs: list[torch.Tensor] = []
        scales = np.linspace(1.0, cfg.min_father_scale, max(cfg.n_father_scales, 1))
        for fs in scales:
            father = image if fs == 1.0 else imresize(image, scale=float(fs))
            if min(father.shape[-2:]) < full:
                continue
            self.fathers.append(father)
            g = _gradient_map(father, full)  # (H-full+1, W-full+1): one value per crop position
            p = g.flatten()
            p = p / p.sum().clamp_min(1e-12)
            mix = cfg.gradient_weight
            p = mix * p + (1 - mix) / p.numel()
            self.cdfs.append(torch.cumsum(p.cpu().double(), 0))  # drawn with the CPU generator
        # Larger fathers hold more of the image; weight them by area.
        areas = torch.tensor([float(f.shape[-1] * f.shape[-2]) for f in self.fathers])
        self.father_p = areas / areas.sum()

    def sample(self, batch: int | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """A batch (son, son_up, father): (B,C,crop/s,crop/s), (B,C,crop,crop), (B,C,crop,crop)."""
        batch = batch or self.cfg.batch
        full = self.crop + 2 * self.margin
        which = torch.multinomial(self.father_p, batch, replacement=True, generator=self.gen)
        crops = []
        for i in which.tolist():
            father = self.fathers[i]
            cdf = self.cdfs[i]
            u = torch.rand((), generator=self.gen, dtype=torch.float64) * cdf[-1]
            pos = min(int(torch.searchsorted(cdf, u, right=True)), cdf.numel() - 1)
            ncols = father.shape[-1] - full + 1
            y, x = divmod(pos, ncols)
            t = int(torch.randint(8, (1,), generator=self.gen))
            crops.append(dihedral(father[:, y:y + full, x:x + full], t))
        fathers = torch.stack(crops)
        sons = self.corrupt(degrade(fathers, self.kernel, self.scale))
        son_up = son_input(sons, self.scale, fathers.shape[-2:])
        m, s, c = self.margin, self.scale, self.crop
        sl = (Ellipsis, slice(m, m + c), slice(m, m + c))
        son = sons[..., m // s:(m + c) // s, m // s:(m + c) // s]
        return son.contiguous(), son_up[sl].contiguous(), fathers[sl].contiguous()

    def corrupt(self, sons: torch.Tensor) -> torch.Tensor:
        """Give the sons the input's own noise and JPEG compression, so the net learns to remove them."""
        if self.cfg.noise_sigma > 0:
            noise = torch.randn(sons.shape, generator=self.gen).to(sons.device)
            sons = sons + self.cfg.noise_sigma * noise
        if self.cfg.jpeg_quality > 0:
            sons = jpeg_roundtrip(sons, self.cfg.jpeg_quality)
        return sons

    def validation_pair(self, image: torch.Tensor, max_side: int = 256) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(son, son_up, father) of the whole image (centre-cropped to `max_side`), for the lr policy."""
        c, h, w = image.shape
        hh, ww = min(h, max_side), min(w, max_side)
        hh, ww = hh - hh % self.scale, ww - ww % self.scale
        y0, x0 = (h - hh) // 2, (w - ww) // 2
        father = image[:, y0:y0 + hh, x0:x0 + ww][None]
        son = self.corrupt(degrade(father, self.kernel, self.scale))
        return son, son_input(son, self.scale, (hh, ww)), father
