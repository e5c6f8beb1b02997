"""Nothing lost, nothing silent: colliding outputs, unwritable report folders, bad option values,
tiny images for `kernel`, progress lines when not on a terminal, frames that are dropped."""

import numpy as np
import pytest
from PIL import Image

from solosr.cli import main
from solosr.progress import StageBar, rough_seconds
from solosr.imageio import read_image


def _run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def _save(path, photo, h=40, w=48):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((photo[:h, :w] * 255).round().astype(np.uint8)).save(path)
    return path


def test_same_name_in_two_folders_is_refused_before_any_work(tmp_path, photo, capsys):
    a, b = _save(tmp_path / "a" / "photo.png", photo), _save(tmp_path / "b" / "photo.png", photo[8:])
    out = tmp_path / "out"
    for extra in ([], ["--overwrite"]):
        code, _, err = _run(["upscale", str(a), str(b), "-o", str(out), "--iters", "2", *extra], capsys)
        assert code == 1 and err.count("\n") == 1
        assert str(a) in err and str(b) in err and "photo_x2.png" in err
        assert not list(out.glob("*.png"))  # nothing was run, so nothing was half-done


def test_same_stem_two_formats_collide_in_format_and_in_report(tmp_path, photo, capsys):
    png, tif = _save(tmp_path / "in" / "photo.png", photo), _save(tmp_path / "in" / "photo.tif", photo)
    out = tmp_path / "out"
    # Without --format the outputs differ (photo_x2.png, photo_x2.tif) but one report folder would hold both.
    code, _, err = _run(["upscale", str(png), str(tif), "-o", str(out), "--report", str(tmp_path / "r")], capsys)
    assert code == 1 and "report folder photo/" in err
    code, _, err = _run(["upscale", str(tmp_path / "in"), "-o", str(out), "--format", "png"], capsys)
    assert code == 1 and "photo_x2.png" in err
    assert not out.exists() or not list(out.iterdir())


def test_unwritable_report_folder_fails_before_training(tmp_path, photo, capsys):
    src = _save(tmp_path / "in" / "photo.png", photo)
    blocker = tmp_path / "report"
    blocker.write_text("a file where the report folder should go")
    code, _, err = _run(["upscale", str(src), "-o", str(tmp_path / "out"), "--report", str(blocker / "sub")], capsys)
    assert code == 1 and err.count("\n") == 1 and "cannot create output folder" in err
    assert not list((tmp_path / "out").glob("*"))


def test_an_image_counts_done_only_with_its_report(tmp_path, photo, capsys, monkeypatch):
    """If the report fails half-way, the image is not written: a re-run does the image again."""
    import solosr.report as report_module

    src = _save(tmp_path / "in" / "photo.png", photo)
    out, report = tmp_path / "out", tmp_path / "report"

    def broken_report(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report_module, "write_report", broken_report)
    args = ["upscale", str(src), "-o", str(out), "--report", str(report), "--iters", "2"]
    code, _, err = _run(args, capsys)
    assert code == 1 and "No space left" in err and not (out / "photo_x2.png").exists()
    monkeypatch.undo()
    code, _, err = _run(args, capsys)
    assert code == 0 and (out / "photo_x2.png").exists() and (report / "photo" / "run.json").exists()


@pytest.mark.parametrize("option, value, says", [
    ("--iters", "-5", "non-negative"), ("--tile", "-3", "non-negative"), ("--seed", "-1", "non-negative"),
    ("--noise", "-5", "0-255 scale"), ("--noise", "300", "0-255 scale"), ("--noise", "nan", "0-255 scale"),
    ("--jpeg", "101", "quality 1..100"), ("--jobs", "0", "positive"), ("--backprojection", "-1", "non-negative"),
])
def test_bad_values_are_refused_before_any_image_is_read(tmp_path, capsys, option, value, says):
    missing = tmp_path / "not_there.png"  # never read: the option is refused first
    with pytest.raises(SystemExit) as e:
        main(["upscale", str(missing), "-o", str(tmp_path / "out"), option, value])
    err = capsys.readouterr().err
    assert e.value.code == 2 and says in err and "not_there" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("option, value", [("--add-noise", "-1"), ("--add-jpeg", "500"), ("--limit", "-2")])
def test_bench_bad_values_refused(tmp_path, capsys, option, value):
    with pytest.raises(SystemExit) as e:
        main(["bench", "--synthetic", str(tmp_path), option, value])
    assert e.value.code == 2


@pytest.mark.parametrize("shape", [(1, 50), (50, 1), (7, 30)])
def test_kernel_on_a_tiny_image_is_one_line(tmp_path, capsys, shape):
    src = tmp_path / "tiny.png"
    Image.fromarray(np.full(shape + (3,), 120, np.uint8)).save(src)
    code, _, err = _run(["kernel", str(src), "-o", str(tmp_path / "k.npy")], capsys)
    assert code == 1 and err.count("\n") == 1 and "too small" in err and str(src) in err
    assert not (tmp_path / "k.npy").exists()


def test_kernel_plot_that_cannot_be_written_leaves_no_kernel_file(tmp_path, photo, capsys):
    src = _save(tmp_path / "photo.png", photo, 64, 64)
    k = tmp_path / "k.npy"
    for plot in (tmp_path / "no_folder" / "k.png", tmp_path / "k.xyz"):
        code, _, err = _run(["kernel", str(src), "-o", str(k), "--plot", str(plot)], capsys)
        assert code == 1 and err.count("\n") == 1 and str(plot) in err
        assert not k.exists()
    code, _, _ = _run(["kernel", str(src), "-o", str(k), "--plot", str(tmp_path / "k.png")], capsys)
    assert code == 0 and k.exists() and (tmp_path / "k.png").exists()


