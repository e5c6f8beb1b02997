import numpy as np
import pytest
from PIL import Image

from solosr.imageio import ImageError, Picture, picture_from_array, picture_to_array, read_image, write_image


def _rgb(h=20, w=24):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def _smooth(h=40, w=48):
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // w, y * 255 // h, (x + y) * 255 // (h + w)], -1).astype(np.uint8)


@pytest.mark.parametrize("suffix", ["png", "bmp", "tif", "webp"])
def test_lossless_rgb_round_trip(tmp_path, suffix):
    arr = _smooth() if suffix == "webp" else _rgb()
    src = tmp_path / f"a.{suffix}"
    Image.fromarray(arr).save(src, **({"lossless": True} if suffix == "webp" else {}))
    pic = read_image(src)
    assert pic.pixels.shape == arr.shape and pic.bit_depth == 8 and pic.alpha is None
    out = tmp_path / f"b.{suffix}"
    write_image(out, pic)
    back = np.asarray(Image.open(out).convert("RGB"))
    if suffix == "webp":  # our writer uses lossy WebP at quality 95
        assert np.abs(back.astype(int) - arr).mean() < 2
    else:
        assert np.array_equal(back, arr)


def test_jpeg_round_trip_is_close(tmp_path):
    arr = _smooth()
    Image.fromarray(arr).save(tmp_path / "a.jpg", quality=98)
    pic = read_image(tmp_path / "a.jpg")
    write_image(tmp_path / "b.jpg", pic)
    back = np.asarray(Image.open(tmp_path / "b.jpg"))
    assert np.abs(back.astype(int) - arr).mean() < 2


def test_gray_stays_gray(tmp_path):
    arr = _rgb()[..., 0]
    Image.fromarray(arr).save(tmp_path / "g.png")
    pic = read_image(tmp_path / "g.png")
    assert pic.pixels.shape[-1] == 1
    write_image(tmp_path / "o.png", pic)
    out = Image.open(tmp_path / "o.png")
    assert out.mode == "L" and np.array_equal(np.asarray(out), arr)


def test_palette_with_transparency_becomes_rgba(tmp_path):
    im = Image.fromarray(_rgb()).convert("P")
    im.info["transparency"] = 0
    im.save(tmp_path / "p.png", transparency=0)
    pic = read_image(tmp_path / "p.png")
    assert pic.pixels.shape[-1] == 3 and pic.alpha is not None


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_is_kept(tmp_path, mode):
    rgba = np.concatenate([_rgb(), np.linspace(0, 255, 20 * 24).reshape(20, 24, 1).astype(np.uint8)], -1)
    im = Image.fromarray(rgba, "RGBA").convert(mode)
    im.save(tmp_path / "a.png")
    pic = read_image(tmp_path / "a.png")
    assert pic.alpha is not None and pic.pixels.shape[-1] == (3 if mode == "RGBA" else 1)
    write_image(tmp_path / "b.png", pic)
    out = Image.open(tmp_path / "b.png")
    assert out.mode == mode
    assert np.array_equal(np.asarray(out), np.asarray(im))


def test_16bit_gray_png_round_trip(tmp_path):
    arr = (np.random.default_rng(0).integers(0, 65536, (12, 10))).astype(np.uint16)
    Image.fromarray(arr).save(tmp_path / "a.png")
    pic = read_image(tmp_path / "a.png")
    assert pic.bit_depth == 16
    write_image(tmp_path / "b.png", pic)
    assert np.array_equal(read_image(tmp_path / "b.png").pixels, pic.pixels)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "b.png")).astype(np.uint16), arr)


@pytest.mark.parametrize("channels", [3, 4])
def test_16bit_colour_png_round_trip(tmp_path, channels):
    import png

    arr = np.random.default_rng(1).integers(0, 65536, (9, 11, channels)).astype(np.uint16)
    with open(tmp_path / "a.png", "wb") as f:
        png.Writer(11, 9, bitdepth=16, greyscale=False, alpha=channels == 4).write(f, arr.reshape(9, -1))
    pic = read_image(tmp_path / "a.png")
    assert pic.bit_depth == 16 and (pic.alpha is not None) == (channels == 4)
    assert np.allclose(pic.pixels[..., 0], arr[..., 0] / 65535, atol=1e-7)
    write_image(tmp_path / "b.png", pic)
    w, h, rows, info = png.Reader(filename=str(tmp_path / "b.png")).asDirect()
    back = np.vstack([np.asarray(r, np.uint16) for r in rows]).reshape(h, w, -1)
    assert info["bitdepth"] == 16 and np.array_equal(back, arr)


