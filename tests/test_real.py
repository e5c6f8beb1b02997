"""Real-photo handling: noise- and JPEG-aware sons, bad arguments, the NaN fallback."""

import numpy as np
import pytest
import torch

import solosr
from solosr.config import PairsConfig
from solosr.pairs import PairSampler, jpeg_roundtrip
from solosr.pipeline import _degradation_extras
from solosr.train import TrainingDiverged


def _sampler(img, **pairs):
    return PairSampler(img, np.ones((1, 1)), 2, PairsConfig(crop=32, batch=2, **pairs), torch.Generator().manual_seed(0))


def test_sons_carry_the_requested_noise():
    img = torch.full((3, 80, 80), 0.5)
    clean = _sampler(img).corrupt(torch.full((2, 3, 16, 16), 0.5))
    noisy = _sampler(img, noise_sigma=0.05).corrupt(torch.full((2, 3, 16, 16), 0.5))
    assert clean.std() == 0 and 0.04 < noisy.std() < 0.06


def test_sons_can_be_jpeg_compressed():
    x = torch.rand(2, 3, 32, 32)
    y = jpeg_roundtrip(x, 30)
    assert y.shape == x.shape and 0.01 < (y - x).abs().mean() < 0.3
    assert (jpeg_roundtrip(x, 95) - x).abs().mean() < (y - x).abs().mean()


def test_degradation_extras_from_arguments_and_estimate():
    class Est:
        noise_sigma, jpeg = 5 / 255, True

    assert _degradation_extras("auto", "auto", Est()) == {"noise_sigma": 5 / 255, "jpeg_quality": 75}
    assert _degradation_extras("auto", "auto", None) == {"noise_sigma": 0.0, "jpeg_quality": 0}
    assert _degradation_extras(0.01, "off", Est()) == {"noise_sigma": 0.01, "jpeg_quality": 0}
    with pytest.raises(ValueError, match="quality"):
        _degradation_extras(0, 101, None)
    with pytest.raises(ValueError, match="noise"):
        _degradation_extras(-1, "off", None)


def test_diverging_training_falls_back_instead_of_writing_nan(monkeypatch, photo, tiny_cfg):
    import solosr.pipeline as pipeline

    calls = []

    def diverge(*args, **kwargs):
        calls.append(1)
        raise TrainingDiverged("loss became nan at iteration 1")

    monkeypatch.setattr(pipeline, "train_method", diverge)
    r = solosr.upscale(photo[:32, :32], 2, config=tiny_cfg, kernel="bicubic")
    assert len(calls) == 2  # once as configured, once with a lower learning rate
    assert np.all(np.isfinite(r.image)) and r.image.shape == (64, 64, 3)
    assert any("falling back to bicubic" in w for w in r.warnings)
