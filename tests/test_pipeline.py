import warnings

import numpy as np
import pytest
import torch
from PIL import Image

import solosr
from solosr.config import InferConfig, PairsConfig, TrainConfig
from solosr.infer import apply_net, back_project
from solosr.kernels import random_div2krk_kernel
from solosr.nets import LRNet, SRNet, interpolate, make_net
from solosr.pairs import PairSampler, dihedral, dihedral_inverse
from solosr.resize import degrade, degrade_np


def test_dihedral_transforms_invert():
    x = torch.rand(3, 5, 7)
    outs = [dihedral(x, t) for t in range(8)]
    assert len({tuple(o.flatten().tolist()) for o in outs}) == 8
    for t in range(8):
        assert torch.equal(dihedral_inverse(outs[t], t), x)


def test_sampler_pairs_are_degraded_fathers(photo):
    k = random_div2krk_kernel(2, np.random.default_rng(0))
    img = torch.from_numpy(photo.transpose(2, 0, 1))
    s = PairSampler(img, k, 2, PairsConfig(crop=32, batch=3), torch.Generator().manual_seed(0))
    son, son_up, father = s.sample()
    assert son_up.shape == father.shape == (3, 3, 32, 32) and son.shape == (3, 3, 16, 16)
    # the son is a blurred father: close to it, but not equal
    err = (son_up - father).abs().mean()
    assert 0.002 < err < 0.2
    # and son_up its interpolation, made with the margin's context: the same away from the crop's edges
    assert (son_up - interpolate(son, 2))[..., 4:-4, 4:-4].abs().max() < 1e-5


def test_sampler_prefers_textured_crops():
    img = torch.zeros(1, 96, 96)
    img[:, :, 48:] = torch.rand(1, 96, 48)  # right half textured, left half flat
    s = PairSampler(img, np.ones((1, 1)), 2, PairsConfig(crop=16, batch=64, n_father_scales=1,
                                                          gradient_weight=1.0), torch.Generator().manual_seed(0))
    _, _, fathers = s.sample()
    textured = (fathers.flatten(1).std(1) > 0.05).float().mean()
    assert textured > 0.8


@pytest.mark.parametrize("space", ["lr", "hr"])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_tiled_inference_equals_untiled(space, scale):
    torch.manual_seed(0)
    net = make_net(space, 3, scale, width=16, depth=4, pre_depth=2)
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.1)
    lr = torch.rand(3, 45, 38)
    whole = apply_net(net, lr, scale, tile=0, amp=False, device=torch.device("cpu"))
    tiled = apply_net(net, lr, scale, tile=16, amp=False, device=torch.device("cpu"))
    assert whole.shape == (3, 45 * scale, 38 * scale)
    assert (whole - tiled).abs().max() < 1 / 255 * 0.01


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("size", [(17, 23), (8, 8), (31, 12)])
def test_lr_net_shapes_and_start_at_interpolation(scale, size):
    net = LRNet(3, scale=scale, width=8, depth=3, pre_depth=2)
    lr = torch.rand(2, 3, *size)
    up = interpolate(lr, scale)
    out = net(lr)
    assert out.shape == (2, 3, size[0] * scale, size[1] * scale)
    assert torch.allclose(out, up, atol=1e-6)  # zero last layers: exactly the interpolation at the start
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.05)
    out, feature = net(lr, up, return_features=True)
    assert out.shape == up.shape and feature.shape == (2, 8, *size) and torch.isfinite(out).all()
    # a residual on the interpolation: values stay near the input's range
    assert out.min() > -1 and out.max() < 2
    # the preprocessing module's residual reaches the output through the interpolation as well
    with torch.no_grad():
        net.body[-1].weight.zero_()
        net.body[-1].bias.zero_()
        g = net.pre(lr)
    assert torch.allclose(net(lr), interpolate(lr + g, scale), atol=1e-5)


def test_back_projection_makes_output_consistent():
    k = random_div2krk_kernel(2, np.random.default_rng(0))
    hr = torch.rand(1, 3, 40, 40)
    lr = degrade(hr, k, 2)[0]
    start = torch.nn.functional.interpolate(lr[None], scale_factor=2, mode="nearest")[0]
    before = (degrade(start[None], k, 2)[0] - lr).abs().mean()
    after = (degrade(back_project(start, lr, k, 2, 6)[None], k, 2)[0] - lr).abs().mean()
    assert after < before / 3


def test_upscale_end_to_end_tiny(photo, tiny_cfg):
    lr = photo[:48, :40]
    r = solosr.upscale(lr, scale=2, config=tiny_cfg, seed=0)
    assert r.image.shape == (96, 80, 3) and r.image.dtype == np.float32
    assert r.history and {"iter", "lr", "val_l1", "loss", "kd_out", "cycle"} <= set(r.history[-1])
    assert "rec" in r.history[0]  # the teacher's reconstruction on internal pairs
    assert set(r.timings) >= {"train", "infer", "total"}
    assert abs(r.kernel.sum() - 1) < 1e-9


