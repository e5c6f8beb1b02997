"""Typed, frozen configuration for every stage, and the named presets.

A preset is a value, not a code path: `preset("fast")` returns a `RunConfig`, and
`dataclasses.replace` changes any field of it. Variants that lost their measurements were removed with
their code (several teachers, kernel jitter, an affinity feature term, a final lr decay, a weight
average): docs/studies/removed_variants.md.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

SCALES = (2, 3, 4)


@dataclass(frozen=True)
class PairsConfig:
    """Internal father/son sampling (DESIGN stage 2)."""

    crop: int = 128  # father crop side in pixels (HR space of the internal pairs)
    batch: int = 4
    min_father_scale: float = 0.5  # fathers are the image and copies downscaled to this
    n_father_scales: int = 6
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
    # The module waits (lr 0) over this share of the teacher's iterations while the body trains alone,
    # then warms up. Trained together from the start, the two sometimes settle badly: DIV2K im_12 x2
    # (seed 0) teacher 33.19 dB, with the wait 36.38 (ZSSR 36.05). kd at the fast preset, CPU, with vs
    # without the wait: DIV2K photos x2 35.90 vs 35.79 (three runs), x4 26.74 vs 26.73; Set5 x4 26.91
    # vs 26.75 (three runs, per-image spread over runs 0.14 vs 0.45); Set5 x2 32.65 vs 32.65 (three
    # runs), Set14 x2 30.07 vs 30.08; Set14 x4 25.39 vs 25.51 (one run;
    # a second on seven images -0.02) (docs/results/div2k_photos.md).
    teacher_pre_delay: float = 0.5
    # The teacher (11 layers with the module) and the student train with the lr rising over their first
    # iterations: from the start at full lr, Adam's first steps switch whole layers off (Set5 x2, fast:
    # teacher 32.29 -> 32.68 dB with 50, kd 32.28 -> 32.70; ZSSR, 8 layers, 32.71 -> 32.60 with 50).
    warmup_iters: int = 50
    # kd's image is one pass of the student (no self-ensemble at inference): it learned the teacher's
    # ensemble + back-projection. Eight DIV2K photos x2: level with the kernel's ensemble (docs/studies/fast_engine.md).
    student_one_pass: bool = True
    # A smaller student (32x6, from scratch): -0.47 dB over six DIV2K photos x2, two of them -1.2 and -2.6
    # (docs/studies/fast_engine.md): the student keeps the teacher's size and starts from its weights.
    student_width: int = 64
    student_depth: int = 8
    # The student learns from the true scale alone (kd_out, cycle): with the internal pairs' terms too (rec 1,
    # feat 0.1) level or lower on eight DIV2K photos x2, at more time per step (docs/studies/fast_engine.md).
    w_rec: float = 0.0  # |S(son) - father|_1 on internal pairs
    w_feat: float = 0.0  # middle features of the student (through an adapter) vs the teacher's
    w_out: float = 1.0  # |S(y) - T(y)|_1 on crops of the input image (the true scale)
    w_cycle: float = 1.0  # |(S(y) * k) down s - y|_1
    # x4 as two x2 steps: the second step's cycle term compares with the original input (through the
    # x4 kernel), as the term is meant, instead of the first step's output with its errors. Set5 x4,
    # fast: 27.04 dB vs 27.03, no gain (docs/results/kd_variants_x4.md); with cycle weight 4, 26.99.
    cycle_to_input: bool = True
    target_ensemble: bool = True  # the soft target is the teacher's self-ensemble, back-projected
    target_backprojection: int = 2
    # Which turns the target's ensemble takes (as infer.ensemble_tolerance). All 8, though most are wrong
    # for an elongated blur: back-projected after it, the all-8 average was level with the kernel's own
    # turns over five DIV2K photos (ZSSR's nets, -0.01 dB) but up to 1 dB apart either way per photo
    # (im_15 +0.98, im_11 -0.63). The student from the kernel's turns: DIV2K im_15 37.50 dB against
    # 39.83 with all 8 (kd's largest gain comes from this target); four Set5/Set14 x2 images +0.12, one
    # run each (docs/results/ensemble_kernel_x2.md). What the all-8 average buys is a hedge against a
    # kernel estimate more stretched than the blur: kd - ZSSR +0.31 dB on such images, +0.02-0.04 on the
    # rest (59 images), +0.05 on ten photos given the true kernel (docs/results/kd_gain_x2_study.md).
    target_ensemble_tolerance: float = 1.0
    target_max_side: int = 512  # the soft target covers at most this x this input pixels (the most
    # textured window): the teacher's 8-pass target over a whole large image costs more than training
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
    warmup_iters: int = 0  # the lr rises linearly from 0 over this many first iterations (the teacher
    # and student take distill.warmup_iters instead)
    restart_if_stuck: bool = True  # train again, once, a net no better than interpolation (train.py)
    eval_every: int = 50
    patience: int = 3  # evaluations without relative improvement before the lr drops
    min_rel_improvement: float = 0.005
    amp: bool = True  # bf16 autocast (CPU and CUDA) where it helps
    max_seconds: float = 0.0  # stop after this much training time (0: no limit)
    # A small image holds little to learn: trained long, the net memorises it (Set5 baby at x4, 128px
    # input, balanced ZSSR: 1000 iterations 24.9 dB, bicubic 27.2; capped at 1 per 50 pixels 27.4,
    # at 1 per 200 pixels 28.2). Training stops at max(min_iters, pixels / pixels_per_iter); 0: no cap.
    pixels_per_iter: float = 200.0


@dataclass(frozen=True)
class InferConfig:
    """Reconstruction (DESIGN stage 5)."""

    ensemble: bool = False  # the rotations/flips that keep the kernel (see ensemble_tolerance), averaged
    # A rotation/flip joins the ensemble when it moves at most this share of the kernel's mass (half the
    # L1 distance after re-centring): the net is trained for the blur in its own orientation, so a turn
    # that changes the blur gives a wrong output. 1.0 takes all 8, whatever the kernel (the old ensemble).
    ensemble_tolerance: float = 0.1
    backprojection_iters: int = 0
    tile: int = 256  # LR tile side; 0 = whole image
    amp: bool = True


@dataclass(frozen=True)
class RunConfig:
    method: str = "kd"  # "kd": teacher + distilled student; "zssr": one network (the baseline)
    x4: str = "2x2"  # x4 as two x2 steps with the x2 kernel ("2x2") or in one step ("direct")
    # "2x2-reuse" (`upscale --x4`): the first step's network applied twice, one training instead of two. Set5 x4, fast,
    # three seeds: kd 26.52 dB in 18 s per image against 26.75 in 68 s with "2x2" (ZSSR 26.24 / 26.56);
    # docs/results/ablation_x4_cap50_reuse.md.
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
        # 80-pixel crops against 96: +0.17 dB on ten DIV2K photos x2 (6/10 ahead, inside the per-image
        # spread), 19 % less time on an AVX2 EPYC (docs/studies/fast_engine.md, section 7).
        pairs=PairsConfig(crop=80, batch=4),
        # 1 iteration per 50 input pixels: Set5 at x2 +0.33 dB for ZSSR, +0.38 for kd, over 1 per 200
        # (which stopped 128-256 px inputs at 200-328 iterations); at x4 +0.07 for both
        # (docs/results/kd_variants_x2.md, ablation_x4_cap50.md). The LR-space teacher reaches its plateau
        # in 150-250 iterations where ZSSR's HR-space net needed 300-400; 150 against 200: +0.22 dB on eight
        # DIV2K photos x2 (4 ahead) in 18 % less time (docs/studies/fast_engine.md).
        train=TrainConfig(max_iters=150, min_iters=150, eval_every=50, patience=2, pixels_per_iter=50.0),
        # The kernel's self-ensemble + 2 back-projection steps, over one pass: ZSSR +0.43 dB on ten DIV2K
        # photos at x2, +0.54 at x4, Set5 +0.69 / +0.40, Set14 +0.11 / +0.06; kd +0.08 Set5 x2, +0.10 Set14
        # x2, +0.17 photos x4, Set5 x4 -0.09, Set14 x4 +0.01. Costs 1.4x (2 turns) to 8.6x (8 turns) the
        # one-pass inference (512x512 x2 on a 2-core AMX Xeon: 1.0 s -> 8.8 s with 8 turns).
        # (docs/results/inference_x2_kernel_bp.md, h200/README.md seventh loan)
        infer=InferConfig(ensemble=True, backprojection_iters=2),
    ),
    "balanced": RunConfig(
        # fast at the last default's training lengths (teacher 400, student 200): what the fast preset's
        # shorter training gives up (docs/studies/fast_engine.md).
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


# The preset a run gets when none is named: the best quality per second. On the LR engine, x2, 2-core Xeon
# (bf16): fast 17 s per DIV2K photo, balanced 2-2.5x that for +0.06 (Set5) and +0.28 dB (Set14); the last
# default (HR-space nets) was 3-4x fast's time for +0.2-0.35 dB (docs/studies/fast_engine.md).
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
