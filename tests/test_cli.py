import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from solosr.cli import main
from solosr.device import uses_bf16


@pytest.fixture
def photo_png(tmp_path, photo):
    path = tmp_path / "in" / "photo.png"
    path.parent.mkdir()
    Image.fromarray((photo[:40, :48] * 255).round().astype(np.uint8)).save(path)
    return path


def _run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_upscale_writes_output(tmp_path, photo_png, capsys):
    out = tmp_path / "out"
    code, stdout, _ = _run(["upscale", str(photo_png), "-o", str(out), "-s", "2", "--iters", "3", "-p", "fast"],
                           capsys)
    assert code == 0
    res = Image.open(out / "photo_x2.png")
    assert res.size == (96, 80) and res.mode == "RGB"
    assert "photo_x2.png" in stdout


def test_upscale_skips_existing_and_overwrites_on_request(tmp_path, photo_png, capsys):
    out = tmp_path / "out"
    args = ["upscale", str(photo_png), "-o", str(out), "--iters", "2", "-p", "fast"]
    assert _run(args, capsys)[0] == 0
    mtime = (out / "photo_x2.png").stat().st_mtime_ns
    code, _, err = _run(args, capsys)
    assert code == 0 and "skipped" in err and (out / "photo_x2.png").stat().st_mtime_ns == mtime
    assert _run(args + ["--overwrite"], capsys)[0] == 0


def _bad_files(folder):
    (folder / "text.png").write_text("this is not an image\n")
    (folder / "empty.png").write_bytes(b"")
    Image.fromarray(np.zeros((64, 64, 3), np.uint8) + 7).save(folder / "full.png")
    data = (folder / "full.png").read_bytes()
    (folder / "truncated.png").write_bytes(data[:60])
    (folder / "full.png").unlink()
    return ["text.png", "empty.png", "truncated.png", "missing.png"]


@pytest.mark.parametrize("name", ["text.png", "empty.png", "truncated.png", "missing.png"])
def test_bad_input_one_line_error_nonzero_exit_no_output(tmp_path, name, capsys):
    _bad_files(tmp_path)
    out = tmp_path / "out"
    code, _, err = _run(["upscale", str(tmp_path / name), "-o", str(out), "--iters", "2"], capsys)
    assert code == 1
    errors = [line for line in err.splitlines() if line.startswith("solosr: error:")]
    assert len(errors) == 1 and name in errors[0]
    assert "Traceback" not in err
    assert list(out.iterdir()) == []


def test_batch_goes_on_past_bad_files(tmp_path, photo_png, capsys):
    _bad_files(photo_png.parent)
    out = tmp_path / "out"
    code, _, err = _run(["upscale", str(photo_png.parent), "-o", str(out), "--iters", "2", "-p", "fast"], capsys)
    assert code == 1
    assert (out / "photo_x2.png").exists()
    assert "1 done, 3 failed, 0 skipped" in err
    failed = [line for line in err.splitlines() if line.startswith("  failed: ")]
    assert len(failed) == 3 and all(line.count(str(photo_png.parent)) == 1 for line in failed)
    assert sorted(p.name for p in out.iterdir()) == ["photo_x2.png"]


def test_bad_kernel_file_and_scale(tmp_path, photo_png, capsys):
    np.save(tmp_path / "k.npy", np.full((5, 5), np.nan))
    code, _, err = _run(["upscale", str(photo_png), "-o", str(tmp_path / "o"), "-k", str(tmp_path / "k.npy")],
                        capsys)
    assert code == 1 and "NaN" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit) as e:
        main(["upscale", str(photo_png), "-o", str(tmp_path / "o"), "-s", "7"])
    assert e.value.code == 2


def test_degrade_then_bench_on_the_folder(tmp_path, photo, capsys):
    hr = tmp_path / "hr_in"
    hr.mkdir()
    for i in range(2):
        Image.fromarray((photo[i * 8:i * 8 + 60, :64] * 255).round().astype(np.uint8)).save(hr / f"im_{i}.png")
    ds = tmp_path / "set"
    assert _run(["degrade", str(hr), "-o", str(ds), "-s", "2", "--seed", "0"], capsys)[0] == 0
    assert sorted(p.name for p in (ds / "lr_x2").iterdir()) == ["im_0.png", "im_1.png"]
    k = np.load(ds / "kernels_x2" / "im_0.npy")
    assert k.shape == (11, 11) and abs(k.sum() - 1) < 1e-9
    assert Image.open(ds / "lr_x2" / "im_0.png").size == (32, 30)
    res = tmp_path / "res"
    code, stdout, _ = _run(["bench", "--data", str(ds), "-s", "2", "-m", "bicubic,zssr,zssr-true", "--iters", "3",
                            "-o", str(res), "--name", "t"], capsys)
    assert code == 0
    result = json.loads((res / "t.json").read_text())
    assert set(result["methods"]) == {"bicubic", "zssr", "zssr-true"}
    assert len(result["methods"]["bicubic"]["images"]) == 2
    assert 15 < result["methods"]["bicubic"]["mean"]["psnr"] < 60
    assert "| bicubic |" in (res / "t.md").read_text()


