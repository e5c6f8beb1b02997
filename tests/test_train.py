
import numpy as np
import pytest
import torch

from solosr import device, train
from solosr.config import PairsConfig, TrainConfig
from solosr.kernels import bicubic_kernel
from solosr.nets import SRNet, _ResidualNet
from solosr.pairs import PairSampler
from solosr.train import (RESTART_WARMUP, STUCK_CHECK_ITER, STUCK_CHECK_LATEST, reconstruction_losses,
                          stuck_check_iter, train_network)

CPU = torch.device("cpu")


def kill(net: SRNet) -> None:
    """Switch every unit of the body's last hidden layer off: the net can no longer learn."""
    with torch.no_grad():
        net.body[-3].bias.fill_(-1e3)


@pytest.fixture
def sampler(photo):
    image = torch.from_numpy(photo[:64, :64].transpose(2, 0, 1).copy())
    return image, PairSampler(image, bicubic_kernel(2), 2, PairsConfig(crop=32, batch=2),
                              torch.Generator().manual_seed(0))


def config(iters: int) -> TrainConfig:
    return TrainConfig(max_iters=iters, min_iters=iters, eval_every=STUCK_CHECK_ITER // 2, amp=False,
                       pixels_per_iter=0)


def test_a_net_stuck_at_interpolation_trains_again_from_its_start(sampler, monkeypatch):
    image, s = sampler
    lrs = []
    real_step = train.Adam.step

    def spy(opt, *a, **kw):
        lrs.append(opt.param_groups[0]["lr"])
        return real_step(opt, *a, **kw)

    monkeypatch.setattr(train.Adam, "step", spy)
    torch.manual_seed(0)
    net = SRNet(3, width=8, depth=4)
    calls = []

    def step(n, son, son_up, father):  # the first try dies at its 5th step
        calls.append(1)
        if len(calls) == 5:
            kill(n)
        return reconstruction_losses(n, son, son_up, father)

    n = 2 * STUCK_CHECK_ITER
    history = train_network(net, s, s.validation_pair(image), config(n), device=CPU, step_losses=step)
    half = STUCK_CHECK_ITER // 2
    assert [e["iter"] for e in history] == [half, 2 * half, half, 2 * half, 3 * half, 4 * half]
    assert "restarted" in history[1] and not any("restarted" in e or "stuck" in e for e in history[2:])
    assert len(calls) == STUCK_CHECK_ITER + n
    assert net.body[-3].bias.abs().max() < 1  # the killed weights were put back to their start
    interpolation = float(torch.nn.functional.l1_loss(*s.validation_pair(image)[1:]))
    assert history[-1]["val_l1"] < 0.99 * interpolation  # and it learned the second time
    lr = config(n).lr  # the first try starts at the full lr (no warm-up configured), the second rises to it
    assert lrs[0] == lr and lrs[STUCK_CHECK_ITER] == pytest.approx(lr / RESTART_WARMUP)
    assert lrs[STUCK_CHECK_ITER + RESTART_WARMUP - 1] == pytest.approx(lr)


def test_a_net_stuck_twice_goes_on_and_says_so(sampler):
    image, s = sampler
    net = SRNet(3, width=8, depth=4)
    kill(net)
    history = train_network(net, s, s.validation_pair(image), config(2 * STUCK_CHECK_ITER), device=CPU)
    assert sum("restarted" in e for e in history) == 1
    assert sum("stuck" in e for e in history) == 1 and history[-1]["iter"] == 2 * STUCK_CHECK_ITER


def test_restart_can_be_switched_off(sampler):
    image, s = sampler
    net = SRNet(3, width=8, depth=4)
    kill(net)
    cfg = TrainConfig(**{**config(2 * STUCK_CHECK_ITER).__dict__, "restart_if_stuck": False})
    history = train_network(net, s, s.validation_pair(image), cfg, device=CPU)
    assert not any("restarted" in e or "stuck" in e for e in history)


def test_short_runs_are_not_checked(sampler):
    image, s = sampler
    net = SRNet(3, width=8, depth=4)
    kill(net)
    history = train_network(net, s, s.validation_pair(image), config(STUCK_CHECK_ITER), device=CPU)
    assert not any("restarted" in e or "stuck" in e for e in history)  # no room left to train again


def test_a_longer_run_is_checked_later(sampler):
    """A net may start learning after iteration 100 (fp32, Set5 baby): a run of 400 or more iterations
    is judged at STUCK_CHECK_LATEST, not earlier, and a dead net still trains again there."""
    image, s = sampler
    iters = 2 * STUCK_CHECK_LATEST
    assert stuck_check_iter(2 * STUCK_CHECK_ITER) == STUCK_CHECK_ITER < STUCK_CHECK_LATEST
    assert stuck_check_iter(iters) == stuck_check_iter(10 * iters) == STUCK_CHECK_LATEST
    net = SRNet(3, width=8, depth=4)
    kill(net)
    history = train_network(net, s, s.validation_pair(image), config(iters), device=CPU)
    restarted = [e["iter"] for e in history if "restarted" in e]
    assert restarted == [STUCK_CHECK_LATEST]  # evaluations every 50: the ones at 100 and 150 passed over
    assert [e["iter"] for e in history if "stuck" in e] == [STUCK_CHECK_LATEST]  # dead again on the second try
    assert history[-1]["iter"] == iters


