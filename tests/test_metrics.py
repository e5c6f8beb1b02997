import numpy as np

from solosr.metrics import psnr_y, rgb_to_y, ssim, ssim_y


def test_psnr_of_known_error():
    hr = np.full((20, 20, 3), 0.5)
    sr = hr.copy()
    sr[..., :] += 10 / 255 / (219 / 255)  # shifts Y by exactly 10 levels
    assert abs(psnr_y(sr, hr) - 10 * np.log10(255**2 / 100)) < 1e-6
    assert psnr_y(hr, hr) == float("inf")


def test_shave_and_crop():
    hr = np.zeros((20, 22, 3))
    sr = np.zeros((21, 22, 3))
    sr[0] = 1.0  # only the shaved border differs
    assert psnr_y(sr, hr, shave=2) == float("inf")


def test_y_of_white_and_black():
    assert np.allclose(rgb_to_y(np.ones((1, 1, 3))), 235, atol=0.01)
    assert np.allclose(rgb_to_y(np.zeros((2, 2, 1))), 16)


def test_ssim_matches_skimage():
    from skimage.metrics import structural_similarity

    rng = np.random.default_rng(0)
    a = rng.random((40, 50)) * 255
    b = np.clip(a + rng.normal(0, 20, a.shape), 0, 255)
    ref = structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                data_range=255)
    assert abs(ssim(a, b) - ref) < 1e-6
    assert ssim(a, a) == 1.0


def test_ssim_y_orders_noise():
    rng = np.random.default_rng(1)
    hr = rng.random((40, 40, 3))
    small = np.clip(hr + rng.normal(0, 0.01, hr.shape), 0, 1)
    big = np.clip(hr + rng.normal(0, 0.1, hr.shape), 0, 1)
    assert ssim_y(small, hr) > ssim_y(big, hr)
