"""The CUDA path: skipped where no GPU is present (CI has none); run on a GPU machine to check it."""

import numpy as np
import pytest
import torch

import solosr
from solosr.infer import apply_net
from solosr.metrics import psnr_y
from solosr.nets import SRNet

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def test_auto_device_picks_the_gpu(photo, tiny_cfg):
    r = solosr.upscale(photo[:48, :48], 2, kernel="bicubic", config=tiny_cfg)
    assert r.device.startswith("cuda") and r.image.shape == (96, 96, 3)
    assert np.isfinite(r.image).all()


def test_gpu_and_cpu_inference_agree():
    torch.manual_seed(0)
    net = SRNet(3, width=16, depth=4, pre_depth=2)
    for p in net.parameters():
        p.data.normal_(0, 0.05)
    x = torch.rand(3, 40, 40)
    cpu = apply_net(net, x, 2, tile=0, device=torch.device("cpu"), amp=False)
    gpu = apply_net(net.cuda(), x, 2, tile=16, device=torch.device("cuda"), amp=False)
    assert torch.allclose(cpu, gpu.cpu(), atol=1e-4)


def test_kd_on_gpu_beats_bicubic(photo):
    from solosr.bench import config_with
    from solosr.config import preset
    from solosr.kernels import random_div2krk_kernel
    from solosr.resize import degrade_np, imresize_np

    k = random_div2krk_kernel(2, np.random.default_rng(0))
    hr = photo
    lr = degrade_np(hr, k, 2).astype(np.float32)
    cfg = config_with(preset("fast"), train={"max_iters": 300, "min_iters": 300})
    r = solosr.upscale(lr, 2, kernel=k, config=cfg, device="cuda", noise=0.0, jpeg="off")
    assert r.device.startswith("cuda")
    assert psnr_y(r.image, hr, 2) > psnr_y(imresize_np(lr, 2), hr, 2) + 1.0
