"""The install that fits the machine: the base package plays live without TensorFlow.

The quick tests hide an extra's modules (``None`` in ``sys.modules`` makes their import
fail, as where they are not installed) and check the one line that names the extra. The
slow one builds the wheel from a copy of the source tree as a fresh clone has it,
installs it without extras into a fresh venv (pip, from the index this machine uses),
checks that TensorFlow, Keras, scikit-learn and matplotlib are not there, and plays
``improviser demo`` from that venv through a private JACK server it starts itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from improviser.bench.wheel import build_wheel, source_copy
from improviser.errors import MissingExtraError
from improviser.inference import tfload
from tests.jack import require_jackd

ROOT = Path(__file__).resolve().parent.parent
TRAIN_ONLY = ("tensorflow", "keras", "sklearn", "scipy", "matplotlib")
"""Modules of the extras: none of them may be installed by the base package."""
BENCH_ONLY = ("onnxruntime", "ai_edge_litert", "tf2onnx")
"""The bench extra's (bench latency's peer runtimes): not installed by the base either."""


@pytest.mark.parametrize("which", ["tensorflow", "keras"])
def test_tensorflow_missing_is_one_line_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch, which: str
) -> None:
    monkeypatch.setitem(sys.modules, which, None)
    load = tfload.keras if which == "keras" else tfload.tensorflow
    with pytest.raises(MissingExtraError) as info:
        load()
    line = str(info.value)
    assert line == (
        f"{tfload.TF_FEATURES} needs {which}, which is not installed: "
        "pip install 'improviser[train]'"
    )
    assert isinstance(info.value, ImportError)


def test_the_command_line_says_it_and_exits_2(tmp_path: Path) -> None:
    """Through the CLI's error boundary, in a process where TensorFlow cannot be imported."""
    hide = f"import sys\nfor name in {TRAIN_ONLY}: sys.modules[name] = None\n"
    run = (
        hide + "from improviser.cli import main\nsys.argv = ['improviser', *sys.argv[1:]]\nmain()\n"
    )
    call = ROOT / "samples" / "demo" / "call.mid"
    for args, extra in (
        (["train", str(call), "--out", str(tmp_path / "m.keras"), "--epochs", "1"], "train"),
        (["plot", str(call), "--out", str(tmp_path / "roll.png")], "plot"),
    ):
        done = subprocess.run(
            [sys.executable, "-c", run, *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and f"pip install 'improviser[{extra}]'" in lines[0], lines


@pytest.mark.slow
@pytest.mark.jack
@pytest.mark.timeout(1200)
def test_the_wheel_without_extras_plays_a_demo_without_tensorflow(tmp_path: Path) -> None:
    require_jackd()
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git working tree to build from")
    wheel = build_wheel(source_copy(ROOT, tmp_path / "src"), tmp_path / "dist")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(wheel)],
        check=True, capture_output=True, timeout=900,
    )  # fmt: skip

    probe = "import importlib.util as u\nfor m in {names}: print(m, u.find_spec(m) is not None)\n"
    found = subprocess.run(
        [str(python), "-c", probe.format(names=TRAIN_ONLY + BENCH_ONLY)],
        check=True, capture_output=True, text=True, cwd=tmp_path,
    ).stdout.split()  # fmt: skip
    absent = dict.fromkeys(TRAIN_ONLY + BENCH_ONLY, "False")
    assert dict(zip(found[::2], found[1::2], strict=True)) == absent

    # The demo from the venv's own console script's code, with a check at exit of what
    # it imported. No JACK server is named: the demo starts (and stops) its own.
    demo = (
        "import sys\nfrom improviser.cli import main\n"
        "sys.argv = ['improviser', 'demo', '--api', 'jack', '--record', 'demo.mid']\n"
        "try:\n    main()\nfinally:\n"
        f"    heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({TRAIN_ONLY!r}))\n"
        "    print('heavy modules imported:', heavy, file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["JACK_DEFAULT_SERVER"] = f"improviser-none-{uuid.uuid4().hex[:8]}"  # none runs there
    env["COLUMNS"] = "200"
    played = subprocess.run(
        [str(python), "-c", demo],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert played.returncode == 0, played.stderr
    assert "heavy modules imported: []" in played.stderr
    assert "private server" in played.stdout  # it played through a JACK server of its own
    answers = next(line for line in played.stdout.splitlines() if "answers" in line)
    assert int(answers.split("│")[2].strip()) > 0, played.stdout
    assert (tmp_path / "demo.mid").stat().st_size > 0
    script = subprocess.run(
        [str(venv / "bin" / "improviser"), "--help"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert script.returncode == 0 and "demo" in script.stdout