def test_piped_runs_print_a_line_per_stage(tmp_path, photo, capsys):
    """stderr is not a terminal under pytest: the run says what it is doing, stage by stage."""
    src = _save(tmp_path / "photo.png", photo)
    code, _, err = _run(["upscale", str(src), "-o", str(tmp_path / "out"), "--iters", "3"], capsys)
    assert code == 0
    lines = [line for line in err.splitlines() if line.startswith("solosr: photo.png:")]
    assert any("estimating the kernel" in line for line in lines)
    assert any("training teacher (3 iterations)" in line for line in lines)
    assert any("inference" in line for line in lines)
    code, _, err = _run(["upscale", str(src), "-o", str(tmp_path / "q"), "--iters", "3", "-q"], capsys)
    assert code == 0 and err == ""


def test_periodic_line_says_progress_and_time_left(capsys):
    bar = StageBar("big.png", "lines", every=0.0)
    bar("teacher", 0, 100)
    bar("teacher", 40, 100)
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "solosr: big.png: training teacher (100 iterations)"
    assert err[1].startswith("solosr: big.png: teacher 40/100,") and "s left" in err[1]


def test_large_input_gets_an_estimate_up_front(capsys):
    from solosr.imageio import Picture

    small, large = Picture(np.zeros((100, 100, 3), np.float32)), Picture(np.zeros((2000, 3000, 1), np.float32))
    bar = StageBar("scan.tif", "lines")
    bar.announce(small, 2, None)
    assert capsys.readouterr().err == ""
    bar.announce(large, 2, None)
    err = capsys.readouterr().err
    assert "3000x2000 (6.0 MP)" in err and "min" in err
    assert rough_seconds(2000, 3000, 2, 2) > rough_seconds(1000, 1000, 2, 2) > rough_seconds(1000, 1000, 2, 8)


def test_animated_gif_says_frames_are_dropped(tmp_path, photo, capsys):
    frames = [Image.fromarray((photo[:40, :48] * 255 * f).astype(np.uint8)) for f in (1.0, 0.5, 0.25)]
    src = tmp_path / "anim.gif"
    frames[0].save(src, save_all=True, append_images=frames[1:])
    with pytest.warns(UserWarning, match="first of its 3 frames"):
        read_image(src)
    code, _, err = _run(["upscale", str(src), "-o", str(tmp_path / "out"), "--iters", "2", "--format", "png"], capsys)
    assert code == 0 and "warning" in err and "3 frames" in err


def test_max_pixels_lifts_pillows_own_limit(tmp_path, monkeypatch):
    """Pillow refuses images over its own bomb limit; --max-pixels above it must let them through."""
    src = tmp_path / "wide.png"
    Image.fromarray(np.zeros((64, 400), np.uint8)).save(src)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 5000)  # stands in for Pillow's 89 MP at a test's size
    pic = read_image(src, max_pixels=100_000)
    assert pic.size == (64, 400) and Image.MAX_IMAGE_PIXELS == 5000


def test_mat_kernel_with_small_negatives_gives_the_cleaned_npys_output(tmp_path, photo, capsys):
    from scipy.io import loadmat, savemat

    from solosr.kernels import gaussian_kernel

    src = _save(tmp_path / "photo.png", photo)
    k = gaussian_kernel(11, 1.2)
    noisy = k.copy()
    noisy[0, :4] = -4e-4
    savemat(tmp_path / "k.mat", {"Kernel": noisy})
    np.save(tmp_path / "k.npy", np.clip(noisy, 0, None))
    outs = []
    for name in ("k.mat", "k.npy"):
        out = tmp_path / name.replace(".", "_")
        code, _, err = _run(["upscale", str(src), "-o", str(out), "--kernel", str(tmp_path / name), "--iters", "2"],
                            capsys)
        assert code == 0 and err.count("below zero") == (name == "k.mat")
        outs.append(np.asarray(Image.open(out / "photo_x2.png")))
    assert np.array_equal(*outs)
    code, _, _ = _run(["kernel", str(src), "-o", str(tmp_path / "est.mat")], capsys)
    est = loadmat(tmp_path / "est.mat")["Kernel"]
    assert code == 0 and est.shape == (11, 11) and abs(est.sum() - 1) < 1e-6


def test_reading_a_16bit_png_leaves_no_file_open(tmp_path):
    """The CLI shows every warning a run raises: an unclosed file must not become one."""
    import gc
    import warnings

    from solosr.imageio import Picture, write_image

    src = tmp_path / "deep.png"
    write_image(src, Picture(np.linspace(0, 1, 16 * 20 * 3, dtype=np.float32).reshape(16, 20, 3), bit_depth=16))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pic = read_image(src)
        gc.collect()
    assert pic.bit_depth == 16 and not [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_large_input_that_needs_more_memory_than_is_free_is_warned(capsys, monkeypatch):
    from solosr import progress
    from solosr.imageio import Picture

    large = Picture(np.zeros((2000, 3000, 1), np.float32))
    assert 0.8 < progress.rough_memory_gib(2000, 3000, 2) < 1.3  # 1023 MiB measured (fast_engine.md, section 8)
    monkeypatch.setattr(progress, "available_memory_gib", lambda: 64.0)
    StageBar("scan.tif", None).announce(large, 2, None)
    assert capsys.readouterr().err == ""  # quiet, and enough memory: nothing
    monkeypatch.setattr(progress, "available_memory_gib", lambda: 0.5)
    StageBar("scan.tif", None).announce(large, 2, None)  # quiet still warns
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("solosr: warning: scan.tif: needs roughly 1.0 GiB") and "0.5 GiB is free" in line
