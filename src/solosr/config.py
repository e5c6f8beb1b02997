"""Typed, frozen configuration for every stage, and the named presets.

A preset is a value, not a code path: `preset("fast")` returns a `RunConfig`, and
`dataclasses.replace` changes any field of it. A comment's `settings.md#NAME` is the section of
docs/studies/settings.md that holds the measurement behind the value. Variants that lost their measurements were removed with
their code (several teachers, kernel jitter, an affinity feature term, a final lr decay, a weight
average): docs/studies/removed_variants.md.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

SCALES = (2, 3, 4)
ESTIMATE_METHODS = ("gaussian", "recurrence", "gaussian+recurrence")


@dataclass(frozen=True)
class EstimateConfig:
    """How the kernel is found from the image alone (DESIGN stage 1; estimate.py)."""

    method: str = "gaussian"  # or "recurrence", "gaussian+recurrence"; the Gaussian measured best (settings.md#estimate)
    fit_queries: int = 1000
    fit_database: int = 65536  # about every patch of the degraded 512px crop at x2: the largest accuracy lever
    fit_evals: int = 35
    x4_effort: float = 1.0  # >1 searches longer at x4: better kernels, no PSNR gain, 2.8x the time (settings.md#x4_effort)
    x4_width: float = 0.95  # the x4 estimate's x2 kernel narrowed so: it came out too wide (settings.md#x4_width)
    patch: int = 5  # query patch side in the image
    kernel_size: int = 11  # x2; x3 uses kernel_size + 4; x4 composes the x2 kernel
    iters: int = 12
    queries: int = 6000  # textured query patches used per iteration
    database: int = 60000  # at most this many candidate patches of the degraded copy
    neighbours: int = 3
    smoothness: float = 0.02  # weight of the gradient penalty, relative to the data term's scale
    spread: float = 0.002  # weight of the penalty on taps far from the centre
    init_sigma: float = 1.2
    max_side: int = 512  # larger images are centre-cropped for estimation
    min_side: int = 40  # below this (LR pixels) the estimate falls back
    min_texture: float = 0.01  # std of the textured patches' contrast below which the image is "flat"
    seed: int = 0

    def __post_init__(self):
        if self.method not in ESTIMATE_METHODS:
            raise ValueError(f"unknown kernel estimation method {self.method!r}; choose one of {', '.join(ESTIMATE_METHODS)}")


@dataclass(frozen=True)
class PairsConfig:
    """Internal father/son sampling (DESIGN stage 2)."""

    crop: int = 128  # father crop side in pixels (HR space of the internal pairs)
    batch: int = 4
    min_father_scale: float = 0.5  # fathers are the image and copies downscaled to this
    n_father_scales: int = 6
    max_pixels: int = 2_000_000  # fathers from the most textured window of this many pixels (settings.md#fathers_window)
    gradient_weight: float = 0.8  # share of crops drawn by gradient magnitude, rest uniform
    noise_sigma: float = 0.0  # Gaussian noise (0-1 scale) added to every son, as the input carries
    jpeg_quality: int = 0  # re-compress every son as JPEG at this quality (0: off)


@dataclass(frozen=True)
class NetConfig:
    """The SR network: a residual CNN added to the bicubic-interpolated input."""

    # "lr": convolutions at the input's resolution, pixel shuffle to the output (nets.LRNet); "hr": ZSSR's,
    # every convolution on the interpolated HR-size input (nets.SRNet), s*s times the work.
    space: str = "lr"
    width: int = 64
    depth: int = 8  # conv layers in the body


@dataclass(frozen=True)
class DistillConfig:
    """Teacher with residual preprocessing, student by distillation (DESIGN stages 3 and 4).

    Each loss term has a weight; 0 switches it off.
    """

    teacher_pre_depth: int = 3  # conv layers of the preprocessing module g in p(z) = z + g(z)
    teacher_pre_width: int = 32
    teacher_pre_lr: float = 1.0  # the preprocessing module's learning rate, times the body's
    teacher_pre_delay: float = 0.5  # share of the teacher's steps the module waits while the body trains (settings.md#pre_delay)
    warmup_iters: int = 50  # teacher and student: lr rises over these steps, or layers die (settings.md#warmup)
    student_one_pass: bool = True  # kd's image: one student pass, level with the ensemble (settings.md#one_pass)
    student_width: int = 64  # the teacher's size: a smaller student lost 0.47 dB (settings.md#student_size)
    student_depth: int = 8
    w_rec: float = 0.0  # |S(son) - father|_1 on internal pairs; off with w_feat: no gain, more time (settings.md#student_terms)
    w_feat: float = 0.0  # middle features of the student (through an adapter) vs the teacher's
    w_out: float = 1.0  # |S(y) - T(y)|_1 on crops of the input image (the true scale)
    w_cycle: float = 1.0  # |(S(y) * k) down s - y|_1
    cycle_to_input: bool = True  # x4's second step: the cycle term against the input itself; level (settings.md#cycle_to_input)
    target_ensemble: bool = True  # the soft target is the teacher's self-ensemble, back-projected
    target_backprojection: int = 2
    target_ensemble_tolerance: float = 1.0  # all 8 turns: a hedge on over-stretched estimates (settings.md#target_turns)
    target_max_side: int = 512  # the soft target covers this x this input pixels at most (the most textured window)
    student_init: str = "teacher"  # or "scratch": start from the teacher's weights (same width/depth only)
    student_pre: bool = True  # the student gets the teacher's preprocessing module (copied, trained on)
    student_iters: float = 1.0  # the student trains for this times train.max_iters, after the teacher
    student_lr: float = 1.0  # the student's learning rate, times train.lr (it starts from the trained teacher)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation of one network on internal pairs."""

    max_iters: int = 1500
    min_iters: int = 300
    lr: float = 1e-3
    lr_min: float = 1e-5
    lr_drop: float = 0.1
    warmup_iters: int = 0  # lr rises from 0 over these first steps (teacher and student: distill.warmup_iters)
    restart_if_stuck: bool = True  # train again, once, a net no better than interpolation (train.py)
    eval_every: int = 50
    patience: int = 3  # evaluations without relative improvement before the lr drops
    min_rel_improvement: float = 0.005
    amp: bool = True  # bf16 autocast (CPU and CUDA) where it helps
    max_seconds: float = 0.0  # stop after this much training time (0: no limit)
    pixels_per_iter: float = 200.0  # stop at max(min_iters, pixels / this): a small image is memorised (settings.md#cap)


