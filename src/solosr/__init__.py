"""solosr: zero-shot super-resolution of a photograph from the photograph alone.

    >>> import numpy as np, solosr
    >>> lr = np.random.default_rng(0).random((32, 32, 3)).astype(np.float32)
    >>> from solosr.config import TrainConfig
    >>> cfg = solosr.preset("fast").replace(train=TrainConfig(max_iters=2, eval_every=1))
    >>> solosr.upscale(lr, scale=2, config=cfg).image.shape
    (64, 64, 3)
"""

from .config import DEFAULT_PRESET, PRESETS, RunConfig, preset
from .imageio import ImageError, Picture, read_image, write_image
from .kernels import bicubic_kernel, center_kernel, kernel_error, random_div2krk_kernel
from .pipeline import Result, upscale
from .resize import degrade, degrade_np, imresize, imresize_np

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_PRESET", "PRESETS", "RunConfig", "preset", "ImageError", "Picture", "read_image", "write_image",
    "bicubic_kernel", "center_kernel", "kernel_error", "random_div2krk_kernel", "Result", "upscale",
    "degrade", "degrade_np", "imresize", "imresize_np", "__version__",
]