def test_upscale_is_repeatable_with_a_seed(photo, tiny_cfg):
    lr = photo[:32, :32]
    a = solosr.upscale(lr, 2, config=tiny_cfg, seed=3).image
    b = solosr.upscale(lr, 2, config=tiny_cfg, seed=3).image
    assert np.array_equal(a, b)


def test_upscale_keeps_formats(tiny_cfg):
    rng = np.random.default_rng(0)
    gray16 = rng.integers(0, 65535, (20, 24)).astype(np.uint16)
    out = solosr.upscale(gray16, 3, config=tiny_cfg).image
    assert out.dtype == np.uint16 and out.shape == (60, 72)
    rgba = rng.integers(0, 255, (20, 24, 4)).astype(np.uint8)
    out = solosr.upscale(rgba, 2, config=tiny_cfg).image
    assert out.shape == (40, 48, 4) and out.dtype == np.uint8
    pil = solosr.upscale(Image.fromarray(rgba[..., :3]), 2, config=tiny_cfg).image
    assert isinstance(pil, Image.Image) and pil.size == (48, 40)


def test_upscale_with_true_kernel_beats_bicubic(photo):
    """A short real training run: the method must beat interpolation on a blurred photo."""
    from solosr.metrics import psnr_y
    from solosr.resize import imresize_np

    hr = photo
    k = random_div2krk_kernel(2, np.random.default_rng(5))
    lr = degrade_np(hr, k, 2)
    cfg = solosr.preset("fast").replace(pairs=PairsConfig(crop=48, batch=4),
                                        train=TrainConfig(max_iters=150, min_iters=150, eval_every=50),
                                        infer=InferConfig())
    sr = solosr.upscale(lr, 2, kernel=k, config=cfg).image
    assert psnr_y(sr, hr, 2) > psnr_y(imresize_np(lr, 2), hr, 2) + 1.0


@pytest.mark.parametrize("kwargs,msg", [({"scale": 5}, "scale"), ({"scale": 2, "kernel": np.zeros((3, 3))}, "sum"),
                                        ({"scale": 2, "preset": "nope"}, "preset")])
def test_upscale_rejects_bad_arguments(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        solosr.upscale(np.zeros((16, 16, 3), np.float32), **kwargs)


def test_upscale_rejects_tiny_images():
    with pytest.raises(ValueError, match="too small"):
        solosr.upscale(np.zeros((1, 1, 3), np.float32), 2)


def test_a_turned_image_carries_the_turned_blur():
    # The premise of the kernel-aware ensemble: turning a blurred, subsampled image is the same as
    # blurring and subsampling the turned image with the turned (re-centred) kernel.
    from solosr.kernels import center_kernel

    k = random_div2krk_kernel(2, np.random.default_rng(3))
    x = torch.rand(1, 3, 40, 40, generator=torch.Generator().manual_seed(0))
    low = degrade(x, torch.as_tensor(k, dtype=torch.float32), 2)
    for t in range(8):
        kt = torch.as_tensor(center_kernel(dihedral(torch.from_numpy(k), t).numpy(), 2), dtype=torch.float32)
        turned = degrade(dihedral(x, t), kt, 2)
        inner = (Ellipsis, slice(4, -4), slice(4, -4))  # away from the borders' padding
        assert torch.allclose(turned[inner], dihedral(low, t)[inner], atol=1e-4), t
        if t:  # while the kernel as it was gives another image
            unturned = degrade(dihedral(x, t), torch.as_tensor(k, dtype=torch.float32), 2)
            assert (unturned - dihedral(low, t))[inner].abs().max() > 1e-2, t


def test_kernel_symmetries_follow_the_blur_shape():
    from solosr.infer import kernel_symmetries
    from solosr.kernels import center_kernel, gaussian_kernel

    assert kernel_symmetries(gaussian_kernel(11, 1.5), 2, 0.1) == list(range(8))
    assert kernel_symmetries(gaussian_kernel(11, 2.5, 1.0), 2, 0.1) == [0, 2, 4, 6]  # axis-aligned: flips too
    assert kernel_symmetries(gaussian_kernel(11, 2.5, 1.0, np.pi / 4), 2, 0.1) == [0, 2, 5, 7]  # diagonal
    elongated = gaussian_kernel(11, 2.5, 1.0, 0.4)
    assert kernel_symmetries(elongated, 2, 0.1) == [0, 2]  # only the half turn keeps it
    assert kernel_symmetries(elongated, 2, 1.0) == list(range(8))  # the old ensemble: all of them
    k = center_kernel(elongated, 2)
    moved = 0.5 * np.abs(center_kernel(dihedral(torch.from_numpy(k), 1).numpy(), 2) - k).sum()
    assert 0.1 < moved < 1  # a quarter turn moves a real share of an elongated blur's mass


def test_the_ensemble_runs_the_net_only_on_turns_that_keep_the_kernel(monkeypatch):
    from solosr import infer
    from solosr.kernels import gaussian_kernel

    seen = []
    real = infer.apply_net

    def spy(net, lr, scale, **kw):
        seen.append(lr.clone())
        return real(net, lr, scale, **kw)

    monkeypatch.setattr(infer, "apply_net", spy)
    lr = torch.rand(3, 12, 14)
    net = SRNet(3, width=4, depth=2)
    elongated = gaussian_kernel(11, 2.5, 1.0, 0.4)
    cfg = InferConfig(ensemble=True, backprojection_iters=0, tile=0)
    assert infer.ensemble_transforms(elongated, 2, cfg) == [0, 2]
    assert infer.ensemble_transforms(elongated, 2, InferConfig(ensemble=False)) == [0]
    infer.super_resolve(net, lr, 2, elongated, cfg, device=torch.device("cpu"))
    assert [s.shape for s in seen] == [lr.shape, lr.shape]
    assert torch.equal(seen[0], lr) and torch.equal(seen[1], dihedral(lr, 2))
    seen.clear()
    infer.super_resolve(net, lr, 2, gaussian_kernel(11, 1.5), cfg, device=torch.device("cpu"))
    assert len(seen) == 8


def test_output_stays_within_the_inputs_range(photo, tiny_cfg):
    # A low-contrast 16-bit scan (issue 37): sharpening must not ring out to 0 or full scale.
    gray = photo[:40, :40].mean(-1)
    scan = np.round(7196 + gray / gray.max() * (62451 - 7196)).astype(np.uint16)
    out = solosr.upscale(scan, 2, config=tiny_cfg, kernel="bicubic").image
    assert out.min() >= scan.min() and out.max() <= scan.max()
    rgb = photo[:40, :40] * 0.5 + 0.25  # each channel keeps its own range
    out = solosr.upscale(rgb, 2, config=tiny_cfg, kernel="bicubic").image
    for c in range(3):
        assert rgb[..., c].min() - 1e-6 <= out[..., c].min() and out[..., c].max() <= rgb[..., c].max() + 1e-6


def test_within_input_range_clips_per_channel():
    lr = torch.tensor([[[0.2, 0.4]], [[0.5, 0.9]]])
    sr = torch.tensor([[[0.0, 0.3, 0.6]], [[0.4, 0.7, 1.0]]])
    out = solosr.pipeline.within_input_range(sr, lr)
    assert torch.allclose(out, torch.tensor([[[0.2, 0.3, 0.4]], [[0.5, 0.7, 0.9]]]))


@pytest.mark.parametrize("h,w,scale,H,W", [(150, 40, 2, 300, 80), (129, 33, 4, 516, 132), (130, 20, 2, 259, 40)])
def test_back_projection_in_bands_equals_the_whole_image(monkeypatch, h, w, scale, H, W):
    from solosr import infer
    from solosr.resize import imresize

    residual = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(0)) - 0.5
    base = torch.rand(1, 3, H, W, generator=torch.Generator().manual_seed(1))
    monkeypatch.setattr(infer, "BAND_LR_ROWS", 16)
    banded = base.clone()
    infer._add_upscaled(banded, residual, scale)
    assert torch.equal(banded, base + imresize(residual, scale=scale, size=(H, W)))


