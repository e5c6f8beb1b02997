import dataclasses

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


def _camera_jpeg(path, orientation=6):
    """A JPEG as a camera writes it: EXIF (make, orientation, resolution, pixel dimensions), ICC, dpi."""
    from PIL import ImageCms

    im = Image.fromarray(_rgb(20, 30))
    exif = im.getexif()
    exif[0x010F], exif[0x0112], exif[0x011A], exif[0x011B] = "TestMake", orientation, 300.0, 300.0
    sub = exif.get_ifd(0x8769)
    sub[0xA002], sub[0xA003], sub[0x9003] = 30, 20, "2020:01:01 10:00:00"
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    im.save(path, exif=exif, icc_profile=icc, dpi=(300, 300), quality=95)
    return icc


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".tif"])
def test_icc_exif_and_dpi_survive_an_upscale(tmp_path, suffix):
    icc = _camera_jpeg(tmp_path / "in.jpg")
    pic = read_image(tmp_path / "in.jpg")
    assert pic.size == (30, 20)  # orientation 6 applied on reading
    big = pic.with_pixels(np.zeros((60, 40, 3), np.float32), None)  # what upscale x2 makes
    write_image(tmp_path / f"out{suffix}", big)
    with Image.open(tmp_path / f"out{suffix}") as out:
        assert out.size == (40, 60) and out.info.get("icc_profile") == icc
        if suffix != ".webp":  # WebP has no resolution field
            assert np.allclose(out.info["dpi"], (600, 600), atol=0.01)
        exif = out.getexif()
        if suffix != ".tif":  # TIFF outputs keep ICC, resolution and georeferencing, not camera EXIF
            assert exif[0x010F] == "TestMake" and exif.get(0x0112, 1) == 1  # upright: not rotated twice
            assert exif.get_ifd(0x8769)[0xA002] == 40 and exif.get_ifd(0x8769)[0xA003] == 60
            assert float(exif[0x011A]) == pytest.approx(600)
    again = read_image(tmp_path / f"out{suffix}")
    assert again.size == (60, 40)


def test_16bit_png_keeps_icc_exif_and_dpi(tmp_path):
    icc = _camera_jpeg(tmp_path / "in.jpg", orientation=1)
    pic = read_image(tmp_path / "in.jpg")
    deep = dataclasses.replace(pic.with_pixels(np.full((40, 60, 3), 0.5, np.float32), None), bit_depth=16)
    write_image(tmp_path / "out.png", deep)
    back = read_image(tmp_path / "out.png")
    assert back.bit_depth == 16 and back.icc_profile == icc
    assert np.allclose(back.meta.dpi, (600, 600), atol=0.01)
    with Image.open(tmp_path / "out.png") as out:
        assert out.getexif()[0x010F] == "TestMake"


@pytest.mark.parametrize("point", [False, True])
def test_geotiff_georeferencing_follows_the_scale(tmp_path, point):
    import tifffile

    keys = (1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 2 if point else 1, 3072, 0, 1, 32633)
    tie = (0.0, 0.0, 0.0, 500000.0, 4000000.0, 0.0)
    arr = np.random.default_rng(0).integers(0, 65535, (20, 30), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "in.tif", arr, resolution=(72, 72),
                     extratags=[(33550, 12, 3, (30.0, 30.0, 0.0), True), (33922, 12, 6, tie, True),
                                (34735, 3, len(keys), keys, True), (34737, 2, 0, "WGS 84 / UTM zone 33N|", True)])
    pic = read_image(tmp_path / "in.tif")
    write_image(tmp_path / "out.tif", pic.with_pixels(np.zeros((40, 60, 1), np.float32), None))
    with tifffile.TiffFile(tmp_path / "out.tif") as t:
        tags = t.pages[0].tags
        assert t.pages[0].shape == (40, 60) and t.pages[0].dtype == np.uint16
        assert tags[33550].value == (15.0, 15.0, 0.0)  # half the ground distance per pixel
        assert tags[34735].value == keys and tags[34737].value == "WGS 84 / UTM zone 33N|"
        # Area: the raster's corner stays on its point. Point: the input's first pixel centre (its
        # corner + 0.5 input pixels) is 1 output pixel from the corner, 0.5 from the first output centre.
        i, j = tags[33922].value[:2]
        assert (i, j) == ((0.5, 0.5) if point else (0.0, 0.0))
        assert tags[282].value == (144, 1)


def test_geotiff_transformation_matrix_follows_the_scale(tmp_path):
    import tifffile

    m = (10.0, 0.5, 0.0, 300000.0, 0.5, -10.0, 0.0, 5000000.0, 0, 0, 0, 0, 0, 0, 0, 1.0)
    tifffile.imwrite(tmp_path / "in.tif", np.zeros((8, 8), np.uint8), extratags=[(34264, 12, 16, m, True)])
    pic = read_image(tmp_path / "in.tif")
    write_image(tmp_path / "out.tif", pic.with_pixels(np.zeros((32, 32, 1), np.float32), None))
    with tifffile.TiffFile(tmp_path / "out.tif") as t:
        new = np.array(t.pages[0].tags[34264].value).reshape(4, 4)
    old = np.array(m).reshape(4, 4)
    # The far corner (8, 8) of the input raster is the far corner (32, 32) of the output: the same place.
    assert np.allclose(new @ [32, 32, 0, 1], old @ [8, 8, 0, 1])


@pytest.mark.parametrize("orientation", range(1, 9))
def test_16bit_png_is_turned_upright_as_pillow_turns_8bit(tmp_path, orientation):
    import png
    from PIL import ImageOps

    arr = _rgb(10, 30)
    im = Image.fromarray(arr)
    exif = im.getexif()
    exif[0x0112] = orientation
    im.info["exif"] = exif.tobytes()
    upright = np.asarray(ImageOps.exif_transpose(im))
    buf = tmp_path / "plain.png"  # a 16-bit PNG of the same pixels, with the orientation in an eXIf chunk
    with open(buf, "wb") as f:
        png.Writer(width=30, height=10, bitdepth=16, greyscale=False).write(f, (arr.astype(np.uint16) * 257).reshape(10, -1))
    with open(buf, "rb") as f:
        chunks = list(png.Reader(file=f).chunks())
    with open(tmp_path / "o.png", "wb") as f:
        png.write_chunks(f, chunks[:1] + [(b"eXIf", exif.tobytes()[6:])] + chunks[1:])
    pic = read_image(tmp_path / "o.png")
    assert pic.bit_depth == 16
    assert np.array_equal(np.round(pic.pixels * 255).astype(np.uint8), upright)
