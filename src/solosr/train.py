"""Training loops. Each step returns named losses; the learning rate drops on a plateau of the
reconstruction error of the image itself (ZSSR's policy), and training stops when it is spent.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .config import TrainConfig
from .device import as_input, autocast
from .pairs import PairSampler
from .progress import Progress

log = logging.getLogger(__name__)

class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


# A net that is no better than the interpolation it starts from after this many iterations is stuck:
# on CUDA with bf16 (Set14 img_009 x2, seed 0, the fast preset) ZSSR stayed exactly bicubic for all
# 400 iterations (validation L1 flat at 0.0163) while seed 1 or fp32 reached 35.2 dB. It trains again
# from its initial weights on other crops, once, with a warm-up: on the CPU, ZSSR with the true kernel
# on Set14 img_013 x2 was stuck on both tries without it (22.40 dB, bicubic) and reached 27.98 with it.
# The check comes at the first evaluation from stuck_check_iter(max_iters): half the run, between
# STUCK_CHECK_ITER and STUCK_CHECK_LATEST. A net can learn late: in fp32 (a CPU without native bf16)
# ZSSR on Set5 baby x2 (seed 0, fast) kept the interpolation's validation L1 (0.0198 vs 0.0200) for
# 140 iterations, then fell to 0.0145 by 200 and 0.0109 by 300; checked at 100, it was trained again,
# stayed at interpolation on the second try too and ended at bicubic (31.96 dB).
STUCK_CHECK_ITER = 100
STUCK_CHECK_LATEST = 200
STUCK_MARGIN = 0.01  # relative: the validation L1 must be this much below the interpolation's
# The second try rises to the full lr over this many iterations (at least): Adam's first steps at the
# full lr can switch whole layers off, which is how a net ends up stuck (see DistillConfig.warmup_iters).
RESTART_WARMUP = 50


def stuck_check_iter(max_iters: int) -> int:
    """The iteration from which a run of `max_iters` is checked for a stuck net."""
    return max(STUCK_CHECK_ITER, min(STUCK_CHECK_LATEST, max_iters // 2))


@dataclass
class PlateauPolicy:
    """Multiply the lr by `drop` after `patience` evaluations without relative improvement."""

    cfg: TrainConfig
    best: float = math.inf
    stale: int = 0

    def update(self, value: float, it: int, lr: float) -> float:
        if value < self.best * (1 - self.cfg.min_rel_improvement):
            self.best, self.stale = value, 0
            return lr
        self.stale += 1
        if self.stale >= self.cfg.patience and it >= self.cfg.min_iters:
            self.stale = 0
            self.best = min(self.best, value)
            return lr * self.cfg.lr_drop
        return lr


def train_network(
    net: nn.Module,
    sampler: PairSampler,
    val_pair: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    cfg: TrainConfig,
    *,
    device: torch.device,
    progress: Progress | None = None,
    stage: str = "train",
    step_losses: Callable[..., dict[str, torch.Tensor]] | None = None,
    param_groups: list[dict] | None = None,
    draw_pairs: bool = True,
) -> list[dict]:
    """Train `net` on pairs from `sampler`; returns the history (one dict per evaluation).

    `step_losses(net, son, son_up, father)` returns named losses with the total under "loss";
    the default is the L1 reconstruction `{"loss": rec, "rec": rec}`. `param_groups` (Adam's, each
    with an optional "lr_scale" on the learning rate and an optional "delay": the share of the
    iterations it waits at lr 0 before a warm-up of its own) default to all of `net`'s parameters.
    With `draw_pairs` False the steps get no internal pair (None): `sampler` only sizes the training
    (a student that learns from the true scale alone).
    Raises TrainingDiverged if a loss becomes non-finite. With `cfg.restart_if_stuck`, a net no better
    than interpolation at its first evaluation from `stuck_check_iter(max_iters)` on trains again from
    its initial weights, once, with at least RESTART_WARMUP iterations of warm-up; if it is stuck
    again, that evaluation's history entry says so under "stuck".
    """
    max_iters = cfg.max_iters
    if cfg.pixels_per_iter > 0:
        max_iters = min(max_iters, max(cfg.min_iters, round(sampler.pixels / cfg.pixels_per_iter)))
    run = _Training(net, sampler, _Validation(val_pair, device, cfg.amp), cfg, max_iters, stage, device,
                    step_losses or reconstruction_losses, param_groups or [{"params": list(net.parameters())}],
                    draw_pairs, progress)
    initial = {k: v.detach().clone() for k, v in net.state_dict().items()} if cfg.restart_if_stuck else None
    net.train()
    for attempt in (1, 2):
        if not run.attempt(attempt) or run.out_of_time():
            break
        assert initial is not None  # a restart happens only with restart_if_stuck, which keeps them
        net.load_state_dict(initial)  # the sampler has moved on: this try sees other crops
        net.train()
    net.eval()
    return run.history


class _Validation:
    """The validation pair on the device, and the L1 interpolation alone reaches on it."""

    def __init__(self, pair: tuple[torch.Tensor, torch.Tensor, torch.Tensor], device: torch.device, amp: bool):
        self.inp, self.up, self.out = (as_input(t, device) for t in pair)
        self.device, self.amp = device, amp
        self.interpolation_l1 = float(F.l1_loss(self.up.float(), self.out.float()))

    def __call__(self, net: nn.Module) -> float:
        return evaluate(net, self.inp, self.up, self.out, self.device, self.amp)


@dataclass
class _Training:
    """One `train_network` call: its settings, and the history its attempts fill in."""

    net: nn.Module
    sampler: PairSampler
    val: _Validation
    cfg: TrainConfig
    max_iters: int
    stage: str
    device: torch.device
    step: Callable[..., dict[str, torch.Tensor]]
    groups: list[dict]
    draw_pairs: bool
    progress: Progress | None
    history: list[dict] = field(default_factory=list)
    t_start: float = field(default_factory=time.perf_counter)

    def out_of_time(self) -> bool:
        return bool(self.cfg.max_seconds) and time.perf_counter() - self.t_start > self.cfg.max_seconds

    def attempt(self, attempt: int) -> bool:
        """Train from the net's current weights; True when it was stuck at its check and should restart."""
        cfg, max_iters = self.cfg, self.max_iters
        opt = Adam([dict(g, lr=cfg.lr * g.get("lr_scale", 1.0)) for g in self.groups])
        self.policy, self.lr, self.checked = PlateauPolicy(cfg), cfg.lr, False
        sums: dict[str, float] = {}
        count = 0
        warmup = cfg.warmup_iters if attempt == 1 else max(cfg.warmup_iters, RESTART_WARMUP)
        for it in range(1, max_iters + 1):
            factor = it / warmup if it <= warmup else 1.0
            for g in opt.param_groups:
                g["lr"] = self.lr * g.get("lr_scale", 1.0) * factor * _delayed(g.get("delay", 0.0), it, max_iters,
                                                                                warmup)
            for k, v in self._step(opt, it).items():
                sums[k] = sums.get(k, 0.0) + float(v.detach())
            count += 1
            if it % cfg.eval_every == 0 or it == max_iters:
                entry: dict[str, Any] = {"iter": it, "lr": self.lr, "val_l1": self.val(self.net),
                                         **{k: s / count for k, s in sums.items()}}
                self.history.append(entry)
                sums, count = {}, 0
                verdict = self._after_evaluation(entry, it, attempt)
                if verdict == "restart":
                    return True
                if verdict == "done":
                    if self.progress:
                        self.progress(self.stage, max_iters, max_iters)
                    break
            if self.progress and (it % 10 == 0 or it == max_iters):
                self.progress(self.stage, it, max_iters)
            if self.out_of_time():
                self.history.append({"iter": it, "lr": self.lr, "val_l1": self.val(self.net),
                                     **{k: s / max(count, 1) for k, s in sums.items()}, "stopped": "time budget"})
                break
        return False

    def _step(self, opt: "Adam", it: int) -> dict[str, torch.Tensor]:
        """One optimisation step on a fresh internal pair; returns its losses."""
        pair = (as_input(t, self.device) for t in self.sampler.sample()) if self.draw_pairs else (None,) * 3
        son, son_up, father = pair
        with autocast(self.device, self.cfg.amp):
            losses = self.step(self.net, son, son_up, father)
        total = losses["loss"]
        if not torch.isfinite(total):
            raise TrainingDiverged(f"{self.stage}: loss became {total.item()} at iteration {it}")
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        return losses

    def _after_evaluation(self, entry: dict[str, Any], it: int, attempt: int) -> str | None:
        """The stuck check (once, from `stuck_check_iter`) and the lr policy: "restart", "done" or None."""
        cfg, val = self.cfg, entry["val_l1"]
        if cfg.restart_if_stuck and not self.checked and stuck_check_iter(self.max_iters) <= it < self.max_iters:
            self.checked = True
            if val > self.val.interpolation_l1 * (1 - STUCK_MARGIN):
                if attempt == 1:
                    entry["restarted"] = (f"no better than interpolation after {it} iterations "
                                          f"(validation L1 {val:.4f} vs {self.val.interpolation_l1:.4f})")
                    log.info("%s: %s; training again on other crops", self.stage, entry["restarted"])
                    return "restart"
                entry["stuck"] = (f"{self.stage}: no better than interpolation after {it} iterations, "
                                  "twice; the result is close to interpolation")
                log.info(entry["stuck"])  # `upscale` passes it on in Result.warnings
        new_lr = self.policy.update(val, it, self.lr)
        if new_lr != self.lr:
            self.lr = new_lr
            log.debug("%s: lr -> %.2e at iteration %d", self.stage, new_lr, it)
            if new_lr < cfg.lr_min:
                return "done"
        return None


