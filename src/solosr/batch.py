"""Batches: one task per image, run in this process, in a pool of local processes (`--jobs`), or on a
Ray cluster (`--engine ray`). Each engine yields (input, output, Outcome) as images finish; an image
that fails is an Outcome with an error, never an exception that stops the others.

    >>> from solosr.batch import upscale_files                                  # doctest: +SKIP
    >>> upscale_files(["scans/"], "out", scale=2, engine="ray")                 # doctest: +SKIP
    Summary(done=[...], failed=[], skipped=[])
"""

from __future__ import annotations

import glob
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .config import DEFAULT_PRESET, RunConfig, preset
from .imageio import DEFAULT_MAX_PIXELS, IMAGE_SUFFIXES, SUFFIXES, ImageError, read_image, write_bytes, write_image

ENGINES = ("local", "ray")
RAY_INSTALL = "pip install 'solosr[ray]'"
# Ray runs a task lost with its worker (a killed process, a lost node) again this many times; a task that
# fails because of its image returns the error instead, so it is reported and not retried.
RAY_MAX_RETRIES = 2


@dataclass(frozen=True)
class Settings:
    """What every image of a batch shares: `solosr.upscale`'s arguments, the pixel limit, the report folder."""

    scale: int = 2
    config: RunConfig = field(default_factory=lambda: preset(DEFAULT_PRESET))
    kernel: str | np.ndarray = "auto"
    seed: int = 0
    device: str = "auto"
    noise: float | str = "auto"
    jpeg: int | str = "auto"
    max_pixels: int = DEFAULT_MAX_PIXELS
    report: Path | None = None


@dataclass
class Outcome:
    """One image's result: error (one line) or None, seconds by stage, warnings; from a Ray task also the
    encoded output and report files (paths relative to the report folder) for the driver to write."""

    error: str | None = None
    timings: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    image: bytes | None = None
    report_files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Summary:
    done: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


# --- planning ------------------------------------------------------------------------------------------

def expand_inputs(items: list[str]) -> list[Path]:
    """Files, folders (their images, sorted) and globs, in order, without duplicates."""
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.suffix.lower() in IMAGE_SUFFIXES)
        elif not p.exists() and any(ch in item for ch in "*?["):
            found = sorted(Path(q) for q in glob.glob(item, recursive=True) if Path(q).is_file())
        else:
            found = [p]  # a missing file is reported when it is read
        out += [q for q in found if q not in out]
    return out


def output_path(src: Path, out_dir: Path, scale: int, fmt: str | None) -> Path:
    suffix = f".{fmt.lower()}" if fmt else (src.suffix.lower() if src.suffix.lower() in SUFFIXES else ".png")
    return out_dir / f"{src.stem}_x{scale}{suffix}"


def refuse_collisions(inputs: list[Path], out_dir: Path, scale: int, fmt: str | None, report: bool) -> None:
    """Two inputs that would write one output (a/photo.png and b/photo.png, or photo.png and photo.tif
    with --format png; with --report, one report folder per name) stop the batch before any work."""
    seen: dict[str, Path] = {}
    for src in inputs:
        keys = [str(output_path(src, out_dir, scale, fmt))] + ([f"report {src.stem}"] if report else [])
        for key in keys:
            other = seen.setdefault(key, src)
            if other != src:
                where = f"the report folder {src.stem}/" if key.startswith("report ") else key
                raise ValueError(f"{other} and {src} would both write {where}: upscale them into separate "
                                 f"output folders (or rename one)")


def plan(inputs: list[Path], out_dir: Path, scale: int, fmt: str | None, overwrite: bool) -> tuple[list, Summary]:
    """(input, output) pairs to do, and a Summary with what is skipped (finished outputs: a re-run resumes)
    or refused up front."""
    todo, summary = [], Summary()
    for src in inputs:
        dst = output_path(src, out_dir, scale, fmt)
        if dst.exists() and not overwrite:
            summary.skipped.append((src, "output exists (use --overwrite)"))
        elif dst.resolve() == src.resolve():
            summary.failed.append((src, "output would overwrite the input"))
        else:
            todo.append((src, dst))
    return todo, summary


# --- one image -----------------------------------------------------------------------------------------

def upscale_file(src: Path, dst: Path, settings: Settings, bar=None, *, read_from: Path | None = None) -> Outcome:
    """Read, upscale, write (and report) one image. `read_from`: where the bytes really are (a Ray
    worker's copy); messages still name `src`."""
    from .pipeline import upscale
    from .report import write_report

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pic = read_image(read_from or src, max_pixels=settings.max_pixels)
            if bar is not None:
                bar.announce(pic, settings.scale, settings.config)
            result = upscale(pic, settings.scale, kernel=settings.kernel, config=settings.config, seed=settings.seed,
                             device=settings.device, noise=settings.noise, jpeg=settings.jpeg, progress=bar)
            if bar is not None:
                bar.close()
            # The report before the image: an output image means that everything asked for was written,
            # so a re-run that skips existing outputs never leaves a report unmade.
            if settings.report is not None:
                write_report(settings.report, src, pic, result)
            write_image(dst, result.picture)
    except (ImageError, ValueError, OSError, RuntimeError) as e:
        if bar is not None:
            bar.close()
        msg = str(e).splitlines()[0] if str(e) else e.__class__.__name__
        if read_from is not None:
            msg = msg.replace(str(read_from), str(src))
        return Outcome(error=msg if str(src) in msg else f"{src}: {msg}")
    return Outcome(timings=result.timings, warnings=[str(w.message) for w in caught] + list(result.warnings))


