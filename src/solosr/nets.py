"""Networks: residual CNNs that map an LR image to its x`scale` super-resolution.

Every net takes the LR image `lr` (B,C,h,w) and its bicubic interpolation `up` (B,C,h*s,w*s) (made
from `lr` when not given: a caller that has it with more context, a crop cut from a larger
interpolation, passes it) and returns (B,C,h*s,w*s): `up` plus a learned residual. Values about [0,1].

- `LRNet` (the default, `NetConfig.space = "lr"`): the convolutions run at the input's resolution
  and a sub-pixel convolution (pixel shuffle) makes the residual, s*s times fewer pixels to compute.
- `SRNet` (`space = "hr"`): ZSSR's net, every convolution on the HR-size interpolation.

Both start as exactly bicubic interpolation: their last layers are zero. With `pre_depth` > 0 a
residual preprocessing module comes first, z = x + g(x) (the teacher's, DESIGN stage 3), at the
resolution the net computes in.
"""

from __future__ import annotations

import torch
from torch import nn

from .pairs import son_input

SPACES = ("lr", "hr")


def conv_stack(c_in: int, c_out: int, width: int, depth: int) -> nn.Sequential:
    """`depth` 3x3 convolutions, ReLU between them, none after the last."""
    if depth < 2:
        raise ValueError("depth must be at least 2")
    layers: list[nn.Module] = [nn.Conv2d(c_in, width, 3, padding=1), nn.ReLU(inplace=True)]
    for _ in range(depth - 2):
        layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True)]
    layers.append(nn.Conv2d(width, c_out, 3, padding=1))
    return nn.Sequential(*layers)


def interpolate(lr: torch.Tensor, scale: int) -> torch.Tensor:
    """The bicubic interpolation every net adds its residual to: the sons' own (`pairs.son_input`)."""
    return son_input(lr, scale, (lr.shape[-2] * scale, lr.shape[-1] * scale))


class _ResidualNet(nn.Module):
    """What both nets share: the stacks, zero last layers, the middle feature distillation compares."""

    space = ""

    def __init__(self, channels: int, out_channels: int, scale: int, width: int, depth: int, pre_depth: int,
                 pre_width: int):
        super().__init__()
        self.channels, self.scale, self.width, self.depth, self.pre_depth = channels, scale, width, depth, pre_depth
        self.pre = conv_stack(channels, channels, pre_width, pre_depth) if pre_depth else None
        self.body = conv_stack(channels, out_channels, width, depth)
        for stack in (self.pre, self.body):
            if stack is not None:
                last = stack[-1]
                assert isinstance(last, nn.Conv2d) and last.bias is not None
                nn.init.zeros_(last.weight)
                nn.init.zeros_(last.bias)
        # The feature that distillation compares: the activation after the middle conv layer.
        self.feature_index = 2 * (depth // 2 - 1) + 1

    def _body(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        h, feature = z, None
        for i, layer in enumerate(self.body):
            h = layer(h)
            if i == self.feature_index:
                feature = h
        return h, feature


class SRNet(_ResidualNet):
    """ZSSR's residual CNN on the interpolated input: `z + body(z)`, z = p(up) (ZSSR: depth 8, width 64)."""

    space = "hr"

    def __init__(self, channels: int = 3, *, scale: int = 2, width: int = 64, depth: int = 8, pre_depth: int = 0,
                 pre_width: int = 32):
        super().__init__(channels, channels, scale, width, depth, pre_depth, pre_width)

    @property
    def receptive_radius(self) -> int:
        """HR pixels of context either side that an output pixel depends on."""
        return self.depth + self.pre_depth

    def forward(self, lr: torch.Tensor, up: torch.Tensor | None = None, return_features: bool = False):
        """(B,C,h,w) [, (B,C,H,W)] -> (B,C,H,W); with `return_features`, also the middle feature."""
        x = interpolate(lr, self.scale) if up is None else up
        z = x if self.pre is None else x + self.pre(x).to(x.dtype)
        h, feature = self._body(z)
        out = z + h.to(z.dtype)
        return (out, feature) if return_features else out


class LRNet(_ResidualNet):
    """Features at the input's resolution, a sub-pixel convolution to x`scale`, and a global residual:
    `up(z) + shuffle(body(z))`, z = lr + g(lr) with the preprocessing module, else lr."""

    space = "lr"

    def __init__(self, channels: int = 3, *, scale: int = 2, width: int = 64, depth: int = 8, pre_depth: int = 0,
                 pre_width: int = 32):
        super().__init__(channels, channels * scale * scale, scale, width, depth, pre_depth, pre_width)
        self.shuffle = nn.PixelShuffle(scale)

    @property
    def receptive_radius(self) -> int:
        """HR pixels of context either side that an output pixel depends on."""
        return (self.depth + self.pre_depth + 1) * self.scale

    def forward(self, lr: torch.Tensor, up: torch.Tensor | None = None, return_features: bool = False):
        """(B,C,h,w) [, (B,C,h*s,w*s)] -> (B,C,h*s,w*s); with `return_features`, also the middle feature."""
        base = interpolate(lr, self.scale) if up is None else up
        z = lr
        if self.pre is not None:
            g = self.pre(lr).float()
            z = lr + g.to(lr.dtype)
            # the interpolation is linear: up(lr + g) = up(lr) + up(g)
            base = base + interpolate(g, self.scale).to(base.dtype)
        h, feature = self._body(z)
        out = base + self.shuffle(h).to(base.dtype)
        return (out, feature) if return_features else out


def make_net(space: str, channels: int, scale: int, *, width: int, depth: int, pre_depth: int = 0,
             pre_width: int = 32) -> SRNet | LRNet:
    """The net of `space` ("lr" or "hr")."""
    if space not in SPACES:
        raise ValueError(f"net space must be one of {', '.join(SPACES)}, not {space!r}")
    cls = LRNet if space == "lr" else SRNet
    return cls(channels, scale=scale, width=width, depth=depth, pre_depth=pre_depth, pre_width=pre_width)


class Student(nn.Module):
    """The student net plus a 1x1 adapter that maps its middle feature to the teacher's width."""

    def __init__(self, net: SRNet | LRNet, teacher_width: int):
        super().__init__()
        self.net = net
        self.adapter = nn.Conv2d(net.width, teacher_width, 1)

    @property
    def receptive_radius(self) -> int:
        return self.net.receptive_radius

    def forward(self, lr: torch.Tensor, up: torch.Tensor | None = None, return_features: bool = False):
        if not return_features:
            return self.net(lr, up)
        out, feature = self.net(lr, up, return_features=True)
        return out, self.adapter(feature)
