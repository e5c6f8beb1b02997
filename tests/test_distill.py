
import numpy as np
import pytest
import torch

import solosr
from solosr.bench import config_with
from solosr.config import preset
from solosr.distill import Anchor, TrueScaleSampler, student_step, train_student, train_teacher
from solosr.kernels import random_div2krk_kernel
from solosr.nets import SRNet, Student, interpolate, make_net
from solosr.pairs import PairSampler
from solosr.resize import degrade


@pytest.fixture
def setup(photo):
    lr = torch.from_numpy(photo[:48, :48].transpose(2, 0, 1).copy())
    k = random_div2krk_kernel(2, np.random.default_rng(0))
    # every loss term on (the preset's student learns from the true scale alone), so each is exercised
    cfg = config_with(preset("fast"), pairs={"crop": 32, "batch": 2},
                      train={"max_iters": 40, "min_iters": 40, "eval_every": 10}, distill={"w_rec": 1.0, "w_feat": 0.1})
    return lr, k, cfg


@pytest.mark.parametrize("space", ["hr", "lr"])
def test_teacher_has_a_working_preprocessing_module(space):
    net = make_net(space, 3, 2, width=8, depth=3, pre_depth=2)
    x = torch.rand(1, 3, 12, 12)
    # zero-initialised residual branches: bicubic interpolation at the start
    assert torch.allclose(net(x), interpolate(x, 2), atol=1e-6)
    assert net.receptive_radius == (5 if space == "hr" else 12) and net.pre is not None
    out, feat = net(x, return_features=True)
    assert out.shape == (1, 3, 24, 24)
    assert feat.shape == ((1, 8, 24, 24) if space == "hr" else (1, 8, 12, 12))  # LR nets compute at 12x12


@pytest.mark.parametrize("still", [{"teacher_pre_lr": 0.0}, {"teacher_pre_delay": 1.0}])
def test_preprocessing_can_be_held_still_while_the_body_trains(setup, still):
    lr, k, cfg = setup
    dev = torch.device("cpu")
    torch.manual_seed(0)
    frozen_pre, _ = train_teacher(lr, k, 2, config_with(cfg, distill=still), torch.Generator().manual_seed(0), dev)
    # lr 0 for the module (or a wait of the whole training): it stays at its start, an identity
    # (zero last layer); the body trains.
    assert torch.count_nonzero(frozen_pre.pre[-1].weight) == 0
    assert torch.count_nonzero(frozen_pre.body[-1].weight) > 0
    torch.manual_seed(0)
    trained_pre, _ = train_teacher(lr, k, 2, cfg, torch.Generator().manual_seed(0), dev)  # waits half
    assert torch.count_nonzero(trained_pre.pre[-1].weight) > 0


def test_teacher_stays_frozen_while_the_student_trains(setup):
    lr, k, cfg = setup
    dev = torch.device("cpu")
    gen = torch.Generator().manual_seed(0)
    teacher, _ = train_teacher(lr, k, 2, cfg, gen, dev)
    before = {n: p.detach().clone() for n, p in teacher.state_dict().items()}
    student, history = train_student(lr, k, 2, cfg, teacher, gen, dev)
    after = teacher.state_dict()
    assert all(torch.equal(before[n], after[n]) for n in before)
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())
    assert {"rec", "kd_feat", "kd_out", "cycle", "loss"} <= set(history[-1])


@pytest.mark.parametrize("scale_lr", [1.0, 0.1])
def test_the_students_learning_rate_is_its_own(setup, scale_lr):
    lr, k, cfg = setup
    dev = torch.device("cpu")
    gen = torch.Generator().manual_seed(0)
    teacher, teacher_history = train_teacher(lr, k, 2, cfg, gen, dev)
    _, history = train_student(lr, k, 2, config_with(cfg, distill={"student_lr": scale_lr}), teacher, gen, dev)
    assert teacher_history[0]["lr"] == cfg.train.lr  # the teacher keeps the preset's
    assert history[0]["lr"] == pytest.approx(cfg.train.lr * scale_lr)