# --- local processes -----------------------------------------------------------------------------------

def threads_per_job(threads: int | None, jobs: int) -> int:
    """Each of `jobs` images at once gets an equal share of the cores: two images with 2 threads each
    on 2 cores are far slower than one after the other."""
    total = threads or os.cpu_count() or 1
    return max(1, total // jobs)


def _pool_init(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def _pool_task(job) -> Outcome:
    from .progress import StageBar

    src, dst, settings, label, lines = job
    bar = StageBar(label, "lines" if lines else None)  # bars from several processes would garble each other
    return upscale_file(src, dst, settings, bar)


def run_pool(todo: list, settings: Settings, jobs: int, threads: int | None = None,
             lines: bool = False) -> Iterator[tuple[Path, Path, Outcome]]:
    """`jobs` local processes, each with its share of the threads; results as they finish."""
    import concurrent.futures as cf
    import multiprocessing

    with cf.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                                initializer=_pool_init, initargs=(threads_per_job(threads, jobs),)) as pool:
        futures = {pool.submit(_pool_task, (src, dst, settings, f"[{i}/{len(todo)}] {src.name}", lines)): (src, dst)
                   for i, (src, dst) in enumerate(todo, 1)}
        for fut in cf.as_completed(futures):
            src, dst = futures[fut]
            try:
                outcome = fut.result()
            except Exception as e:  # a worker that died (killed, out of memory): the image failed
                outcome = Outcome(error=f"{src}: worker failed ({e.__class__.__name__}: {e})")
            yield src, dst, outcome


# --- Ray -----------------------------------------------------------------------------------------------

def import_ray():
    try:
        import ray
    except ImportError:
        raise ValueError(f"--engine ray needs Ray, an optional dependency: {RAY_INSTALL}") from None
    return ray


def _ray_task(name: str, data: bytes, dst_name: str, settings: Settings, threads: int) -> Outcome:
    """On a Ray worker: the input's bytes in, the encoded output and report files out. No shared
    folder is needed: the driver reads every input and writes every output."""
    import torch

    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory(prefix="solosr-") as tmp:
        folder = Path(tmp)
        copy = folder / "in" / Path(name).name
        copy.parent.mkdir()
        copy.write_bytes(data)
        dst = folder / "out" / dst_name
        dst.parent.mkdir()
        report = folder / "report" if settings.report is not None else None
        outcome = upscale_file(Path(name), dst, replace(settings, report=report), read_from=copy)
        if outcome.error is None:
            outcome.image = dst.read_bytes()
            if report is not None:
                outcome.report_files = {str(p.relative_to(report)): p.read_bytes() for p in sorted(report.rglob("*"))
                                        if p.is_file()}
        return outcome


def _write_sent_files(src: Path, dst: Path, outcome: Outcome, report: Path | None) -> Outcome:
    """The driver's half of a Ray task: report files first, then the image, each atomically."""
    assert outcome.image is not None
    try:
        for rel, data in outcome.report_files.items():  # sent only where a report was asked for
            assert report is not None
            path = report / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            write_bytes(path, data)
        write_bytes(dst, outcome.image)
    except (ImageError, OSError) as e:
        return Outcome(error=f"{src}: {str(e).splitlines()[0]}")
    return replace(outcome, image=None, report_files={})


def run_ray(todo: list, settings: Settings, threads: int = 1, address: str | None = None,
            on_start=None, on_wait=None, every: float = 60.0) -> Iterator[tuple[Path, Path, Outcome]]:
    """One Ray task per image, `threads` CPUs each (and a GPU each with device='cuda'); results as they
    finish. Joins the cluster at `address` ('auto', 'ray://HOST:PORT'), or an already started Ray, or
    starts a local one with this machine's cores. Only as many tasks as the cluster has slots for (and two
    more) are in flight, so the driver never holds more inputs than that. `on_start(cpus)` is called once
    the cluster is joined; `on_wait(done, running)` after every `every` seconds in which no image finished
    (a log's sign of life)."""
    ray = import_ray()
    if not todo:
        return
    started = _join_ray(ray, address)
    try:
        gpus = 1 if settings.device == "cuda" else 0
        task = ray.remote(num_cpus=threads, num_gpus=gpus, max_retries=RAY_MAX_RETRIES, retry_exceptions=False)(_ray_task)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        window = max(1, cpus // threads) + 2  # every slot busy, and the next inputs already on their way
        if on_start is not None:
            on_start(cpus)
        queue = list(todo)
        pending: dict = {}  # Ray's ObjectRef -> (input, output)
        finished = 0
        while queue or pending:
            while queue and len(pending) < window:
                src, dst = queue.pop(0)
                if not src.is_file():
                    yield src, dst, Outcome(error=f"{src}: {'is a directory' if src.is_dir() else 'no such file'}")
                    continue
                try:
                    data = src.read_bytes()
                except OSError as e:
                    yield src, dst, Outcome(error=f"{src}: cannot read ({e.strerror or e})")
                    continue
                ref = task.options(name=f"solosr {src.name}").remote(str(src), data, dst.name, settings, threads)
                pending[ref] = (src, dst)
            if not pending:
                continue
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=every if on_wait is not None else None)
            if not ready and on_wait is not None:
                on_wait(finished, len(pending))
            for ref in ready:
                finished += 1
                src, dst = pending.pop(ref)
                yield src, dst, _ray_outcome(ray, ref, src, dst, settings)
    finally:
        if started:
            ray.shutdown()


def _join_ray(ray, address: str | None) -> bool:
    """Join the cluster at `address`, or start a local Ray, unless one is running; True if this call did."""
    if ray.is_initialized():
        return False
    options = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        with warnings.catch_warnings():  # Ray's own warnings repeat what the one-line error says
            warnings.simplefilter("ignore")
            if address:
                ray.init(address=address, **options)
            else:  # a private one-machine cluster, on loopback only
                ray.init(num_cpus=os.cpu_count() or 1, _node_ip_address="127.0.0.1", **options)
    except Exception as e:  # noqa: BLE001 - Ray raises ConnectionError, RuntimeError, ...: one line
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        why = str(e).splitlines()[0] if str(e) else e.__class__.__name__
        raise ValueError(f"cannot start or join {where} ({why})") from None
    return True


def _ray_outcome(ray, ref, src: Path, dst: Path, settings: Settings) -> Outcome:
    """A finished task's outcome, its files written by the driver; a task that raised or was lost, one line."""
    try:
        outcome = ray.get(ref)
    except ray.exceptions.RayTaskError as e:  # the task raised (not retried): its own error
        cause = e.cause if isinstance(getattr(e, "cause", None), BaseException) else e
        why = str(cause).splitlines()[0] if str(cause) else ""
        return Outcome(error=f"{src}: {cause.__class__.__name__}{': ' + why if why else ''}")
    except Exception as e:  # noqa: BLE001 - the worker or its node was lost, and so were the retries
        why = str(e).splitlines()[0] if str(e) else ""
        return Outcome(error=f"{src}: task lost {RAY_MAX_RETRIES + 1} times ({e.__class__.__name__}"
                             f"{': ' + why if why else ''})")
    if outcome.error is None:
        outcome = _write_sent_files(src, dst, outcome, settings.report)
    return outcome


# --- the whole batch -----------------------------------------------------------------------------------

def run(todo: list, settings: Settings, *, engine: str = "local", jobs: int = 1, threads: int | None = None,
        address: str | None = None, mode: str | None = None, on_start=None,
        on_wait=None) -> Iterator[tuple[Path, Path, Outcome]]:
    """Every (input, output) of `todo` on the chosen engine, results as they finish. `threads`: in all
    (local), or each image's (Ray, default 1). `mode`: progress.StageBar's ("bar", "lines" or None: silent)
    for each image in this process, lines from local workers; Ray's hooks as `run_ray`'s."""
    from .progress import StageBar

    if engine == "ray":
        yield from run_ray(todo, settings, threads or 1, address, on_start=on_start, on_wait=on_wait)
    elif jobs > 1 and len(todo) > 1:
        yield from run_pool(todo, settings, min(jobs, len(todo)), threads, lines=mode is not None)
    else:
        if threads:
            import torch

            torch.set_num_threads(threads)
        for i, (src, dst) in enumerate(todo, 1):
            label = f"[{i}/{len(todo)}] {src.name}" if len(todo) > 1 else src.name
            # under the batch's own bar (the caller's) when there is more than one image
            bar = StageBar(label, mode, position=1 if mode == "bar" and len(todo) > 1 else 0)
            yield src, dst, upscale_file(src, dst, settings, bar)


def upscale_files(inputs: list[str], output: str | os.PathLike, *, engine: str = "local", jobs: int = 1,
                  threads: int | None = None, address: str | None = None, fmt: str | None = None,
                  overwrite: bool = False, **settings) -> Summary:
    """Super-resolve files, folders and globs into `output` as NAME_xS.EXT (the CLI's `upscale`).
    `settings`: Settings' fields (scale, config, kernel, seed, device, noise, jpeg, max_pixels, report).
    Raises ValueError for a batch refused up front; failures of single images are in the Summary."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    s = Settings(**{**settings, "report": Path(settings["report"]) if settings.get("report") else None})
    files = expand_inputs([str(i) for i in inputs])
    out_dir = Path(output)
    out_dir.mkdir(parents=True, exist_ok=True)
    refuse_collisions(files, out_dir, s.scale, fmt, s.report is not None)
    todo, summary = plan(files, out_dir, s.scale, fmt, overwrite)
    for src, dst, outcome in run(todo, s, engine=engine, jobs=jobs, threads=threads, address=address):
        if outcome.error is None:
            summary.done.append(dst)
        else:
            summary.failed.append((src, outcome.error))
    return summary
