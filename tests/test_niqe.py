from pathlib import Path

import numpy as np
import pytest
from skimage import data

from solosr.niqe import aggd_fit, niqe, pristine_model
from solosr.resize import imresize_np


@pytest.fixture(scope="module")
def camera() -> np.ndarray:
    return data.camera().astype(np.float64) / 255


def test_pristine_model_is_a_valid_gaussian():
    mu, cov = pristine_model()
    assert mu.shape == (36,) and cov.shape == (36, 36)
    assert np.allclose(cov, cov.T)
    assert np.linalg.eigvalsh(cov).min() > -1e-9


def test_aggd_fit_recovers_a_gaussian_shape():
    x = np.random.default_rng(0).normal(0, 2.0, 200_000)
    shape, left, right = aggd_fit(x)
    assert shape == pytest.approx(2.0, abs=0.05)
    assert left == pytest.approx(right, rel=0.02)


def test_blur_and_noise_score_worse_than_the_photo(camera):
    clean = niqe(camera)
    blurred = niqe(imresize_np(imresize_np(camera[..., None], scale=0.25), scale=4)[..., 0])
    noisy = niqe(np.clip(camera + np.random.default_rng(1).normal(0, 15 / 255, camera.shape), 0, 1))
    assert 1 < clean < 5
    assert blurred > clean + 1
    assert noisy > clean + 1


def test_gray_and_rgb_agree(camera):
    rgb = np.repeat(camera[..., None], 3, axis=-1)
    assert niqe(rgb) == pytest.approx(niqe(camera), abs=1e-9)


def test_too_small_an_image_is_refused():
    with pytest.raises(ValueError, match="96x96"):
        niqe(np.zeros((100, 150)))


BABOON = Path(__file__).resolve().parents[2] / "shared" / "data" / "hr" / "set14" / "img_001_SRF_2_HR.png"


@pytest.mark.skipif(not BABOON.exists(), reason="Set14 is in ../shared on development machines only")
def test_matches_the_published_reference_on_baboon():
    from solosr.imageio import read_image

    # 5.7296: the MATLAB reference on Set14's baboon, as reported in the BasicSR docs
    assert niqe(read_image(BABOON).pixels) == pytest.approx(5.7296, abs=0.005)
