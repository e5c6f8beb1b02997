import numpy as np
from PIL import Image

from solosr.bench import synthetic_cases


def test_synthetic_crop_is_the_middle_of_the_image_with_the_same_kernel(tmp_path, photo):
    pixels = (photo * 255).round().astype(np.uint8)
    for name, part in (("a", pixels[:100, :120]), ("b", pixels[10:70, 20:60])):
        Image.fromarray(part).save(tmp_path / f"{name}.png")
    whole = list(synthetic_cases([str(tmp_path)], 2, seed=3))
    cropped = list(synthetic_cases([str(tmp_path)], 2, seed=3, crop=48))
    # a: 100x120 -> its middle 48x48; b: 60x40 -> 48x40, its width being under 48
    assert [c.hr.shape[:2] for c in cropped] == [(48, 48), (48, 40)]
    assert np.allclose(cropped[0].hr * 255, pixels[26:74, 36:84], atol=1e-3)
    assert np.allclose(cropped[1].hr * 255, pixels[16:64, 20:60], atol=1e-3)
    for w, c in zip(whole, cropped):  # the same content at a smaller size keeps its place's kernel
        assert np.array_equal(w.kernel, c.kernel)
        assert c.lr.shape[:2] == (c.hr.shape[0] // 2, c.hr.shape[1] // 2)
