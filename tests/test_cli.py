"""The command line: a user's mistake is one line on stderr and exit code 2."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.cli_run import improviser
from tests.synth import write_corpus


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return improviser(*args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["evaluate", "--model", "/nonexistent/m.keras", "."], "model metadata not found"),
        (["generate", "--seed", "/nonexistent.mid", "--out", "/tmp/x.mid"], "cannot read"),
        (["plot", "/nonexistent.mid"], "cannot read"),
        (["train", "/nonexistent-dir", "--out", "/tmp/x.keras", "--epochs", "0"], "train.epochs"),
    ],
)
def test_user_mistakes_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_wrong_config_value_names_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[generate.sampling]\ntemperature = -1\n")
    write_corpus(tmp_path / "c", 1)
    result = run(
        "generate",
        "--config",
        str(cfg),
        "--seed",
        str(tmp_path / "c" / "tune000.mid"),
        "--out",
        str(tmp_path / "o.mid"),
    )
    assert result.returncode == 2
    assert "config key 'generate.sampling.temperature'" in result.stderr


def _damaged_model(root: Path) -> Path:
    """The bundled model with its ``.keras`` and ``.npz`` cut in half, its metadata intact."""
    from improviser.paths import DEFAULT_MODEL

    model = root / "cut.keras"
    for suffix in (".keras", ".npz"):
        data = DEFAULT_MODEL.with_suffix(suffix).read_bytes()
        model.with_suffix(suffix).write_bytes(data[: len(data) // 2])
    model.with_suffix(".json").write_bytes(DEFAULT_MODEL.with_suffix(".json").read_bytes())
    return model


@pytest.mark.parametrize(
    ("case", "culprit", "message"),
    [
        ("generate-cut-model", "cut.npz", "corrupt or truncated weights file"),
        ("evaluate-cut-model", "cut.npz", "corrupt or truncated weights file"),
        ("generate-garbage-seed", "garbage.mid", "not a readable MIDI file"),
        ("generate-broken-config", "broken.toml", "not valid TOML"),
        ("evaluate-metadata-not-an-object", "list.json", "not improviser model metadata"),
    ],
)
def test_damaged_files_are_one_line_naming_the_file(
    tmp_path: Path, case: str, culprit: str, message: str
) -> None:
    [seed] = write_corpus(tmp_path / "corpus", 1)
    model = _damaged_model(tmp_path)
    (tmp_path / "garbage.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01")
    (tmp_path / "broken.toml").write_bytes(b"[generate\nnotes = 3\n")
    (tmp_path / "list.json").write_text("[1, 2, 3]\n")
    (tmp_path / "list.keras").write_bytes(b"")
    out = str(tmp_path / "out.mid")
    args = {
        "generate-cut-model": ["generate", "--model", str(model), "--seed", str(seed), "-o", out],
        "evaluate-cut-model": ["evaluate", "--model", str(model), str(tmp_path / "corpus")],
        "generate-garbage-seed": ["generate", "--seed", str(tmp_path / "garbage.mid"), "-o", out],
        "generate-broken-config": [
            *("generate", "--config", str(tmp_path / "broken.toml")),
            *("--seed", str(seed), "-o", out),
        ],
        "evaluate-metadata-not-an-object": [
            *("evaluate", "--model", str(tmp_path / "list.keras"), str(tmp_path / "corpus")),
        ],
    }[case]
    result = run(*args)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    prefix = f"improviser: error: {tmp_path / culprit}: {message}"
    assert result.stderr.startswith(prefix), result.stderr
    assert not Path(out).exists()


def test_tables_to_a_pipe_are_wide_unless_columns_says(monkeypatch: pytest.MonkeyPatch) -> None:
    from improviser.cli.report import PIPE_WIDTH, report

    monkeypatch.delenv("COLUMNS", raising=False)
    assert report().width == PIPE_WIDTH  # pytest's stdout is not a terminal
    monkeypatch.setenv("COLUMNS", "90")
    assert report().width == 90


def test_a_task_groups_user_error_is_one_line_and_a_bug_keeps_its_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib

    from improviser.errors import PortError

    cli = importlib.import_module("improviser.cli.main")  # the module, not its main()

    def failing(error: Exception) -> None:
        def app(**_kwargs: object) -> None:
            raise ExceptionGroup("tasks", [ExceptionGroup("inner", [error])])

        monkeypatch.setattr(cli, "app", app)

    failing(PortError("bench: the player stopped answering"))
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 2
    assert capsys.readouterr().err == "improviser: error: bench: the player stopped answering\n"
    failing(ValueError("a bug"))
    with pytest.raises(ExceptionGroup):
        cli.main()
