"""Internal training pairs (DESIGN stage 2): HR fathers from the image itself, LR sons by the kernel.

Fathers are the image (a photo over `PairsConfig.max_pixels`: its most textured window of that size)
and bicubic-downscaled copies of it; a crop of a father is turned by one of
the 8 rotations/flips *before* it is degraded, so every son carries the image's own kernel in its
own orientation. Crops are drawn with probability rising with the image gradient.
"""

from __future__ import annotations

import functools
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


TEXTURE_CELLS = 1 << 20  # textured_window scores a larger image in blocks: about this many, not every pixel


def textured_window(lr: np.ndarray, height: int, width: int | None = None) -> tuple[int, int, int, int]:
    """(y, x, h, w) of the LR window (height x width, clipped to the image) with the most gradient energy.

    `lr` is (H,W) or (H,W,C). An image over TEXTURE_CELLS pixels is scored in square blocks (positions on
    the blocks' grid): a large photo costs two float32 copies of it and a small array, not float64 copies.
    """
    g = np.asarray(lr)
    g = g.mean(-1, dtype=np.float32) if g.ndim == 3 else g.astype(np.float32, copy=False)
    H, W = g.shape
    h, w = min(height, H), min(width or height, W)
    b = max(1, math.isqrt(H * W // TEXTURE_CELLS))  # block side
    energy = np.zeros_like(g)
    energy[:, 1:] += np.abs(np.diff(g, axis=1))
    energy[1:, :] += np.abs(np.diff(g, axis=0))
    del g
    for axis in (0, 1):  # sums over b x b blocks, float64
        energy = np.add.reduceat(energy, np.arange(0, energy.shape[axis], b), axis=axis, dtype=np.float64)
    hb, wb = max(1, h // b), max(1, w // b)  # the window's size in whole blocks
    c = np.pad(energy.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    sums = c[hb:, wb:] - c[:-hb, wb:] - c[hb:, :-wb] + c[:-hb, :-wb]
    by, bx = np.unravel_index(int(np.argmax(sums)), sums.shape)
    return min(int(by) * b, H - h), min(int(bx) * b, W - w), h, w


def window_shape(h: int, w: int, max_pixels: int) -> tuple[int, int]:
    """The (height, width) of at most `max_pixels` pixels with the shape of an h x w image
    (a large photo's fathers come from its most textured window of this size: settings.md#fathers_window)."""
    hh = max(1, min(h, math.isqrt(max_pixels * h // w)))
    return hh, max(1, min(w, max_pixels // hh))


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
        # A large photo: fathers from its most textured window of this size, found at the first draw.
        self.window = window_shape(h, w, cfg.max_pixels) if 0 < cfg.max_pixels < h * w else None
        if self.window is not None:
            h, w = self.window
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
        self.image = image

    @functools.cached_property
    def pyramid(self) -> tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor]:
        """(fathers, their crop-position CDFs, the probability of each father), made at the first draw: a
        sampler used only for `validation_pair` (kd's student) never builds them."""
        full = self.crop + 2 * self.margin
        image = self.image
        if self.window is not None:
            y, x, hh, ww = textured_window(image.mean(0).cpu().numpy(), *self.window)
            image = image[:, y:y + hh, x:x + ww]
        fathers: list[torch.Tensor] = []
        # Per father, the cumulative distribution of crop positions: a draw is a binary search, where
        # torch.multinomial reads every weight (170 ms a crop for a 6-megapixel father).
        cdfs: list[torch.Tensor] = []
        scales = np.linspace(1.0, self.cfg.min_father_scale, max(self.cfg.n_father_scales, 1))
        for fs in scales:
            father = image if fs == 1.0 else imresize(image, scale=float(fs))
            if min(father.shape[-2:]) < full:
                continue
            fathers.append(father)
            g = _gradient_map(father, full)  # (H-full+1, W-full+1): one value per crop position
            p = g.flatten()
            p = p / p.sum().clamp_min(1e-12)
            mix = self.cfg.gradient_weight
            p = mix * p + (1 - mix) / p.numel()
            cdfs.append(torch.cumsum(p.cpu().double(), 0))  # drawn with the CPU generator
        # Larger fathers hold more of the image; weight them by area.
        areas = torch.tensor([float(f.shape[-1] * f.shape[-2]) for f in fathers])
        return fathers, cdfs, areas / areas.sum()

    @property
    def fathers(self) -> list[torch.Tensor]:
        return self.pyramid[0]

    def sample(self, batch: int | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """A batch (son, son_up, father): (B,C,crop/s,crop/s), (B,C,crop,crop), (B,C,crop,crop)."""
        batch = batch or self.cfg.batch
        full = self.crop + 2 * self.margin
        fathers, cdfs, father_p = self.pyramid
        which = torch.multinomial(father_p, batch, replacement=True, generator=self.gen)
        crops = []
        for i in which.tolist():
            father, cdf = fathers[i], cdfs[i]
            u = torch.rand((), generator=self.gen, dtype=torch.float64) * cdf[-1]
            pos = min(int(torch.searchsorted(cdf, u, right=True)), cdf.numel() - 1)
            ncols = father.shape[-1] - full + 1
            y, x = divmod(pos, ncols)
            t = int(torch.randint(8, (1,), generator=self.gen))
            crops.append(dihedral(father[:, y:y + full, x:x + full], t))
        batch_fathers = torch.stack(crops)
        sons = self.corrupt(degrade(batch_fathers, self.kernel, self.scale))
        son_up = son_input(sons, self.scale, batch_fathers.shape[-2:])
        m, s, c = self.margin, self.scale, self.crop
        sl = (Ellipsis, slice(m, m + c), slice(m, m + c))
        son = sons[..., m // s:(m + c) // s, m // s:(m + c) // s]
        return son.contiguous(), son_up[sl].contiguous(), batch_fathers[sl].contiguous()

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