def test_student_losses_are_finite_and_decrease(setup):
    lr, k, cfg = setup
    dev = torch.device("cpu")
    gen = torch.Generator().manual_seed(0)
    teacher, _ = train_teacher(lr, k, 2, cfg, gen, dev)
    _, history = train_student(lr, k, 2, config_with(cfg, train={"max_iters": 80, "min_iters": 80}), teacher,
                               gen, dev)
    first, last = history[0], history[-1]
    for key in ("loss", "rec", "kd_out", "cycle", "kd_feat"):
        assert np.isfinite(first[key]) and np.isfinite(last[key])
    assert last["loss"] < first["loss"]


def _one_student_step(lr, k, cfg, teacher):
    """The named losses of one student step at x2 (a tiny student, a random soft target), and the student."""
    gen = torch.Generator().manual_seed(0)
    sampler = PairSampler(lr, k, 2, cfg.pairs, gen)
    true_scale = TrueScaleSampler(lr, torch.rand(3, 96, 96), 2, 32, 2, gen)
    step = student_step(teacher, true_scale, cfg.distill, torch.as_tensor(k, dtype=torch.float32), 2,
                        torch.device("cpu"))
    student = Student(SRNet(3, width=8, depth=4), teacher.width)
    return step(student, *sampler.sample()), student


@pytest.mark.parametrize("off", ["w_rec", "w_feat", "w_out", "w_cycle"])
def test_each_loss_term_switches_off(setup, off):
    lr, k, cfg = setup
    cfg = config_with(cfg, distill={off: 0.0})
    losses, _ = _one_student_step(lr, k, cfg, SRNet(3, width=16, depth=4, pre_depth=2))
    name = {"w_rec": "rec", "w_feat": "kd_feat", "w_out": "kd_out", "w_cycle": "cycle"}[off]
    weights = {"rec": cfg.distill.w_rec, "kd_feat": cfg.distill.w_feat, "kd_out": cfg.distill.w_out,
               "cycle": cfg.distill.w_cycle}
    expected = sum(weights[n] * v for n, v in losses.items() if n in weights and weights[n] > 0)
    assert torch.allclose(losses["loss"], expected)
    if name != "rec":
        assert name not in losses  # not even computed
    else:
        assert weights["rec"] == 0  # logged for the history, but out of the total


def test_cycle_loss_is_zero_for_a_consistent_output():
    k = random_div2krk_kernel(2, np.random.default_rng(0))
    hr = torch.rand(1, 3, 64, 64)
    lr = degrade(hr, k, 2)[0]
    ts = TrueScaleSampler(lr, hr[0], 2, 32, 1, torch.Generator().manual_seed(0))
    y, up, tgt, low = ts.sample()
    assert torch.equal(y, low)  # without an anchor the cycle compares with the crop itself
    # the teacher target crop is aligned with the LR crop: degrading it gives the LR crop back
    m = 4
    assert torch.allclose(degrade(tgt, k, 2)[..., m:-m, m:-m], low[..., m:-m, m:-m], atol=1e-5)


def test_anchor_crops_are_aligned_with_the_chains_input():
    # x4 as two x2 steps: the second step's input is 2x the original; its student's output crops, degraded
    # with the x4 kernel, must land on the original input's pixels, also from a window at an offset.
    k4 = random_div2krk_kernel(4, np.random.default_rng(1))
    hr = torch.rand(1, 3, 160, 160)
    y = degrade(hr, k4, 4)[0]  # 40 x 40
    step_input = torch.rand(3, 80, 80)  # its content does not matter here, only its grid
    oy, ox = 6, 10
    ts = TrueScaleSampler(step_input[:, oy:, ox:], hr[0, :, 2 * oy:, 2 * ox:], 2, 62, 4,
                          torch.Generator().manual_seed(0), anchor=Anchor(y, k4, 4), offset=(oy, ox))
    assert ts.crop == 60  # a multiple of the anchor's scale
    crop, up, tgt, low = ts.sample()
    assert crop.shape == (4, 3, 30, 30)  # the step's own crop, the student's input
    assert up.shape == tgt.shape == (4, 3, 60, 60) and low.shape == (4, 3, 15, 15)
    m = k4.shape[-1] // 8 + 2  # the margin the cycle term leaves out
    assert torch.allclose(degrade(tgt, k4, 4)[..., m:-m, m:-m], low[..., m:-m, m:-m], atol=1e-5)
    with pytest.raises(ValueError, match="multiple"):
        TrueScaleSampler(step_input[:, 1:], hr[0, :, 2:], 2, 32, 1, torch.Generator(), anchor=Anchor(y, k4, 4),
                         offset=(1, 0))


