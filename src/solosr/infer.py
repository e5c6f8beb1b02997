"""Reconstruction (DESIGN stage 5): tiled inference, self-ensemble over the rotations/flips that
keep the kernel, back-projection."""

from __future__ import annotations

import math

import numpy as np
import torch

from .config import InferConfig
from .device import as_input, autocast
from .kernels import center_kernel
from .pairs import dihedral, dihedral_inverse, son_input
from .progress import Progress
from .resize import degrade, imresize


def _tiles(n: int, tile: int) -> list[tuple[int, int]]:
    if tile <= 0 or n <= tile:
        return [(0, n)]
    count = math.ceil(n / tile)
    edges = np.linspace(0, n, count + 1).round().astype(int)
    return list(zip(edges[:-1].tolist(), edges[1:].tolist()))


@torch.no_grad()
def apply_net(net: torch.nn.Module, lr: torch.Tensor, scale: int, *, tile: int = 0, amp: bool = True,
              device: torch.device | None = None, on_tile=None) -> torch.Tensor:
    """Run `net` on the LR image (C,h,w) -> (C, h*s, w*s), float32 on the CPU, stored channels last.

    With `tile` > 0 the LR image is cut into tiles of about that side, each with enough margin
    for the upsampling and the net's receptive field, so the result equals the untiled one.
    `on_tile(done, total)` is called after each tile.
    """
    device = device or next(net.parameters()).device
    c, h, w = lr.shape
    radius = getattr(net, "receptive_radius", 16)
    margin = math.ceil(radius / scale) + 3  # + the cubic's reach of 2 LR pixels
    # Laid out (H,W,C) and seen as (C,H,W): the (H,W,C) array the image is returned as is this one, not a copy.
    out = torch.empty(h * scale, w * scale, c).permute(2, 0, 1)
    tiles = [(y, x) for y in _tiles(h, tile) for x in _tiles(w, tile)]
    for i, ((y0, y1), (x0, x1)) in enumerate(tiles):
        ya, yb = max(0, y0 - margin), min(h, y1 + margin)
        xa, xb = max(0, x0 - margin), min(w, x1 + margin)
        region = lr[:, ya:yb, xa:xb][None].to(device)
        up = son_input(region, scale, ((yb - ya) * scale, (xb - xa) * scale))
        with autocast(device, amp):
            sr = net(as_input(region, device), as_input(up, device))
        sr = sr.float()[0].cpu()
        oy, ox = (y0 - ya) * scale, (x0 - xa) * scale
        out[:, y0 * scale:y1 * scale, x0 * scale:x1 * scale] = \
            sr[:, oy:oy + (y1 - y0) * scale, ox:ox + (x1 - x0) * scale]
        if on_tile is not None:
            on_tile(i + 1, len(tiles))
    return out


@torch.no_grad()
def back_project(sr: torch.Tensor, lr: torch.Tensor, kernel: np.ndarray, scale: int, iters: int, *,
                 in_place: bool = False) -> torch.Tensor:
    """Nudge (C,H,W) `sr` so that degrading it with `kernel` gives back (C,h,w) `lr` (Irani & Peleg).
    `in_place` updates `sr` itself: a full-size copy less at the image's peak memory."""
    k = torch.as_tensor(np.asarray(kernel, dtype=np.float32))
    sr = sr[None] if in_place else sr[None].clone()
    for _ in range(iters):
        residual = degrade(sr, k, scale).neg_().add_(lr[None])  # lr - degraded, in the degraded copy's memory
        _add_upscaled(sr, residual, scale)
        del residual  # before the next step's: one LR-size residual at a time
    return sr[0]


BAND_LR_ROWS = 64  # the upscaled residual is added in bands of this many LR rows: a band's memory, not the image's


def _add_upscaled(sr: torch.Tensor, residual: torch.Tensor, scale: int) -> None:
    """sr += imresize(residual) to sr's size, in bands of rows. Each band is resized from its rows and
    4 more each side (the cubic's reach of 2, with room), so it equals the whole image's resize where kept."""
    h, (H, W) = residual.shape[-2], sr.shape[-2:]
    if h <= BAND_LR_ROWS:
        sr.add_(imresize(residual, scale=scale, size=(H, W)))
        return
    margin = 4
    for r0 in range(0, h, BAND_LR_ROWS):
        r1 = min(h, r0 + BAND_LR_ROWS)
        a, b = max(0, r0 - margin), min(h, r1 + margin)
        # Output rows of the band, where the whole image's would be: [a*s, b*s) but the last band
        # reaches H, which can be short of h*s only when the image's size was not a multiple of s.
        rows = min(b * scale, H) - a * scale
        band = imresize(residual[..., a:b, :], scale=scale, size=(rows, W))
        y0, y1 = r0 * scale, min(r1 * scale, H)
        sr[..., y0:y1, :].add_(band[..., y0 - a * scale:y1 - a * scale, :])


def kernel_symmetries(kernel: np.ndarray, scale: int, tolerance: float) -> list[int]:
    """The rotations/flips t (0..7, as `pairs.dihedral` turns an image) that leave the blur as it is:
    after t and re-centring for `scale`, at most `tolerance` of its mass is moved (half the L1 distance).

    A net trained for the kernel is right on a turned input only for these: the turned input carries
    the turned blur. An anisotropic Gaussian keeps 0 and 2 (a half turn); an isotropic one keeps all 8.
    """
    k = center_kernel(kernel, scale)
    turned = (center_kernel(dihedral(torch.from_numpy(k), t).numpy(), scale) for t in range(8))
    return [t for t, kt in enumerate(turned) if t == 0 or 0.5 * np.abs(kt - k).sum() <= tolerance]


def ensemble_transforms(kernel: np.ndarray, scale: int, cfg: InferConfig) -> list[int]:
    """The rotations/flips the self-ensemble averages over: [0] without the ensemble; with it, those
    that leave the kernel as it is (`kernel_symmetries`, within `cfg.ensemble_tolerance`).

    The net learns to undo the image's own blur in its own orientation (the fathers are turned before
    they are blurred), so on a turned input it undoes the wrong blur wherever the turn changes the
    kernel: with all 8 a DIV2K photo with an elongated blur lost 2.4 dB against one pass.
    """
    if not cfg.ensemble:
        return [0]
    return kernel_symmetries(kernel, scale, cfg.ensemble_tolerance)


def super_resolve(net: torch.nn.Module, lr: torch.Tensor, scale: int, kernel: np.ndarray, cfg: InferConfig,
                  *, device: torch.device, progress: Progress | None = None) -> torch.Tensor:
    """The final image: (C,h,w) in [0,1] -> (C, h*s, w*s) in [0,1], float32 on the CPU."""
    net.eval()
    transforms = ensemble_transforms(kernel, scale, cfg)
    acc = None
    for i, t in enumerate(transforms):
        def on_tile(done: int, total: int, i=i) -> None:  # progress over all passes' tiles
            assert progress is not None
            progress("infer", i * total + done, len(transforms) * total)

        out = dihedral_inverse(apply_net(net, dihedral(lr, t), scale, tile=cfg.tile, amp=cfg.amp, device=device,
                                         on_tile=on_tile if progress else None), t)
        acc = out if acc is None else acc.add_(out)
    assert acc is not None  # ensemble_transforms gives at least the identity
    sr = acc.div_(len(transforms))
    if cfg.backprojection_iters:
        sr = back_project(sr, lr, kernel, scale, cfg.backprojection_iters, in_place=True)
    return sr.clamp_(0, 1)