@dataclass(frozen=True)
class InferConfig:
    """Reconstruction (DESIGN stage 5)."""

    ensemble: bool = False  # the rotations/flips that keep the kernel (see ensemble_tolerance), averaged
    ensemble_tolerance: float = 0.1  # a turn joins if it moves at most this share of the kernel's mass (settings.md#ensemble)
    backprojection_iters: int = 0
    tile: int = 256  # LR tile side; 0 = whole image
    amp: bool = True


@dataclass(frozen=True)
class RunConfig:
    method: str = "kd"  # "kd": teacher + distilled student; "zssr": one network (the baseline)
    x4: str = "2x2"  # two x2 steps ("2x2"), one training applied twice ("2x2-reuse"), one step ("direct") (settings.md#x4)
    estimate: EstimateConfig = field(default_factory=EstimateConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    pairs: PairsConfig = field(default_factory=PairsConfig)
    net: NetConfig = field(default_factory=NetConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    infer: InferConfig = field(default_factory=InferConfig)

    def replace(self, **changes) -> "RunConfig":
        """Copy with some stage configs replaced, e.g. `cfg.replace(train=TrainConfig(max_iters=10))`."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


PRESETS: dict[str, RunConfig] = {
    "fast": RunConfig(
        distill=DistillConfig(student_iters=0.5),
        pairs=PairsConfig(crop=80, batch=4),  # level with 96 in quality, 19 % less time (settings.md#crop)
        # 150 teacher steps: the LR-space teacher's plateau; 1 step per 50 input pixels (settings.md#fast_length)
        train=TrainConfig(max_iters=150, min_iters=150, eval_every=50, patience=2, pixels_per_iter=50.0),
        # the kernel's self-ensemble (ZSSR; kd's student makes one pass) + 2 back-projection steps (settings.md#inference)
        infer=InferConfig(ensemble=True, backprojection_iters=2),
    ),
    "balanced": RunConfig(
        # fast at the last default's training lengths (teacher 400, student 200) (docs/studies/fast_engine.md)
        distill=DistillConfig(student_iters=0.5),
        pairs=PairsConfig(crop=96, batch=4),
        train=TrainConfig(max_iters=400, min_iters=200, eval_every=50, patience=2, pixels_per_iter=50.0),
        infer=InferConfig(ensemble=True, backprojection_iters=2),
    ),
    "best": RunConfig(
        pairs=PairsConfig(crop=128, batch=4),
        train=TrainConfig(max_iters=2000, min_iters=600, patience=4),
        infer=InferConfig(ensemble=True, backprojection_iters=4),
    ),
}


# The preset a run gets when none is named: the best quality per second (settings.md#default_preset).
DEFAULT_PRESET = "fast"


def describe(cfg: RunConfig) -> str:
    """A preset's working values in a few words (for `--help`: read from the config, never written by hand)."""
    t, d, i = cfg.train, cfg.distill, cfg.infer
    student = f"student {d.student_width}x{d.student_depth} for {round(t.max_iters * d.student_iters)}"
    inference = "one pass" if cfg.method == "kd" and d.student_one_pass else (
        "kernel's self-ensemble" if i.ensemble else "one pass")
    iters = f"{t.max_iters}" if t.min_iters >= t.max_iters else f"{t.min_iters}-{t.max_iters}"
    return (f"{cfg.net.space.upper()}-space nets {cfg.net.width}x{cfg.net.depth}, teacher {iters} "
            f"iterations, {student}, crops {cfg.pairs.crop}x{cfg.pairs.batch}; {inference} + "
            f"{i.backprojection_iters} back-projection steps")


def preset(name: str) -> RunConfig:
    """The named preset; raises ValueError for an unknown name."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None
