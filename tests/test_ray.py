"""--engine ray on a real local Ray (two CPUs, loopback only): results, failures, retries, resume."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import numpy as np
import pytest
from PIL import Image

from solosr.cli import main


@pytest.fixture(scope="module")
def local_ray():
    """One Ray for the module (starting one takes seconds); the CLI joins it instead of starting its own."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
             _node_ip_address="127.0.0.1")
    yield
    ray.shutdown()


@pytest.fixture
def folder(tmp_path, photo):
    src = tmp_path / "in"
    src.mkdir()
    for i, (y, x) in enumerate([(0, 0), (40, 60)]):
        Image.fromarray((photo[y:y + 32, x:x + 36] * 255).round().astype(np.uint8)).save(src / f"p{i}.png")
    return src


def _run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _pixels(folder):
    return {p.name: np.asarray(Image.open(p)) for p in sorted(folder.glob("*.png"))}


def test_ray_batch_matches_local_reports_the_bad_file_and_resumes(local_ray, folder, tmp_path, capsys):
    (folder / "bad.png").write_text("not an image")
    common = ["--iters", "4", "--threads", "1"]  # one thread per image on both engines: the same arithmetic
    code, _, err = _run(["upscale", str(folder), "-o", str(tmp_path / "ray"), "--engine", "ray",
                         "--report", str(tmp_path / "rep"), *common], capsys)
    assert code == 1 and "2 done, 1 failed, 0 skipped" in err and "bad.png: not an image file" in err
    code, _, err = _run(["upscale", str(folder / "p0.png"), str(folder / "p1.png"), "-o", str(tmp_path / "local"),
                         *common], capsys)
    assert code == 0
    ray_out, local_out = _pixels(tmp_path / "ray"), _pixels(tmp_path / "local")
    assert sorted(ray_out) == sorted(local_out) == ["p0_x2.png", "p1_x2.png"]
    for name in ray_out:
        assert ray_out[name].shape == (64, 72, 3) and np.array_equal(ray_out[name], local_out[name])
    report = tmp_path / "rep" / "p1"
    assert sorted(p.name for p in report.iterdir()) == ["compare.png", "kernel.npy", "kernel.png", "losses.png", "run.json"]
    assert str(folder / "p1.png") in (report / "run.json").read_text()  # the input's own path, not a worker's copy
    assert not list((tmp_path / "ray").glob(".*"))  # no temporary files left behind

    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "ray").iterdir()}
    code, _, err = _run(["upscale", str(folder), "-o", str(tmp_path / "ray"), "--engine", "ray", *common], capsys)
    assert code == 1 and "0 done, 1 failed, 2 skipped" in err  # finished outputs are skipped, the bad file still fails
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "ray").iterdir()} == before


def _ray_task_pids() -> list[int]:
    """Ray workers that run one of solosr's tasks (Ray titles a worker process ray::TASK_NAME)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    title = f.read().split(b"\0")[0].decode(errors="replace")
            except OSError:
                continue
            if title.startswith("ray::solosr"):
                pids.append(int(entry))
    return pids


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds Ray's workers through /proc")
def test_a_worker_killed_mid_task_is_retried_and_the_batch_completes(local_ray, folder, tmp_path, capsys):
    out = tmp_path / "out"
    result = {}
    run = threading.Thread(target=lambda: result.setdefault("code", main(
        ["upscale", str(folder), "-o", str(out), "--engine", "ray", "--iters", "60", "--threads", "1", "-q"])))
    run.start()
    killed, deadline = None, time.monotonic() + 60
    while killed is None and run.is_alive() and time.monotonic() < deadline:
        pids = _ray_task_pids()
        if pids:
            os.kill(pids[0], signal.SIGKILL)
            killed = pids[0]
        time.sleep(0.05)
    run.join(timeout=120)
    assert killed is not None, "no solosr task was seen running"
    assert result.get("code") == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["p0_x2.png", "p1_x2.png"]


def test_without_ray_the_engine_says_how_to_install_it(monkeypatch, folder, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError, as where it is not installed
    code, _, err = _run(["upscale", str(folder), "-o", str(tmp_path / "out"), "--engine", "ray"], capsys)
    assert code == 1 and err.strip().count("\n") == 0 and "pip install 'solosr[ray]'" in err
    assert not (tmp_path / "out").exists()


def test_address_needs_the_ray_engine(folder, tmp_path, capsys):
    code, _, err = _run(["upscale", str(folder), "-o", str(tmp_path / "out"), "--address", "auto"], capsys)
    assert code == 1 and "--address is for --engine ray" in err


def test_a_long_image_gives_signs_of_life(local_ray, folder, tmp_path):
    from solosr.batch import Settings, run_ray
    from solosr.bench import config_with
    from solosr.config import preset

    cfg = config_with(preset("fast"), train={"max_iters": 60, "min_iters": 60, "eval_every": 60})
    waits = []
    todo = [(folder / "p0.png", tmp_path / "p0_x2.png")]
    results = list(run_ray(todo, Settings(config=cfg), on_wait=lambda done, running: waits.append((done, running)),
                           every=0.2))
    assert [r[2].error for r in results] == [None] and (tmp_path / "p0_x2.png").exists()
    assert waits and waits[0] == (0, 1)  # nothing done yet, one image running


def test_a_task_that_raises_is_reported_with_its_error_not_as_lost(local_ray, folder, tmp_path):
    from solosr.batch import Settings, run_ray

    bad = Settings(kernel=object())  # not a kernel: the task raises TypeError, which Ray does not retry
    [(src, dst, outcome)] = list(run_ray([(folder / "p0.png", tmp_path / "p0_x2.png")], bad))
    assert outcome.error.startswith(f"{src}: TypeError") and "lost" not in outcome.error
    assert not dst.exists()