def test_bench_synthetic_matches_degrade_folder(tmp_path, photo, capsys):
    hr = tmp_path / "hr_in"
    hr.mkdir()
    Image.fromarray((photo[:60, :64] * 255).round().astype(np.uint8)).save(hr / "a.png")
    assert _run(["degrade", str(hr), "-o", str(tmp_path / "set"), "--seed", "4"], capsys)[0] == 0
    for args, name in ((["--data", str(tmp_path / "set")], "f"), (["--synthetic", str(hr)], "s")):
        assert _run(["bench", *args, "-m", "bicubic", "--seed", "4", "-o", str(tmp_path), "--name", name],
                    capsys)[0] == 0
    f = json.loads((tmp_path / "f.json").read_text())["methods"]["bicubic"]["mean"]["psnr"]
    s = json.loads((tmp_path / "s.json").read_text())["methods"]["bicubic"]["mean"]["psnr"]
    assert abs(f - s) < 1e-6


def test_console_script_runs_as_a_process(tmp_path):
    (tmp_path / "x.png").write_text("nope")
    proc = subprocess.run([sys.executable, "-m", "solosr.cli", "upscale", str(tmp_path / "x.png"), "-o",
                           str(tmp_path / "o")], capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stderr.startswith("solosr: error:") and "Traceback" not in proc.stderr


def test_report_and_method_options(tmp_path, photo_png, capsys):
    out, rep = tmp_path / "out", tmp_path / "rep"
    code, _, _ = _run(["upscale", str(photo_png), "-o", str(out), "--iters", "3", "-p", "fast", "-m", "zssr",
                       "--report", str(rep)], capsys)
    assert code == 0
    folder = rep / "photo"
    assert sorted(p.name for p in folder.iterdir()) == ["compare.png", "kernel.npy", "kernel.png", "losses.png",
                                                         "run.json"]
    run = json.loads((folder / "run.json").read_text())
    assert run["config"]["method"] == "zssr" and run["kernel"]["source"] == "estimated"
    assert {"solosr", "torch"} <= set(run["versions"]) and run["history"]
    assert run["bf16"] is uses_bf16(torch.device(run["device"]), run["config"]["train"]["amp"])
    assert Image.open(folder / "compare.png").size[0] >= 3 * 2 * 40  # three x2 crops of the 40-px-high input
    # The fast preset ensembles over the turns that keep the (estimated) kernel it used.
    from solosr.infer import kernel_symmetries
    k = np.load(folder / "kernel.npy")
    assert run["ensemble_turns"] == [list(kernel_symmetries(k, 2, run["config"]["infer"]["ensemble_tolerance"]))]
    code, _, _ = _run(["upscale", str(photo_png), "-o", str(tmp_path / "out1"), "--iters", "3", "-m", "zssr",
                       "--no-ensemble", "--report", str(tmp_path / "rep1")], capsys)
    assert code == 0 and json.loads((tmp_path / "rep1" / "photo" / "run.json").read_text())["ensemble_turns"] == [[0]]


@pytest.mark.parametrize("sigma2, turns", [(1.5, list(range(8))), (0.6, [0, 2])])
def test_report_says_which_turns_the_ensemble_took(tmp_path, photo_png, capsys, sigma2, turns):
    from solosr.kernels import gaussian_kernel

    kfile = tmp_path / "k.npy"
    np.save(kfile, gaussian_kernel(11, 1.5, sigma2, 0.3))  # round: every turn keeps it; elongated: a half turn
    code, _, _ = _run(["upscale", str(photo_png), "-o", str(tmp_path / "out"), "--iters", "2", "-m", "zssr", "-k",
                       str(kfile), "--ensemble", "--report", str(tmp_path / "rep")], capsys)
    assert code == 0
    assert json.loads((tmp_path / "rep" / "photo" / "run.json").read_text())["ensemble_turns"] == [turns]


def test_backprojection_option_reaches_the_run(tmp_path, photo_png, capsys):
    rep = tmp_path / "rep"
    code, _, _ = _run(["upscale", str(photo_png), "-o", str(tmp_path / "out"), "--iters", "2", "-m", "zssr",
                       "--backprojection", "2", "--report", str(rep)], capsys)
    assert code == 0
    assert json.loads((rep / "photo" / "run.json").read_text())["config"]["infer"]["backprojection_iters"] == 2
    for bad in ("-1", "two"):
        with pytest.raises(SystemExit) as exit_:
            _run(["upscale", str(photo_png), "-o", str(tmp_path / "o2"), "--backprojection", bad], capsys)
        assert exit_.value.code == 2 and "non-negative whole number" in capsys.readouterr().err


def test_x4_option_reaches_the_run(tmp_path, photo_png, capsys):
    out, rep = tmp_path / "out", tmp_path / "rep"
    code, _, _ = _run(["upscale", str(photo_png), "-o", str(out), "-s", "4", "--iters", "3", "-p", "fast", "-m",
                       "zssr", "--x4", "2x2-reuse", "--report", str(rep)], capsys)
    assert code == 0
    run = json.loads((rep / "photo" / "run.json").read_text())
    assert run["config"]["x4"] == "2x2-reuse"
    assert {e["stage"] for e in run["history"]} == {"step1/zssr"}  # one training for the two x2 steps
    turns = run["ensemble_turns"]
    assert len(turns) == 2 and turns[0] == turns[1]  # two x2 steps with the same x2 kernel, the same turns
    with pytest.raises(SystemExit):
        _run(["upscale", str(photo_png), "-o", str(out), "-s", "4", "--x4", "3x3"], capsys)
    code, _, err = _run(["upscale", str(photo_png), "-o", str(tmp_path / "o2"), "-s", "2", "--iters", "2", "-p", "fast",
                         "-m", "zssr", "--x4", "direct"], capsys)
    assert code == 0 and "--x4 applies only at -s 4" in err  # said, not silently dropped


def test_default_preset_is_fast_and_p_still_chooses(tmp_path, photo_png, capsys):
    from solosr.config import PRESETS

    for scale in (2, 4):  # no -p: the fast preset (measured ahead of balanced) at every scale
        out, rep = tmp_path / f"out{scale}", tmp_path / f"rep{scale}"
        code, _, _ = _run(["upscale", str(photo_png), "-o", str(out), "-s", str(scale), "--iters", "2", "-m", "zssr",
                           "--report", str(rep)], capsys)
        assert code == 0
        run = json.loads((rep / "photo" / "run.json").read_text())
        assert run["config"]["pairs"]["crop"] == PRESETS["fast"].pairs.crop
        assert run["config"]["infer"] == dataclasses.asdict(PRESETS["fast"].infer)
    code, _, _ = _run(["upscale", str(photo_png), "-o", str(tmp_path / "o"), "-s", "4", "-p", "balanced", "--iters",
                       "2", "-m", "zssr", "--report", str(tmp_path / "r")], capsys)
    run = json.loads((tmp_path / "r" / "photo" / "run.json").read_text())
    assert code == 0 and run["config"]["infer"] == dataclasses.asdict(PRESETS["balanced"].infer)  # asked for: kept


def test_loss_picture_shows_every_stage_term():
    from solosr.report import finite_runs, history_for_plot, loss_picture

    history = [{"stage": "teacher", "iter": 10, "lr": 1e-3, "loss": 0.1, "rec": 0.1},
               {"stage": "teacher", "iter": 20, "lr": 1e-3, "loss": 0.05, "rec": 0.05},
               {"stage": "student", "iter": 10, "lr": 1e-3, "loss": 0.2, "rec": 0.06, "cycle": 0.01}]
    flat = history_for_plot(history)
    assert [e["iter"] for e in flat] == [10, 20, 30]
    plain = loss_picture(flat, keys=["loss", "rec"])
    full = loss_picture(flat)
    assert plain.shape == full.shape and not np.array_equal(plain, full)  # "cycle" is drawn too
    restarted = [{"stage": "zssr", "iter": 50, "loss": 0.1, "restarted": "stuck"},
                 {"stage": "zssr", "iter": 50, "loss": 0.09}, {"stage": "zssr", "iter": 100, "loss": 0.05}]
    assert [e["iter"] for e in history_for_plot(restarted)] == [50, 100, 150]  # the second try follows the first
    # x4: the student's terms stop during step 2's teacher: the line breaks there instead of crossing it
    assert finite_runs(np.array([0.1, 0.2, np.nan, np.nan, 0.3, 0.4])) == [[0, 1], [4, 5]]


def test_max_pixels_refuses_a_large_input_before_training(tmp_path, photo_png, capsys):
    out = tmp_path / "out"
    code, _, err = _run(["upscale", str(photo_png), "-o", str(out), "--max-pixels", "1000", "--iters", "3"], capsys)
    assert code == 1
    assert err.count("solosr: error:") == 1 and "48x40 pixels is over the limit of 1000" in err
    assert not (out / "photo_x2.png").exists()
    with pytest.raises(SystemExit):
        main(["upscale", str(photo_png), "-o", str(out), "--max-pixels", "-5"])


def test_bench_adds_noise_or_jpeg_and_scores_niqe(tmp_path, capsys):
    from skimage import data

    hr = tmp_path / "hr_in"
    hr.mkdir()
    Image.fromarray(data.astronaut()[:400, :400]).save(hr / "a.png")
    runs = {"clean": [], "noisy": ["--add-noise", "10"], "jpeg": ["--add-jpeg", "30"]}
    means = {}
    for name, extra in runs.items():
        assert _run(["bench", "--synthetic", str(hr), "-m", "bicubic", "--niqe", "-o", str(tmp_path),
                     "--name", name, *extra], capsys)[0] == 0
        means[name] = json.loads((tmp_path / f"{name}.json").read_text())["methods"]["bicubic"]["mean"]
        assert "niqe" in means[name]
    assert means["noisy"]["psnr"] < means["clean"]["psnr"] - 0.3
    assert means["jpeg"]["psnr"] < means["clean"]["psnr"] - 0.3
    assert "mean NIQE" in (tmp_path / "clean.md").read_text()


def test_side_by_side_on_a_narrow_image_keeps_panels_aligned():
    from solosr.report import side_by_side
    from solosr.resize import imresize_np

    lr = np.random.default_rng(0).random((120, 40, 3)).astype(np.float32)  # narrower than the 96px window
    up = imresize_np(lr, 2)
    pic = side_by_side(lr, up, up, 2)
    assert pic.shape[1] == 3 * 40 * 2 + 2 * 6  # three 80px panels and two gaps, nothing cut off


def test_jobs_split_the_threads_and_give_the_same_outputs(tmp_path, photo, capsys):
    from solosr.batch import threads_per_job

    assert threads_per_job(2, 2) == 1 and threads_per_job(16, 3) == 5 and threads_per_job(1, 4) == 1
    src = tmp_path / "in"
    src.mkdir()
    for i, (y, x) in enumerate([(0, 0), (40, 60)]):
        Image.fromarray((photo[y:y + 32, x:x + 36] * 255).round().astype(np.uint8)).save(src / f"p{i}.png")
    (src / "bad.png").write_text("not an image")
    outs = {}
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}"
        code, stdout, err = _run(["upscale", str(src), "-o", str(out), "--iters", "4", "--jobs", str(jobs),
                                  "--threads", str(jobs)], capsys)  # one thread per image either way
        assert code == 1 and "2 done, 1 failed" in err and "bad.png" in err
        outs[jobs] = [np.asarray(Image.open(out / f"p{i}_x2.png"), dtype=np.int16) for i in range(2)]
    for a, b in zip(outs[1], outs[2]):
        assert a.shape == b.shape == (64, 72, 3)
        assert np.abs(a - b).max() <= 1


