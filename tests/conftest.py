import numpy as np
import pytest
import torch

from solosr.config import TrainConfig, preset


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(2)


@pytest.fixture
def photo() -> np.ndarray:
    """A natural photo that scikit-image ships: (128,128,3) float32 in [0,1]."""
    from skimage import data

    return (data.astronaut()[100:228, 150:278].astype(np.float32) / 255).copy()


@pytest.fixture
def tiny_cfg():
    """A config that trains for a handful of iterations: for plumbing, not quality."""
    return preset("fast").replace(train=TrainConfig(max_iters=6, min_iters=2, eval_every=3))
