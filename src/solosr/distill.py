"""Teacher with residual preprocessing, student by knowledge distillation (DESIGN stages 3 and 4).

The teacher learns son -> father one scale down. The student learns from it: on the internal
pairs (reconstruction, feature imitation) and at the true scale, where the teacher's output on the
input image is a soft target and degrading the student's output must give the input back.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .config import DistillConfig, RunConfig, TrainConfig
from .infer import super_resolve
from .nets import LRNet, SRNet, Student, make_net
from .pairs import PairSampler, son_input, textured_window
from .resize import degrade
from .device import as_input, prepare
from .progress import Progress
from .train import train_network


class Anchor(NamedTuple):
    """The original input of a chain of steps (x4 as two x2 steps): the later step's student is made
    consistent with it, `|(S(x) ⊛ kernel)↓scale − image|₁`, not with the earlier step's output `x`."""

    image: torch.Tensor  # (C,H,W), the step's input is `scale / step scale` times its size
    kernel: np.ndarray  # the whole chain's kernel, centred for `scale`
    scale: int


class TrueScaleSampler:
    """Aligned crops of the input at the true scale: (y, y_up, teacher(y), low), (B,C,P/s,P/s),
    (B,C,P,P), (B,C,P,P), (B,C,P/s,P/s): the crop, its interpolation, the soft target and what
    degrading the student's output must give back (the crop itself without an anchor).

    `lr` may be a window of the step's input at `offset`; with an `anchor` the third crop is the
    anchor image's (B,C,P/a,P/a), a = anchor.scale, at the same place.
    """

    def __init__(self, lr: torch.Tensor, teacher_out: torch.Tensor, scale: int, crop: int, batch: int,
                 generator: torch.Generator, anchor: Anchor | None = None, offset: tuple[int, int] = (0, 0)):
        c, h, w = lr.shape
        self.scale, self.batch, self.gen = scale, batch, generator
        self.lr = lr
        self.up = son_input(lr[None], scale, (h * scale, w * scale))[0]
        self.target = teacher_out
        self.anchor, self.offset = anchor, offset
        self.step = 1  # crop positions are multiples of this (in the step input's pixels, with the offset)
        unit = scale
        if anchor is not None:
            if anchor.scale % scale:
                raise ValueError(f"an anchor of scale {anchor.scale} does not fit a step of scale {scale}")
            self.step, unit = anchor.scale // scale, anchor.scale
            if offset[0] % self.step or offset[1] % self.step:
                raise ValueError(f"the window's offset {offset} must be a multiple of {self.step}")
        crop = min(crop, h * scale, w * scale)
        self.crop = crop - crop % unit
        self.rows = h - self.crop // scale + 1
        self.cols = w - self.crop // scale + 1

    def _positions(self, n: int) -> list[int]:
        f = self.step  # the offset is a multiple of f: so must the position be
        return [p - p % f for p in torch.randint(n, (self.batch,), generator=self.gen).tolist()]

    def sample(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        s, p = self.scale, self.crop
        ys, xs = self._positions(self.rows), self._positions(self.cols)
        up = torch.stack([self.up[:, y * s:y * s + p, x * s:x * s + p] for y, x in zip(ys, xs)])
        tgt = torch.stack([self.target[:, y * s:y * s + p, x * s:x * s + p] for y, x in zip(ys, xs)])
        y_crop = torch.stack([self.lr[:, y:y + p // s, x:x + p // s] for y, x in zip(ys, xs)])
        if self.anchor is None:
            low = y_crop
        else:
            f, q, (oy, ox) = self.step, p // self.anchor.scale, self.offset
            low = torch.stack([self.anchor.image[:, (oy + y) // f:(oy + y) // f + q, (ox + x) // f:(ox + x) // f + q]
                               for y, x in zip(ys, xs)])
        return y_crop, up, tgt, low


def student_step(teacher: SRNet | LRNet, true_scale: TrueScaleSampler, cfg: DistillConfig, kernel: torch.Tensor,
                 scale: int, device: torch.device):
    """The student's training step: named losses, the weighted total under "loss".

    The cycle term degrades with `kernel` and `scale`, or with the sampler's anchor's when it has one.
    """
    if true_scale.anchor is not None:
        kernel = torch.as_tensor(np.asarray(true_scale.anchor.kernel, dtype=np.float32), device=device)
        scale = true_scale.anchor.scale
    margin = kernel.shape[-1] // (2 * scale) + 2  # LR pixels near a crop edge see padding, not image
    if not any(w > 0 for w in (cfg.w_rec, cfg.w_feat, cfg.w_out, cfg.w_cycle)):
        raise ValueError("the student needs at least one loss term with a weight above 0")

    def step(student: Student, son: torch.Tensor, son_up: torch.Tensor, father: torch.Tensor) -> dict[str, torch.Tensor]:
        losses: dict[str, torch.Tensor] = {}
        if cfg.w_feat > 0:
            out, feat = student(son, son_up, return_features=True)
            with torch.no_grad():
                _, t_feat = teacher(son, son_up, return_features=True)
            losses["kd_feat"] = F.l1_loss(feat.float(), t_feat.float())
        elif cfg.w_rec > 0:
            out = student(son, son_up)
        if cfg.w_rec > 0 or cfg.w_feat > 0:  # the internal pairs' error, logged even when out of the total
            losses["rec"] = F.l1_loss(out.float(), father.float())
        if cfg.w_out > 0 or cfg.w_cycle > 0:
            y, y_up, t_out, y_lr = (as_input(t, device) for t in true_scale.sample())
            s_out = student(y, y_up)
            if cfg.w_out > 0:
                losses["kd_out"] = F.l1_loss(s_out.float(), t_out.float())
            if cfg.w_cycle > 0:
                with torch.autocast(device.type, enabled=False):  # bf16 is too coarse for this residual
                    back = degrade(s_out.float(), kernel, scale)
                m = min(margin, (back.shape[-1] - 1) // 2)  # a crop of a tiny image keeps its middle pixel
                losses["cycle"] = F.l1_loss(back[..., m:-m, m:-m], y_lr.float()[..., m:-m, m:-m])
        weights = {"rec": cfg.w_rec, "kd_feat": cfg.w_feat, "kd_out": cfg.w_out, "cycle": cfg.w_cycle}
        losses["loss"] = cast(torch.Tensor, sum(weights[k] * v for k, v in losses.items() if weights[k] > 0))
        return losses

    return step


def _scaled(train: TrainConfig, factor: float) -> TrainConfig:
    iters = max(1, round(train.max_iters * factor))
    return dataclasses.replace(train, max_iters=iters, min_iters=min(train.min_iters, iters),
                               eval_every=min(train.eval_every, iters))


def train_teacher(lr: torch.Tensor, kernel: np.ndarray, scale: int, cfg: RunConfig, gen: torch.Generator,
                  device: torch.device, progress: Progress | None = None,
                  pre: bool = True, train: TrainConfig | None = None) -> tuple[SRNet | LRNet, list[dict]]:
    """The teacher (with the residual preprocessing module unless `pre` is False) on son -> father."""
    d = cfg.distill
    teacher = prepare(make_net(cfg.net.space, lr.shape[0], scale, width=cfg.net.width, depth=cfg.net.depth,
                               pre_depth=d.teacher_pre_depth if pre else 0, pre_width=d.teacher_pre_width), device)
    sampler = PairSampler(lr.to(device), kernel, scale, cfg.pairs, gen)
    groups: list[dict] | None = None
    if teacher.pre is not None and (d.teacher_pre_lr != 1.0 or d.teacher_pre_delay > 0):
        groups = [{"params": list(teacher.body.parameters())},
                  {"params": list(teacher.pre.parameters()), "lr_scale": d.teacher_pre_lr,
                   "delay": d.teacher_pre_delay}]
    train = dataclasses.replace(train or cfg.train, warmup_iters=d.warmup_iters)
    history = train_network(teacher, sampler, sampler.validation_pair(lr.to(device)), train,
                            device=device, progress=progress, stage="teacher", param_groups=groups)
    return teacher, history


def train_student(lr: torch.Tensor, kernel: np.ndarray, scale: int, cfg: RunConfig, teacher: SRNet | LRNet,
                  gen: torch.Generator, device: torch.device, progress: Progress | None = None,
                  train: TrainConfig | None = None, anchor: Anchor | None = None) -> tuple[SRNet | LRNet, list[dict]]:
    """Distil the frozen teacher into a student; returns the student's SRNet and its history.

    `anchor`: in a later step of a chain, the chain's input, kernel and scale (used when
    `distill.cycle_to_input` is on).
    """
    d = cfg.distill
    teacher.eval().requires_grad_(False)
    target_cfg = dataclasses.replace(cfg.infer, ensemble=d.target_ensemble,
                                     ensemble_tolerance=d.target_ensemble_tolerance,
                                     backprojection_iters=d.target_backprojection)
    anchor = anchor if d.cycle_to_input else None
    f = anchor.scale // scale if anchor is not None else 1
    region, y, x = lr, 0, 0
    if max(lr.shape[1:]) > d.target_max_side:
        y, x, hh, ww = textured_window(lr.cpu().numpy().transpose(1, 2, 0), d.target_max_side)
        y, x = y - y % f, x - x % f  # on the anchor's grid
        region = lr[:, y:y + hh, x:x + ww]
    t_out = super_resolve(teacher, region, scale, kernel, target_cfg, device=device)
    sampler = PairSampler(lr.to(device), kernel, scale, cfg.pairs, gen)
    if anchor is not None:
        anchor = anchor._replace(image=anchor.image.to(device))
    true_scale = TrueScaleSampler(region.to(device), t_out.to(device), scale, sampler.crop, cfg.pairs.batch, gen,
                                  anchor=anchor, offset=(y, x))
    # The teacher's body was trained on p(x), not x: a student that copies the body needs the
    # preprocessing too, or it starts from a network that was never trained on its own input.
    pre = teacher.pre if d.student_pre else None
    net = make_net(teacher.space, lr.shape[0], scale, width=d.student_width, depth=d.student_depth,
                   pre_depth=teacher.pre_depth if pre is not None else 0,
                   pre_width=cast(nn.Conv2d, pre[0]).out_channels if pre is not None else d.teacher_pre_width)
    if pre is not None:
        assert net.pre is not None
        net.pre.load_state_dict(pre.state_dict())
    if d.student_init == "teacher":
        if (net.width, net.depth) != (teacher.width, teacher.depth):
            raise ValueError("student_init='teacher' needs a student of the teacher's width and depth")
        net.body.load_state_dict(teacher.body.state_dict())
    student = prepare(Student(net, teacher.width), device)
    k = torch.as_tensor(np.asarray(kernel, dtype=np.float32), device=device)
    train = train or _scaled(cfg.train, d.student_iters)
    train = dataclasses.replace(train, warmup_iters=d.warmup_iters, lr=train.lr * d.student_lr)
    history = train_network(student, sampler, sampler.validation_pair(lr.to(device)), train,
                            device=device, progress=progress, stage="student",
                            step_losses=student_step(teacher, true_scale, d, k, scale, device),
                            draw_pairs=d.w_rec > 0 or d.w_feat > 0)
    return student.net, history