def test_a_large_photos_fathers_come_from_its_most_textured_window():
    img = torch.zeros(1, 120, 300)
    img[:, 20:100, 180:280] = torch.rand(1, 80, 100, generator=torch.Generator().manual_seed(0))
    s = PairSampler(img, np.ones((1, 1)), 2, PairsConfig(crop=16, n_father_scales=1, max_pixels=12000),
                    torch.Generator().manual_seed(0))
    (father,) = s.fathers
    assert father.shape[1] * father.shape[2] <= 12000 and father.shape[2] / father.shape[1] == pytest.approx(2.5, 0.05)
    assert father.std() > 0.2  # the window sits on the textured part
    assert s.pixels == 120 * 300  # the training length still follows the whole photo
    whole = PairSampler(img, np.ones((1, 1)), 2, PairsConfig(crop=16, n_father_scales=1), torch.Generator())
    assert whole.fathers[0].shape == img.shape  # under the limit: the photo itself


def test_textured_window_scores_a_large_image_in_blocks(monkeypatch):
    from solosr import pairs

    img = np.zeros((400, 600), np.float32)
    img[203:283, 341:461] = np.random.default_rng(0).random((80, 120))
    exact = pairs.textured_window(img, 80, 120)
    monkeypatch.setattr(pairs, "TEXTURE_CELLS", 4000)  # blocks of 7x7 pixels
    y, x, h, w = pairs.textured_window(img, 80, 120)
    assert exact == (203, 341, 80, 120) and (h, w) == (80, 120) and abs(y - 203) < 7 and abs(x - 341) < 7


def test_upscale_leaves_its_input_as_it_was(photo, tiny_cfg):
    pic = solosr.imageio.Picture(photo[:40, :40].copy())
    before = pic.pixels.copy()
    out = solosr.upscale(pic, 2, config=tiny_cfg, kernel="bicubic")
    assert np.array_equal(pic.pixels, before) and out.picture.pixels.flags.c_contiguous
    pic.pixels.flags.writeable = False  # read-only pixels are copied: torch would warn on them
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        solosr.upscale(pic, 2, config=tiny_cfg, kernel="bicubic")
