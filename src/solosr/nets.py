"""Networks. `SRNet`: a ZSSR-style residual CNN over the bicubic-interpolated input.

Input and output are (B,C,H,W) float, values about [0,1]; the output is input + body(input).
"""

from __future__ import annotations

import torch
from torch import nn


def conv_stack(c_in: int, c_out: int, width: int, depth: int) -> nn.Sequential:
    """`depth` 3x3 convolutions, ReLU between them, none after the last."""
    if depth < 2:
        raise ValueError("depth must be at least 2")
    layers: list[nn.Module] = [nn.Conv2d(c_in, width, 3, padding=1), nn.ReLU(inplace=True)]
    for _ in range(depth - 2):
        layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True)]
    layers.append(nn.Conv2d(width, c_out, 3, padding=1))
    return nn.Sequential(*layers)


class SRNet(nn.Module):
    """Residual CNN: `x + body(x)` on the interpolated input (ZSSR: depth 8, width 64).

    The last layer starts at zero, so an untrained net is exactly bicubic interpolation.
    """

    def __init__(self, channels: int = 3, *, width: int = 64, depth: int = 8):
        super().__init__()
        self.channels, self.width, self.depth = channels, width, depth
        self.body = conv_stack(channels, channels, width, depth)
        nn.init.zeros_(self.body[-1].weight)
        nn.init.zeros_(self.body[-1].bias)

    @property
    def receptive_radius(self) -> int:
        """Pixels of context either side that an output pixel depends on."""
        return self.depth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x).to(x.dtype)
