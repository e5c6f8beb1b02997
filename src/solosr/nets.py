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
    """Residual CNN: `z + body(z)` on the interpolated input (ZSSR: depth 8, width 64).

    With `pre_depth` > 0 a residual preprocessing module comes first: z = p(x) = x + g(x)
    (the teacher's, DESIGN stage 3); otherwise z = x. Last layers start at zero, so an untrained
    net is exactly bicubic interpolation.
    """

    def __init__(self, channels: int = 3, *, width: int = 64, depth: int = 8, pre_depth: int = 0,
                 pre_width: int = 32):
        super().__init__()
        self.channels, self.width, self.depth, self.pre_depth = channels, width, depth, pre_depth
        self.pre = conv_stack(channels, channels, pre_width, pre_depth) if pre_depth else None
        self.body = conv_stack(channels, channels, width, depth)
        for stack in (self.pre, self.body):
            if stack is not None:
                nn.init.zeros_(stack[-1].weight)
                nn.init.zeros_(stack[-1].bias)
        # The feature that distillation compares: the activation after the middle conv layer.
        self.feature_index = 2 * (depth // 2 - 1) + 1

    @property
    def receptive_radius(self) -> int:
        """Pixels of context either side that an output pixel depends on."""
        return self.depth + self.pre_depth

    def forward(self, x: torch.Tensor, return_features: bool = False):
        """(B,C,H,W) -> (B,C,H,W); with `return_features`, also the middle feature (B,width,H,W)."""
        z = x if self.pre is None else x + self.pre(x).to(x.dtype)
        h = z
        feature = None
        for i, layer in enumerate(self.body):
            h = layer(h)
            if i == self.feature_index:
                feature = h
        out = z + h.to(z.dtype)
        return (out, feature) if return_features else out


class Student(nn.Module):
    """The student SRNet plus a 1x1 adapter that maps its middle feature to the teacher's width."""

    def __init__(self, net: SRNet, teacher_width: int):
        super().__init__()
        self.net = net
        self.adapter = nn.Conv2d(net.width, teacher_width, 1)

    @property
    def receptive_radius(self) -> int:
        return self.net.receptive_radius

    def forward(self, x: torch.Tensor, return_features: bool = False):
        if not return_features:
            return self.net(x)
        out, feature = self.net(x, return_features=True)
        return out, self.adapter(feature)
