"""The README's results table, made again: bicubic against solosr's default run (fast preset, kd, the
kernel estimated) on every set this machine has, one table, with machine and date. `make results`.

    .venv/bin/python benchmarks/headline.py -o docs/results              # every set found
    .venv/bin/python benchmarks/headline.py --sets skimage -o /tmp/r      # the set any machine has

Protocol (as `solosr bench --synthetic`): each HR image blurred by its own random DIV2KRK-protocol
kernel (anisotropic Gaussian with multiplicative noise, seed 0; x4 composed from two x2 kernels),
subsampled, quantised to 8 bits; Y-PSNR after shaving `scale` pixels. Sets:
- `skimage`: six photos scikit-image ships (astronaut, coffee, chelsea, rocket, immunohistochemistry,
  camera), x2 and x4: any machine with the dev extras can make this row.
- `div2k20`, `set5`, `set14`: from `--data` (default ../shared/data, the development checkout's): twenty
  DIV2KRK x2 inputs taken as HR (1020 px wide, so inputs of ~510x340), Set5 and Set14; skipped when absent.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from solosr.bench import machine_description, run_bench, synthetic_cases
from solosr.config import DEFAULT_PRESET, preset
from solosr.imageio import Picture, write_image

DIV2K20 = [1, 10, 11, 12, 15, 16, 17, 18, 19, 20, 21, 22, 25, 26, 28, 29, 32, 34, 35, 36]
SKIMAGE = ["astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "camera"]
# (set, scale) in the table's order; x4 on the sets whose inputs stay large enough for it.
ROWS = [("skimage", 2), ("skimage", 4), ("div2k20", 2), ("set5", 2), ("set5", 4), ("set14", 2)]
TITLES = {"skimage": "scikit-image photos", "div2k20": "DIV2K photos", "set5": "Set5", "set14": "Set14"}
METHODS = ["bicubic", "kd-est"]


def make_folder(name: str, data: Path, tmp: Path) -> Path | None:
    """The HR folder of a set, or None where this machine lacks it."""
    if name == "skimage":
        from skimage import data as skdata

        folder = tmp / "skimage"
        folder.mkdir(exist_ok=True)
        for i, photo in enumerate(SKIMAGE):
            a = getattr(skdata, photo)().astype(np.float32) / 255
            a = np.repeat(a[..., None], 3, axis=2) if a.ndim == 2 else a[..., :3]
            write_image(folder / f"{i}_{photo}.png", Picture(a))
        return folder
    if name == "div2k20":
        src = data / "div2krk-dev" / "lr_x2"
        if not src.is_dir():
            return None
        folder = tmp / "div2k20"
        folder.mkdir(exist_ok=True)
        for n in DIV2K20:
            (folder / f"im_{n}.png").symlink_to((src / f"im_{n}.png").resolve())
        return folder
    folder = data / "hr" / name
    return folder if folder.is_dir() else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", nargs="+", default=list(TITLES), choices=list(TITLES))
    ap.add_argument("--data", default="../shared/data", help="the development data (DIV2KRK, Set5, Set14)")
    ap.add_argument("-o", "--output", default="docs/results")
    ap.add_argument("--name", default="headline")
    args = ap.parse_args()
    cfg = preset(DEFAULT_PRESET)
    rows, missing = [], []
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folders = {s: make_folder(s, Path(args.data), Path(tmp)) for s in args.sets}
        for name, scale in ROWS:
            if name not in args.sets:
                continue
            if folders[name] is None:
                missing.append(name)
                continue
            result = run_bench(synthetic_cases([str(folders[name])], scale, 0), scale, METHODS, cfg,
                               on_result=lambda img, m, r: print(img, m, r.get("psnr"), r["seconds"], flush=True))
            means = {m: result["methods"][m]["mean"] for m in METHODS}
            rows.append({"set": name, "scale": scale, "n": len(result["methods"]["bicubic"]["images"]),
                         "bicubic": round(means["bicubic"]["psnr"], 2), "solosr": round(means["kd-est"]["psnr"], 2),
                         "seconds": round(means["kd-est"]["seconds"], 1),
                         "images": {m: result["methods"][m]["images"] for m in METHODS}})
            print(name, scale, {k: v for k, v in rows[-1].items() if k != "images"}, flush=True)
    command = " ".join(["benchmarks/headline.py", *sys.argv[1:]])
    out = {"date": datetime.date.today().isoformat(), "machine": machine_description(), "command": command,
           "preset": DEFAULT_PRESET, "config": cfg.to_dict(), "rows": rows, "missing": sorted(set(missing)),
           "wall_s": round(time.perf_counter() - t_all)}
    folder = Path(args.output)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{args.name}.json").write_text(json.dumps(out, indent=1))
    lines = [f"# solosr against bicubic ({out['date']})", "",
             f"Mean Y-PSNR in dB, the default run (`{DEFAULT_PRESET}` preset, kd, kernel estimated), one training run "
             "per image (seed 0); synthetic inputs, DIV2KRK protocol (see the script's docstring).",
             f"Machine: {out['machine']}. Command: `{command}` ({out['wall_s'] / 60:.0f} min).", "",
             "| images | scale | n | bicubic | solosr | gain | s / image |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {TITLES[r['set']]} | x{r['scale']} | {r['n']} | {r['bicubic']:.2f} | {r['solosr']:.2f} | "
                     f"{r['solosr'] - r['bicubic']:+.2f} | {r['seconds']:.0f} |")
    if out["missing"]:
        lines += ["", f"Not on this machine (no `{args.data}`): {', '.join(TITLES[m] for m in out['missing'])}."]
    (folder / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
