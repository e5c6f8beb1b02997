import numpy as np
import pytest
import torch

from solosr.kernels import bicubic_kernel
from solosr.metrics import psnr_y
from solosr.resize import degrade_np, imresize, imresize_np, pad_symmetric


@pytest.mark.parametrize("scale", [2, 3, 4, 0.5, 1 / 3, 0.25, 0.7])
def test_constant_image_stays_constant(scale):
    img = np.full((23, 17, 3), 0.37, np.float32)
    out = imresize_np(img, scale)
    assert np.allclose(out, 0.37, atol=1e-6)


@pytest.mark.parametrize("shape,scale,expected", [((7, 9), 2, (14, 18)), ((7, 9), 0.5, (4, 5)),
                                                  ((11, 13), 1 / 3, (4, 5)), ((5, 5), 3, (15, 15)),
                                                  ((17, 10), 0.25, (5, 3))])
def test_output_size_is_matlab_ceil(shape, scale, expected):
    assert imresize_np(np.zeros(shape, np.float32), scale).shape == expected


def test_down_then_up_of_smooth_image_is_close():
    y, x = np.mgrid[0:96, 0:96] / 96.0
    img = (0.5 + 0.4 * np.sin(2 * np.pi * x) * np.cos(3 * np.pi * y)).astype(np.float32)
    back = imresize_np(imresize_np(img, 0.5), 2)
    assert psnr_y(back, img, shave=4) > 40


def test_linear_ramp_is_kept_in_the_interior():
    # The cubic kernel reproduces linear functions exactly.
    img = np.tile(np.arange(40, dtype=np.float32) / 40, (10, 1))
    up = imresize_np(img, 2)
    expected = (np.arange(80) + 0.5) / 2 - 0.5  # pixel-centre alignment
    assert np.allclose(up[:, 4:-4], expected[None, 4:-4] / 40, atol=1e-5)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_degrade_with_bicubic_kernel_is_imresize(scale):
    img = np.random.default_rng(0).random((48, 36, 3)).astype(np.float32)
    assert np.allclose(degrade_np(img, bicubic_kernel(scale), scale), imresize_np(img, 1 / scale), atol=1e-5)


def test_degrade_crops_to_a_multiple_of_scale():
    img = np.random.default_rng(0).random((25, 31)).astype(np.float32)
    assert degrade_np(img, np.ones((1, 1)), 2).shape == (12, 15)
    # a delta kernel is plain subsampling
    assert np.array_equal(degrade_np(img, np.ones((1, 1)), 2), img[:24:2, :30:2])


def test_symmetric_padding_matches_numpy():
    x = torch.arange(12.0).reshape(1, 1, 3, 4)
    ours = pad_symmetric(x, 2, 5, 1, 7)[0, 0].numpy()
    assert np.array_equal(ours, np.pad(x[0, 0].numpy(), ((2, 5), (1, 7)), mode="symmetric"))


def test_imresize_keeps_batch_and_dtype():
    x = torch.rand(2, 3, 10, 12, dtype=torch.float64)
    y = imresize(x, scale=2)
    assert y.shape == (2, 3, 20, 24) and y.dtype == torch.float64
    assert torch.allclose(y[1], imresize(x[1], scale=2))


@pytest.mark.parametrize("shape,size,stride", [((1, 3, 101, 77), 11, 2), ((2, 1, 64, 65), 13, 4), ((1, 3, 50, 40), 5, 1)])
def test_blur_in_bands_equals_blur_whole(monkeypatch, shape, size, stride):
    import torch.nn.functional as F

    from solosr import resize

    x = torch.rand(shape, generator=torch.Generator().manual_seed(0))
    k = torch.rand(size, size, generator=torch.Generator().manual_seed(1))
    k /= k.sum()
    pad = (size // 2, size - 1 - size // 2)
    whole = F.conv2d(pad_symmetric(x, *pad, *pad), k.expand(shape[1], 1, size, size), stride=stride, groups=shape[1])
    monkeypatch.setattr(resize, "BLUR_BAND_ELEMENTS", 500)  # bands of a few rows each
    assert torch.equal(resize.blur(x, k, stride), whole)