@pytest.mark.parametrize("on", [True, False])
def test_the_second_x4_step_student_is_anchored_to_the_input(photo, tiny_cfg, monkeypatch, on):
    import solosr.distill as distill

    anchors = []
    real = distill.TrueScaleSampler

    def spy(*a, anchor=None, **kw):
        anchors.append(anchor)
        return real(*a, anchor=anchor, **kw)

    monkeypatch.setattr(distill, "TrueScaleSampler", spy)
    cfg = config_with(tiny_cfg.replace(method="kd"), distill={"cycle_to_input": on})
    image = photo[:24, :24]
    r = solosr.upscale(image, 4, kernel="bicubic", config=cfg, device="cpu")
    assert r.image.shape[:2] == (96, 96) and not r.warnings  # trained, not fallen back to bicubic
    assert anchors[0] is None  # the first step's input is the input
    if on:
        assert anchors[1].scale == 4 and tuple(anchors[1].image.shape) == (3, 24, 24)
        assert np.allclose(anchors[1].image.numpy().transpose(1, 2, 0), image, atol=1 / 255)
    else:
        assert anchors[1] is None
    assert r.config.train.restart_if_stuck  # Result.config is the first step's, not the second's


def test_upscale_kd_end_to_end(photo, tiny_cfg):
    r = solosr.upscale(photo[:40, :40], 2, config=tiny_cfg.replace(method="kd"), kernel="bicubic")
    stages = {e["stage"] for e in r.history}
    assert stages == {"teacher", "student"} and r.image.shape == (80, 80, 3)


def test_student_copies_the_teachers_preprocessing(setup):
    lr, k, cfg = setup
    dev = torch.device("cpu")
    gen = torch.Generator().manual_seed(0)
    teacher, _ = train_teacher(lr, k, 2, config_with(cfg, train={"max_iters": 10, "min_iters": 10}), gen, dev)
    tiny = config_with(cfg, train={"max_iters": 1, "min_iters": 1, "eval_every": 1}, distill={"w_out": 0.0,
                                                                                             "w_cycle": 0.0})
    student, _ = train_student(lr, k, 2, tiny, teacher, gen, dev)
    assert student.pre is not None and student.pre_depth == teacher.pre_depth
    without, _ = train_student(lr, k, 2, config_with(tiny, distill={"student_pre": False}), teacher, gen, dev)
    assert without.pre is None


def test_soft_target_covers_a_bounded_window_of_a_large_input(setup, monkeypatch):
    lr, k, cfg = setup
    lr = torch.cat([lr, lr.flip(-1)], dim=-1)  # 48 x 96
    import solosr.distill as distill

    seen = {}
    real = distill.super_resolve

    def spy(net, image, *a, **kw):
        seen["shape"] = tuple(image.shape)
        return real(net, image, *a, **kw)

    monkeypatch.setattr(distill, "super_resolve", spy)
    cfg = config_with(cfg, train={"max_iters": 2, "min_iters": 2, "eval_every": 1},
                      distill={"target_max_side": 40, "target_ensemble": False})
    gen = torch.Generator().manual_seed(0)
    teacher = SRNet(3, width=cfg.net.width, depth=cfg.net.depth, pre_depth=3)
    train_student(lr, k, 2, cfg, teacher, gen, torch.device("cpu"))
    assert seen["shape"] == (3, 40, 40)


