"""``improviser bench memory``: what a long session keeps, counted in-process."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from improviser.bench.memory import bench_memory
from improviser.cli.bench import bench_app
from improviser.errors import ConfigError
from improviser.inference import NumpyEngine, random_weights


def test_once_the_short_term_model_is_full_a_note_keeps_only_its_recording() -> None:
    engine = NumpyEngine(random_weights((32, 16)))
    result = bench_memory(engine, notes=1200, block=300, short_term_notes=100)
    assert [r["notes"] for r in result["rows"]] == [300, 600, 900, 1200]
    assert result["recorded"]["player"] == 1200 and result["recorded"]["improviser"] > 0
    # What stays for ever: the recording's bytes (a few bytes an event) and the stats'
    # bounded samples filling up. A note object kept per note (~100 B each, the player's
    # and the answers'), or the short-term model's history, would be well over this.
    assert 0 < result["bytes_per_note_second_half"] < 150
    assert result["largest"] and all(site["kb"] > 0 for site in result["largest"])


def test_bench_memory_cli_json_and_bad_arguments() -> None:
    runner = CliRunner()
    out = runner.invoke(bench_app, ["memory", "--untrained", "--notes", "40", "--block", "20",
                                    "--json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["notes"] == 40 and len(data["rows"]) == 2
    table = runner.invoke(bench_app, ["memory", "--untrained", "--notes", "20", "--block", "20"])
    assert table.exit_code == 0 and "traced MB" in table.output
    bad = runner.invoke(bench_app, ["memory", "--untrained", "--notes", "10", "--block", "20"])
    assert isinstance(bad.exception, ConfigError) and "block" in str(bad.exception)