def test_help_shows_each_presets_real_values(capsys):
    from solosr.config import PRESETS, describe

    with pytest.raises(SystemExit):
        main(["upscale", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name, cfg in PRESETS.items():
        assert f"{name}: {describe(cfg)}" in text.replace("- ", "-")  # argparse wraps at hyphens
    assert f"teacher {PRESETS['fast'].train.max_iters} iterations" in text
    assert f"teacher {PRESETS['best'].train.min_iters}-{PRESETS['best'].train.max_iters} iterations" in text


def test_upscale_files_is_the_batch_from_python(tmp_path, photo):
    from solosr.batch import upscale_files
    from solosr.bench import config_with
    from solosr.config import preset

    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray((photo[:32, :36] * 255).round().astype(np.uint8)).save(src / "p0.png")
    (src / "bad.png").write_text("not an image")
    cfg = config_with(preset("fast"), train={"max_iters": 2, "min_iters": 2, "eval_every": 2})
    first = upscale_files([src], tmp_path / "out", config=cfg)
    assert first.done == [tmp_path / "out" / "p0_x2.png"] and not first.skipped
    assert [(p.name, "not an image file" in why) for p, why in first.failed] == [("bad.png", True)]
    again = upscale_files([src], tmp_path / "out", config=cfg)  # resumes: the finished output is skipped
    assert not again.done and [p.name for p, _ in again.skipped] == ["p0.png"] and len(again.failed) == 1
    with pytest.raises(ValueError, match="engine must be one of"):
        upscale_files([src], tmp_path / "out", engine="spark")