@pytest.mark.parametrize("tolerance", [1.0, 0.1])
def test_soft_target_takes_its_own_ensemble_turns(setup, monkeypatch, tolerance):
    lr, k, cfg = setup
    import solosr.distill as distill
    from solosr.infer import ensemble_transforms, kernel_symmetries

    seen = []
    real = distill.super_resolve

    def spy(net, image, scale, kernel, infer_cfg, **kw):
        seen.append(ensemble_transforms(kernel, scale, infer_cfg))
        return real(net, image, scale, kernel, infer_cfg, **kw)

    monkeypatch.setattr(distill, "super_resolve", spy)
    cfg = config_with(cfg, train={"max_iters": 2, "min_iters": 2, "eval_every": 1},
                      distill={"target_ensemble_tolerance": tolerance})
    teacher = SRNet(3, width=cfg.net.width, depth=cfg.net.depth, pre_depth=3)
    train_student(lr, k, 2, cfg, teacher, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert seen == [kernel_symmetries(k, 2, tolerance)]
    assert (len(seen[0]) == 8) == (tolerance == 1.0)  # this elongated kernel keeps fewer than 8 at 0.1


def test_config_changes_from_text_take_the_fields_types():
    from solosr.bench import config_with_text

    cfg = config_with_text(preset("fast"), ["distill.w_feat=0", "train.amp=false", "distill.student_init=scratch",
                                            "train.max_iters=7"])
    assert cfg.distill.w_feat == 0.0 and cfg.train.amp is False
    assert cfg.distill.student_init == "scratch" and cfg.train.max_iters == 7 and isinstance(cfg.train.max_iters, int)
    assert cfg.distill.w_out == preset("fast").distill.w_out  # the rest is untouched
    with pytest.raises(ValueError, match="no config field"):
        config_with_text(preset("fast"), ["distill.nonsense=1"])
    top = config_with_text(preset("fast"), ["x4=2x2-reuse", "method=zssr"])  # the run's own fields
    assert (top.x4, top.method, top.train) == ("2x2-reuse", "zssr", preset("fast").train)
    with pytest.raises(ValueError, match="is a stage"):
        config_with_text(preset("fast"), ["train=3"])


@pytest.mark.parametrize("method", ["zssr", "kd"])
def test_x4_reuse_trains_once_and_applies_that_network_twice(photo, tiny_cfg, monkeypatch, method):
    import solosr.pipeline as pipeline

    trained, applied = [], []
    real_train, real_apply = pipeline.train_method, pipeline.super_resolve

    def train_spy(lr, *a, **kw):
        net, history = real_train(lr, *a, **kw)
        trained.append((tuple(lr.shape), net))
        return net, history

    def apply_spy(net, image, *a, **kw):
        applied.append((net, tuple(image.shape)))
        return real_apply(net, image, *a, **kw)

    monkeypatch.setattr(pipeline, "train_method", train_spy)
    monkeypatch.setattr(pipeline, "super_resolve", apply_spy)
    r = solosr.upscale(photo[:24, :24], 4, kernel="bicubic", config=tiny_cfg.replace(method=method, x4="2x2-reuse"),
                       device="cpu")
    assert r.image.shape[:2] == (96, 96) and not r.warnings
    assert [shape for shape, _ in trained] == [(3, 24, 24)]  # one training, on the input
    assert [shape for _, shape in applied] == [(3, 24, 24), (3, 48, 48)]
    assert applied[0][0] is applied[1][0] is trained[0][1]
    assert not any(e["stage"].startswith("step2") for e in r.history)
    with pytest.raises(ValueError, match="unknown x4 mode"):
        solosr.upscale(photo[:24, :24], 4, kernel="bicubic", config=tiny_cfg.replace(x4="2x3"), device="cpu")
