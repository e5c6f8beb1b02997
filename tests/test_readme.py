"""The README's samples, as a user would paste them: its Python block runs, its commands parse."""

import re
import shlex
from pathlib import Path

import numpy as np
from PIL import Image

from solosr import config
from solosr.cli import build_parser
from solosr.config import TrainConfig

README = (Path(__file__).parent.parent / "README.md").read_text()

def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", README, flags=re.S | re.M)

def test_readme_commands_parse():
    commands = [line.split("  #")[0].strip() for block in _blocks("sh") for line in block.splitlines()]
    commands = [c for c in commands if c.startswith("solosr ")]
    assert len(commands) >= 6
    parser = build_parser()
    for command in commands:
        args = parser.parse_args(shlex.split(command)[1:])  # exits (and fails) on an option that is not there
        assert callable(args.func), command

def test_readme_python_sample_runs(tmp_path, monkeypatch, photo):
    (block,) = _blocks("python")
    tiny = config.PRESETS[config.DEFAULT_PRESET].replace(train=TrainConfig(max_iters=6, min_iters=2, eval_every=3))
    monkeypatch.setitem(config.PRESETS, config.DEFAULT_PRESET, tiny)  # the sample as written, trained briefly
    monkeypatch.chdir(tmp_path)
    image = (photo[:48, :40] * 255).astype(np.uint8)
    Path("scans").mkdir()
    Image.fromarray(image).save("scans/a.png")
    scope = {"image": image}
    exec(compile(block, "README.md", "exec"), scope)
    assert scope["result"].image.shape == (96, 80, 3) and scope["result"].image.dtype == np.uint8
    summary = scope["summary"]
    assert [p.name for p in summary.done] == ["a_x2.png"] and not summary.failed
    assert Image.open("out/a_x2.png").size == (80, 96)
