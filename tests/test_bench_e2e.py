"""``improviser bench e2e`` through a real JACK server, with few notes.

Nothing asserts on a timing: the result must be well-formed, every note answered, and
the synth left with no note sounding.
"""

from __future__ import annotations

import json
import math
import uuid
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from improviser.bench.e2e_mqtt import ab_rounds
from improviser.cli import bench_tables
from improviser.cli.bench import bench_app
from improviser.harness.jackserver import ENV
from tests.jack import require_jackd
from tests.mosquitto import broker_at

pytestmark = pytest.mark.jack


def _summary_ok(s: dict[str, float], n: int | None = None) -> None:
    assert set(s) >= {"n", "p50_ms", "p99_ms", "max_ms"}
    if n is not None:
        assert s["n"] == n
    if s["n"]:
        assert all(math.isfinite(s[k]) for k in ("p50_ms", "p99_ms", "max_ms"))
        assert s["p50_ms"] <= s["p99_ms"] <= s["max_ms"]


def test_bench_e2e_answers_every_note_and_leaves_nothing_sounding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    require_jackd()
    # No server answers to this name, so the benchmark starts (and stops) its own.
    monkeypatch.setenv(ENV, f"improviser-absent-{uuid.uuid4().hex[:8]}")
    notes, phrases = 12, 2
    out = CliRunner().invoke(
        bench_app,
        ["e2e", "--untrained", "--notes", str(notes), "--min-gap", "0.08", "--max-gap",
         "0.12", "--phrases", str(phrases), "--answer-notes", "3", "--json"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["jack"]["private_server"] is True
    assert result["engine"] in ("native on cpu", "numpy on cpu")
    assert "random weights" in result["model"]
    # Ours, exact on any machine: every note that reached the engine was answered, every
    # note it sent was released, nothing queued was dropped, no echo was taken as played.
    assert result["follow_sent"] == result["notes_in"] > 0
    assert result["follow_unreleased"] == 0
    assert result["echoes_ignored"] == 0 and result["dropped"] == 0
    # On the way through JACK: nothing is lost unless JACK reports a client that overran
    # a cycle (a busy, non-realtime machine: JACK drops that cycle's MIDI itself). Then a
    # loss is JACK's and tolerated; a loss with no overrun is ours and fails.
    lossless = result["jack"]["client_overruns"] == 0
    if lossless:
        assert result["notes_in"] == notes and result["answered"] == notes
        assert result["unanswered"] == 0 and result["stuck_notes"] == 0
    assert result["answered"] <= result["follow_sent"]
    assert result["call_response"] == {"phrases": phrases, "answers": phrases, "unanswered": 0}
    for key in ("floor", "relay_floor", "e2e"):
        _summary_ok(result[key], notes if lossless else None)
    for key in ("added", "added_vs_relay"):
        assert set(result[key]) == {"vs_p50", "per_percentile"}
        for added in result[key].values():
            assert set(added) == {"p50_ms", "p99_ms", "max_ms"}
    assert len(result["stages"]) == 5
    for s in result["stages"].values():
        _summary_ok(s, notes if lossless else None)
    stage_p50 = sum(s["p50_ms"] for s in result["stages"].values())
    assert stage_p50 > 0
    jitter = result["jitter"]
    _summary_ok(jitter["follow on: callback -> sent"], result["follow_sent"])
    _summary_ok(jitter["answer 1st on: phrase end"], phrases)
    _summary_ok(jitter["answer on (timed)"])
    # The table renders from the same result.
    console = Console(record=True, width=80)
    monkeypatch.setattr(bench_tables, "report", lambda: console)
    bench_tables.print_e2e(result)
    text = console.export_text()
    assert "JACK floor" in text and "where the time goes" in text and "jitter" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_bench_e2e_accompany_voices_every_note_and_releases_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    require_jackd()
    monkeypatch.setenv(ENV, f"improviser-absent-{uuid.uuid4().hex[:8]}")
    notes = 12
    out = CliRunner().invoke(
        bench_app,
        ["e2e", "--untrained", "--mode", "accompany", "--notes", str(notes), "--min-gap",
         "0.08", "--max-gap", "0.12", "--phrases", "0", "--json"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["mode"] == "accompany"
    # Voices were sent under the notes and every one of them released; a melody note whose
    # voices all kept their pitch sends none, so not every note need be answered.
    assert result["follow_sent"] > 0 and result["follow_unreleased"] == 0
    assert result["dropped"] == 0
    if result["jack"]["client_overruns"] == 0:
        assert result["stuck_notes"] == 0
    assert 0 < result["answered"] <= notes
    assert result["call_response"] is None
    engine = result["stages"]["engine: step, sample, send"]
    _summary_ok(engine)
    assert engine["n"] > 0


async def test_ab_rounds_flip_the_order_and_pool_each_side() -> None:
    calls: list[bool] = []

    async def run(on: bool) -> list[float]:
        calls.append(on)
        return [2.0 + on * 0.05 + i * 0.01 for i in range(100)]

    result = await ab_rounds(run, 3)
    assert calls == [False, True, True, False, False, True]
    assert result["off"]["n"] == result["on"]["n"] == 300
    assert result["added_p50_ms"] == pytest.approx(0.05)
    orders = [r["order"] for r in result["per_round"]]
    assert orders == [["off", "on"], ["on", "off"], ["off", "on"]]
    with pytest.raises(ValueError, match="rounds"):
        await ab_rounds(run, 0)


def test_bench_e2e_with_mqtt_publishes_every_note_in_each_on_round(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    require_jackd()
    monkeypatch.setenv(ENV, f"improviser-absent-{uuid.uuid4().hex[:8]}")
    notes = 10
    with broker_at(tmp_path / "mosquitto") as broker:
        out = CliRunner().invoke(
            bench_app,
            ["e2e", "--untrained", "--notes", str(notes), "--min-gap", "0.08", "--max-gap",
             "0.12", "--phrases", "0", "--mqtt", f"127.0.0.1:{broker.port}", "--mqtt-rounds",
             "2", "--json"],
        )  # fmt: skip
    assert out.exit_code == 0, out.output
    mqtt = json.loads(out.stdout)["mqtt"]
    assert mqtt["connected"] and mqtt["rounds"] == 2 and len(mqtt["per_round"]) == 2
    assert mqtt["notes_skipped"] == 0 and mqtt["mqtt_dropped"] == 0
    _summary_ok(mqtt["off"])
    _summary_ok(mqtt["on"])
    assert mqtt["off"]["n"] > 0 and mqtt["on"]["n"] > 0
    assert mqtt["added_p99_ms"] == mqtt["on"]["p99_ms"] - mqtt["off"]["p99_ms"]
    console = Console(record=True, width=200)
    monkeypatch.setattr(bench_tables, "report", lambda: console)
    bench_tables.print_e2e(json.loads(out.stdout))
    assert "2 rounds off/on" in console.export_text()