def test_upscale_reports_a_net_that_learned_nothing(photo, tiny_cfg, monkeypatch):
    import solosr
    from solosr.bench import config_with

    real_init = _ResidualNet.__init__

    def dead_init(self, *a, **kw):
        real_init(self, *a, **kw)
        kill(self)

    monkeypatch.setattr(_ResidualNet, "__init__", dead_init)  # both nets, LR and HR space
    cfg = config_with(tiny_cfg.replace(method="zssr"), train={"max_iters": 2 * STUCK_CHECK_ITER,
                                                                 "min_iters": 2 * STUCK_CHECK_ITER,
                                                                 "eval_every": STUCK_CHECK_ITER})
    r = solosr.upscale(photo[:48, :48], 2, kernel="bicubic", config=cfg, device="cpu")
    assert any("no better than interpolation" in w for w in r.warnings)
    assert np.isfinite(r.image).all()
    # x4 as two x2 steps: the second step, which learns from the first one's output, is not trained again
    r = solosr.upscale(photo[:24, :24], 4, kernel="bicubic", config=cfg, device="cpu")
    assert r.image.shape[:2] == (96, 96)
    assert sum("no better than interpolation" in w for w in r.warnings) == 1
    assert sum("restarted" in e for e in r.history) == 1
    assert all(e["stage"].startswith("step1/") for e in r.history if "restarted" in e)


@pytest.mark.parametrize("warmup", [0, 10])
def test_warmup_scales_the_first_steps(sampler, warmup):
    image, s = sampler
    net = SRNet(3, width=8, depth=4)
    cfg = TrainConfig(max_iters=1, min_iters=1, eval_every=1, lr=1e-2, amp=False, pixels_per_iter=0,
                      warmup_iters=warmup)
    train_network(net, s, s.validation_pair(image), cfg, device=CPU)
    # Adam's first step moves every parameter with a gradient by the lr: here lr / warmup.
    step = net.body[-1].bias.abs().max().item()
    assert step == pytest.approx(1e-2 / max(warmup, 1), rel=1e-3)


def test_a_delayed_group_waits_then_warms_up_on_its_own(sampler, monkeypatch):
    image, s = sampler
    seen: list[tuple[float, float]] = []
    step = train.Adam.step

    def spy(self, *args, **kwargs):
        seen.append((self.param_groups[0]["lr"], self.param_groups[1]["lr"]))
        return step(self, *args, **kwargs)

    monkeypatch.setattr(train.Adam, "step", spy)
    net = SRNet(3, width=8, depth=4, pre_depth=2, pre_width=8)
    groups = [{"params": list(net.body.parameters())}, {"params": list(net.pre.parameters()), "delay": 0.5}]
    cfg = TrainConfig(max_iters=12, min_iters=12, eval_every=100, lr=1e-2, amp=False, pixels_per_iter=0,
                      warmup_iters=4, restart_if_stuck=False)
    train_network(net, s, s.validation_pair(image), cfg, device=CPU, param_groups=groups)
    body, pre = zip(*seen)
    assert body == pytest.approx([2.5e-3, 5e-3, 7.5e-3] + [1e-2] * 9)
    assert pre == pytest.approx([0.0] * 6 + [2.5e-3, 5e-3, 7.5e-3] + [1e-2] * 3)  # half of 12 waits


@pytest.mark.parametrize("native, avx512", [(False, False), (False, True), (True, True)])
def test_bf16_only_where_the_cpu_computes_it_and_channels_last_with_avx512(monkeypatch, native, avx512):
    # Emulated bf16 is about 11.6x slower than fp32 (an AVX2 EPYC): there the CPU must train in fp32,
    # in the default layout; with AVX-512 but no bf16, fp32 channels-last is the faster (0.26 s vs 0.34).
    monkeypatch.setattr(device, "cpu_has_fast_bf16", lambda: native)
    monkeypatch.setattr(device, "cpu_has_avx512", lambda: avx512)
    cpu = torch.device("cpu")
    assert device.uses_bf16(cpu, True) is native and not device.uses_bf16(cpu, False)
    with device.autocast(cpu, True):
        assert torch.is_autocast_enabled("cpu") is native
    with device.autocast(cpu, False):
        assert not torch.is_autocast_enabled("cpu")
    net = device.prepare(torch.nn.Conv2d(3, 8, 3), cpu)
    assert net.weight.is_contiguous(memory_format=torch.channels_last) is avx512
    x = device.as_input(torch.rand(1, 3, 8, 8), cpu)
    assert x.is_contiguous(memory_format=torch.channels_last) is avx512
    assert device.cpu_compute_path().startswith("bf16" if native else "fp32")
    assert device.cpu_compute_path().endswith("channels-last" if avx512 else "default layout")


def test_our_adam_steps_as_torchs_adam():
    """device.Adam (which spares the run torch._dynamo's import) gives torch.optim.Adam's weights exactly,
    with each step's lr set by the loop as the training does."""
    torch.manual_seed(0)
    a = torch.nn.Parameter(torch.randn(4, 6))
    b = torch.nn.Parameter(a.detach().clone())
    theirs, ours = torch.optim.Adam([{"params": [a], "lr": 1e-3}]), train.Adam([{"params": [b], "lr": 1e-3}])
    for i in range(30):
        grad = torch.randn(4, 6)
        for opt, p in ((theirs, a), (ours, b)):
            opt.zero_grad()
            p.grad = grad.clone()
            opt.param_groups[0]["lr"] = 1e-3 * (i % 4)  # 0 included: a delayed group
            opt.step()
    assert torch.equal(a.detach(), b.detach()) and not torch.equal(a.detach(), torch.zeros(4, 6))