def test_16bit_tiff_round_trip(tmp_path):
    import tifffile

    arr = np.random.default_rng(2).integers(0, 65536, (8, 7, 3)).astype(np.uint16)
    tifffile.imwrite(tmp_path / "a.tif", arr, photometric="rgb")
    pic = read_image(tmp_path / "a.tif")
    assert pic.bit_depth == 16
    write_image(tmp_path / "b.tif", pic)
    assert np.array_equal(tifffile.imread(tmp_path / "b.tif"), arr)


def test_exif_orientation_is_applied(tmp_path):
    arr = _rgb(10, 30)
    im = Image.fromarray(arr)
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    im.save(tmp_path / "r.jpg", exif=exif, quality=95)
    assert read_image(tmp_path / "r.jpg").pixels.shape[:2] == (30, 10)


def test_numpy_and_pil_wrappers_round_trip():
    for arr in (_rgb(), _rgb()[..., 0], np.random.default_rng(0).random((5, 6, 4)).astype(np.float32),
                np.random.default_rng(0).integers(0, 65535, (5, 6, 3)).astype(np.uint16)):
        pic, kind = picture_from_array(arr)
        back = picture_to_array(pic, kind)
        assert back.dtype == arr.dtype and back.shape == arr.shape
        assert np.allclose(back, arr, atol=1e-6)
    pic, kind = picture_from_array(Image.fromarray(_rgb()))
    assert isinstance(picture_to_array(pic, kind), Image.Image)


@pytest.mark.parametrize("content,needle", [(b"hello, I am text\n" * 10, "not an image"), (b"", "empty"),
                                            (None, "no such file")])
def test_bad_inputs_give_one_line_errors(tmp_path, content, needle):
    path = tmp_path / "bad.png"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ImageError) as e:
        read_image(path)
    assert needle in str(e.value) and "\n" not in str(e.value) and str(path) in str(e.value)


def test_truncated_png(tmp_path):
    Image.fromarray(_rgb(64, 64)).save(tmp_path / "ok.png")
    data = (tmp_path / "ok.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match="cut.png"):
        read_image(tmp_path / "cut.png")


def test_pixel_limit_refuses_before_decoding(tmp_path):
    Image.fromarray(_rgb(64, 64)).save(tmp_path / "big.png")
    with pytest.raises(ImageError, match="over the limit"):
        read_image(tmp_path / "big.png", max_pixels=1000)


def test_write_is_atomic_and_leaves_nothing_on_failure(tmp_path):
    pic = Picture(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ImageError, match="unknown output format"):
        write_image(tmp_path / "x.xyz", pic)
    with pytest.raises(ImageError):
        write_image(tmp_path / "missing_dir" / "x.png", pic)
    write_image(tmp_path / "ok.png", pic)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.png"]


def test_outputs_get_the_permissions_a_plain_open_gives(tmp_path):
    write_image(tmp_path / "out.png", Picture(np.zeros((4, 4, 3), np.float32)))
    (tmp_path / "plain").write_bytes(b"")
    assert (tmp_path / "out.png").stat().st_mode & 0o777 == (tmp_path / "plain").stat().st_mode & 0o777


@pytest.mark.parametrize("quality", [30, 75, 92])
def test_jpeg_quality_is_read_from_the_quantisation_table(tmp_path, quality):
    rng = np.random.default_rng(0)
    path = tmp_path / "q.jpg"
    Image.fromarray((rng.random((32, 32, 3)) * 255).astype(np.uint8)).save(path, quality=quality)
    assert read_image(path).jpeg_quality == quality
    png = tmp_path / "q.png"
    Image.open(path).save(png)
    assert read_image(png).jpeg_quality is None


def test_upscale_recompresses_sons_at_the_files_jpeg_quality(tmp_path, photo, tiny_cfg):
    import solosr

    path = tmp_path / "p.jpg"
    Image.fromarray((photo[:48, :48] * 255).round().astype(np.uint8)).save(path, quality=60)
    r = solosr.upscale(read_image(path), 2, kernel="bicubic", config=tiny_cfg, jpeg="auto")
    assert r.config.pairs.jpeg_quality == 60
    r = solosr.upscale(read_image(path), 2, kernel="bicubic", config=tiny_cfg, jpeg="off")
    assert r.config.pairs.jpeg_quality == 0
