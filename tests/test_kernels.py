import numpy as np
import pytest

from solosr.kernels import (bicubic_kernel, center_kernel, center_of_mass, compose_x2_to_x4, elongation,
                            gaussian_kernel, kernel_error, load_kernel, random_div2krk_kernel,
                            rms_radius, warp_kernel)
from solosr.resize import degrade_np


@pytest.mark.parametrize("scale,size", [(2, 11), (3, 15), (4, 31)])
def test_div2krk_kernel_sums_to_one_and_is_centred(scale, size):
    for seed in range(5):
        k = random_div2krk_kernel(scale, np.random.default_rng(seed))
        assert k.shape == (size, size)
        assert abs(k.sum() - 1) < 1e-9 and k.min() >= 0
        assert np.allclose(center_of_mass(k), size // 2 + (scale - 1) / 2, atol=0.05)


def test_div2krk_kernel_is_seeded():
    a = random_div2krk_kernel(2, np.random.default_rng(7))
    b = random_div2krk_kernel(2, np.random.default_rng(7))
    c = random_div2krk_kernel(2, np.random.default_rng(8))
    assert np.array_equal(a, b) and not np.allclose(a, c)


def test_div2krk_kernels_are_anisotropic_and_vary():
    ks = [random_div2krk_kernel(2, np.random.default_rng(s)) for s in range(20)]
    errors = [kernel_error(ks[0], k) for k in ks[1:]]
    assert min(errors) > 0


def test_x4_composition_equals_degrading_twice():
    k2 = random_div2krk_kernel(2, np.random.default_rng(3))
    k4 = compose_x2_to_x4(k2)
    assert k4.shape == (31, 31)
    img = np.random.default_rng(0).random((96, 96)).astype(np.float32)
    twice = degrade_np(degrade_np(img, k2, 2), k2, 2)
    once = degrade_np(img, k4, 4)
    assert np.allclose(twice[5:-5, 5:-5], once[5:-5, 5:-5], atol=1e-5)


def test_centring_moves_the_centre_of_mass():
    off_centre = np.pad(gaussian_kernel(9, 1.0), ((0, 4), (4, 0)))  # 13x13, mass 2 px off centre
    assert not np.allclose(center_of_mass(off_centre), 6, atol=1)
    for scale, wanted in ((2, 6.5), (3, 7.0), (4, 7.5)):
        assert np.allclose(center_of_mass(center_kernel(off_centre, scale)), wanted, atol=0.05)


def test_kernel_error_ignores_shift_and_size():
    g = gaussian_kernel(11, 1.2, 2.0, 0.3)
    shifted = np.roll(np.pad(g, 4), 2, axis=1)
    assert kernel_error(g, shifted) < 1e-4
    assert kernel_error(g, gaussian_kernel(11, 1.2, 2.0, 1.3)) > 1e-3


def test_bicubic_kernel_is_normalised():
    for s in (2, 3, 4):
        k = bicubic_kernel(s)
        assert abs(k.sum() - 1) < 1e-9 and k.shape[0] % 2 == 1


@pytest.mark.parametrize("arr,msg", [(np.ones(5), "2-D"), (np.full((5, 5), np.nan), "NaN"),
                                     (-np.ones((5, 5)), "negative"), (np.zeros((5, 5)), "zero")])
def test_load_kernel_rejects_bad_files(tmp_path, arr, msg):
    path = tmp_path / "k.npy"
    np.save(path, arr)
    with pytest.raises(ValueError, match=msg):
        load_kernel(str(path), 2)


def test_load_kernel_unreadable_says_what_a_kernel_file_is(tmp_path):
    (tmp_path / "k.txt").write_text("not numbers\n")
    (tmp_path / "k.npy").write_bytes(b"\x89PNG\r\n")
    for name in ("k.txt", "k.npy"):
        with pytest.raises(ValueError, match=r"cannot read kernel \(a kernel file is a \.npy array, a \.mat file or a text file"):
            load_kernel(str(tmp_path / name), 2)
    with pytest.raises(ValueError, match="no such kernel file"):
        load_kernel(str(tmp_path / "missing.npy"), 2)
    with pytest.raises(ValueError, match="not a file"):
        load_kernel(str(tmp_path), 2)


def test_load_kernel_text_and_npy(tmp_path):
    g = gaussian_kernel(7, 1.5)
    np.savetxt(tmp_path / "k.txt", g)
    np.save(tmp_path / "k.npy", g)
    a, b = load_kernel(str(tmp_path / "k.txt"), 2), load_kernel(str(tmp_path / "k.npy"), 2)
    assert np.allclose(a, b) and abs(a.sum() - 1) < 1e-9


def _second_moments(k):
    c = center_of_mass(k)
    y, x = np.indices(k.shape)
    return np.array([((y - c[0]) ** 2 * k).sum(), ((x - c[1]) ** 2 * k).sum()])


@pytest.mark.parametrize("stretch", [0.85, 1.0, 1.2])
def test_a_warped_kernel_is_the_same_blur_stretched_and_stays_centred(stretch):
    k = center_kernel(gaussian_kernel(13, 1.5, 0.8, 0.3), 2)
    w = warp_kernel(k, 2, stretch * np.eye(2), pad=2)
    assert w.shape == (17, 17) and w.sum() == pytest.approx(1.0, abs=1e-5) and w.min() >= 0
    assert np.allclose(center_of_mass(w), center_of_mass(k) + 2, atol=1e-3)  # where degrade wants it
    assert np.allclose(_second_moments(w) / _second_moments(k), stretch**2, rtol=0.02)  # along each axis
    assert rms_radius(w) == pytest.approx(stretch * rms_radius(k), rel=0.01)


@pytest.mark.parametrize("theta", [0.0, 0.7, 2.0])
def test_elongation_is_the_ratio_of_the_axes_whatever_the_angle(theta):
    assert elongation(gaussian_kernel(21, 1.2, 1.2, theta)) == pytest.approx(1.0, abs=1e-6)
    assert elongation(gaussian_kernel(21, 2.4, 1.2, theta)) == pytest.approx(2.0, rel=0.01)
    assert elongation(gaussian_kernel(21, 1.0, 1.5, theta)) == pytest.approx(1.5, rel=0.01)


def test_mat_kernels_with_numerical_noise_below_zero_load(tmp_path):
    """DIV2KRK's ground-truth kernels are MATLAB files whose values dip to about -5e-4 after
    normalisation: they load, the dips set to 0; a kernel that really sharpens is refused."""
    from scipy.io import savemat

    true = gaussian_kernel(19, 2.0)
    noisy = true.copy()
    noisy[0, :6] = -5e-4  # a tail dips below zero (0.3 % of the mass), as DIV2KRK's kernels do (up to 0.5 %)
    savemat(tmp_path / "kernel.mat", {"Kernel": noisy, "other": np.ones(3)})
    with pytest.warns(UserWarning, match="below zero"):
        k = load_kernel(str(tmp_path / "kernel.mat"), 2)
    assert k.min() >= 0 and abs(k.sum() - 1) < 1e-9
    assert np.abs(k - center_kernel(np.clip(noisy, 0, None), 2)).max() < 1e-12
    savemat(tmp_path / "two.mat", {"a": true, "b": true})
    with pytest.raises(ValueError, match="expected one 2-D variable"):
        load_kernel(str(tmp_path / "two.mat"), 2)
    sharpen = -0.1 * np.ones((3, 3))
    sharpen[1, 1] = 1.8
    np.save(tmp_path / "sharpen.npy", sharpen)
    with pytest.raises(ValueError, match="negative values"):
        load_kernel(str(tmp_path / "sharpen.npy"), 2)


@pytest.mark.parametrize("scale", [2, 4])
def test_disk_and_motion_blurs_have_their_shape_and_are_centred(scale):
    from solosr.kernels import disk_kernel, motion_kernel, random_blur_kernel

    disk = disk_kernel(4.0, 17)
    assert disk.sum() == pytest.approx(1.0) and disk.min() >= 0
    assert rms_radius(disk) == pytest.approx(4.0 / np.sqrt(2), rel=0.03)  # a uniform disk's RMS radius is r / sqrt(2)
    assert elongation(disk) == pytest.approx(1.0, abs=0.01) and disk[8, 8] == disk.max()
    assert disk[8, 8 + 5] == 0 and disk[8, 8 + 3] == disk[8, 8]  # flat inside, nothing outside
    line = motion_kernel(9.0, np.pi / 2, 17)  # along y
    assert line.sum() == pytest.approx(1.0) and elongation(line) > 5
    assert line[:, 8].sum() > 0.8 and line[8, 4] == 0
    for blur in ("disk", "motion"):
        k = random_blur_kernel(blur, scale, np.random.default_rng(3))
        assert k.shape == ((17, 17) if scale == 2 else (31, 31)) and k.sum() == pytest.approx(1.0)
        assert np.allclose(center_of_mass(k), np.array(k.shape) // 2 + (scale - 1) / 2, atol=1e-3)  # degrade's centre
        assert np.array_equal(k, random_blur_kernel(blur, scale, np.random.default_rng(3)))  # seeded
    assert np.array_equal(random_blur_kernel("gaussian", scale, np.random.default_rng(3)),
                          random_div2krk_kernel(scale, np.random.default_rng(3)))
    with pytest.raises(ValueError, match="unknown blur"):
        random_blur_kernel("box", scale, np.random.default_rng(0))


def test_degrade_makes_a_set_of_the_blur_asked_for(tmp_path, capsys):
    from PIL import Image

    from solosr.cli import main

    hr = tmp_path / "hr"
    hr.mkdir()
    Image.fromarray((np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)).save(hr / "a.png")
    assert main(["degrade", str(hr), "-o", str(tmp_path / "set"), "--blur", "motion"]) == 0
    k = np.load(tmp_path / "set" / "kernels_x2" / "a.npy")
    assert k.shape == (17, 17) and elongation(k) > 2  # a streak, not a DIV2KRK Gaussian (11x11)
    assert np.asarray(Image.open(tmp_path / "set" / "lr_x2" / "a.png")).shape == (32, 32, 3)
    assert "motion blur" in capsys.readouterr().out