class Adam:
    """Adam (Kingma & Ba), as torch.optim.Adam computes it with its defaults, for parameter groups
    whose "lr" the training loop sets each step. Ours because torch.optim's first optimizer imports
    torch._dynamo: 1.7 s of a 45 s run on a 2-core AVX2 CPU."""

    def __init__(self, param_groups: list[dict], betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.param_groups = param_groups
        self.betas, self.eps, self.t = betas, eps, 0
        self.state = {id(p): (torch.zeros_like(p), torch.zeros_like(p)) for g in param_groups for p in g["params"]}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for g in self.param_groups:
            for p in g["params"]:
                p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        b1, b2 = self.betas
        self.t += 1
        c1, c2 = 1 - b1 ** self.t, math.sqrt(1 - b2 ** self.t)
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is None:
                    continue
                m, v = self.state[id(p)]
                m.lerp_(p.grad, 1 - b1)
                v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                p.addcdiv_(m, (v.sqrt() / c2).add_(self.eps), value=-g["lr"] / c1)


def _delayed(share: float, it: int, max_iters: int, warmup: int) -> float:
    """A delayed group's part of the lr: 0 over the first `share` of the iterations, then rising to 1
    over `warmup` iterations."""
    if share <= 0:
        return 1.0
    return min(max((it - round(share * max_iters)) / max(warmup, 1), 0.0), 1.0)


def reconstruction_losses(net: nn.Module, son: torch.Tensor, son_up: torch.Tensor,
                          father: torch.Tensor) -> dict[str, torch.Tensor]:
    rec = F.l1_loss(net(son, son_up).float(), father.float())
    return {"loss": rec, "rec": rec}


@torch.no_grad()
def evaluate(net: nn.Module, son: torch.Tensor, son_up: torch.Tensor, father: torch.Tensor, device: torch.device,
             amp: bool) -> float:
    was_training = net.training
    net.eval()
    with autocast(device, amp):
        out = net(son, son_up)
    net.train(was_training)
    return float(F.l1_loss(out.float(), father.float()))
