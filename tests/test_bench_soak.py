"""``bench soak`` and ``bench flood`` through a real JACK server, short.

Correctness only, never a timing: no stuck note, every phrase answered, memory and tasks
bounded, and after a flood of notes and garbage the instrument still answers.
"""

from __future__ import annotations

import itertools
import json
import uuid

import pytest
from rich.console import Console
from typer.testing import CliRunner

from improviser.bench.soak_ledger import SoakLedger
from improviser.cli import bench_live
from improviser.cli.bench import bench_app
from improviser.harness.jackserver import ENV
from improviser.harness.soak_script import FLOOD_KINDS, flood_messages, soak_script
from improviser.live.events import AnswerNote, PhraseEnded, PlayerNote
from tests.jack import require_jackd

MEMORY_BOUND_MB = 50.0
"""Anonymous memory a short soak or flood may add (a leak of a message or an event
each would pass it within seconds)."""


def test_soak_script_plays_what_the_soak_needs() -> None:
    phrases = soak_script(180, seed=0)
    assert phrases and all(p.end > p.start for p in phrases)
    assert all(a.end < b.start for a, b in itertools.pairwise(phrases))
    assert any(p.dropped for p in phrases[:3]) and any(p.burst for p in phrases)
    assert any(p.pedal for p in phrases)
    gaps = [b.at - a.at for p in phrases for a, b in itertools.pairwise(p.steps)]
    assert max(gaps) <= 0.6 + 1e-9


def test_flood_messages_mix_every_kind_and_pair_notes() -> None:
    messages = flood_messages(5000, seed=1)
    assert {kind for kind, _ in messages} == set(FLOOD_KINDS)
    ons = sum(1 for k, d in messages if k == "note" and d[0] == 0x90)
    offs = sum(1 for k, d in messages if k == "note" and d[0] == 0x80)
    assert ons - offs in (0, 1)


def test_ledger_finds_stuck_notes_and_unanswered_phrases() -> None:
    ledger = SoakLedger(max_note_seconds=4.0)
    # the answer's first note planned for 10.498 (on the beat), sent 10.4985, heard 10.5
    first = AnswerNote(10.4985, 0, 60, 90, "answer-1", intended=10.498, response=0.4985)
    later = AnswerNote(11.5, 0, 62, 90, "answer-1", intended=11.5)  # not the first: no response
    ledger.events([PhraseEnded(10.0, 4), first, later])
    ledger.origin = 4.0
    # the second phrase sent 2 note-offs (a third left out by the script), of which the
    # engine heard 1: 1 lost by JACK; the third sent 1 and it was heard
    ledger.events([PlayerNote(15.0, 0, 60, 0), PlayerNote(30.5, 0, 62, 0)])
    ledger.phrases([[5.0, 10.0], [14.0, 16.0, 1, False, True, 2], [30.0, 31.0, 0, False, False, 1]])
    ledger.heard([(10.5, 0x90, 60, 90), (11.0, 0x80, 60, 0), (12.0, 0x90, 62, 90)])
    ledger.judge(40.0, final=True)
    row = ledger.take_interval()
    assert row["stuck"] == 1 and row["answered"] == 1 and row["unanswered"] == 2
    assert row["ends_unheard"] == 0
    assert ledger.unanswered[0] == {  # when, and what it had: a release left out, a pedal
        "start_s": 10.0, "end_s": 12.0, "rest_s": 14.0, "dropped": 1, "burst": False,
        "pedal": True, "releases_lost_before": 1,
    }  # fmt: skip
    assert [u["start_s"] for u in ledger.unanswered] == [10.0, 26.0]
    assert ledger.unanswered[1]["releases_lost_before"] == 1  # within held_key_seconds
    assert row["latency_n"] == 1 and row["latency_p50_ms"] == pytest.approx(2.0)


@pytest.mark.jack
def test_soak_minute_answers_every_phrase_and_leaves_nothing_stuck(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    require_jackd()
    monkeypatch.setenv(ENV, f"improviser-absent-{uuid.uuid4().hex[:8]}")
    # A longer JACK period leaves a busy 2-core machine room before a client overruns.
    out = CliRunner().invoke(
        bench_app,
        ["soak", "--minutes", "1", "--interval", "20", "--jack-period", "256", "--json"],
    )
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    rows, summary = result["rows"], result["summary"]
    assert len(rows) == 3
    assert summary["stuck"] == 0 and summary["left_sounding"] == 0
    assert summary["unanswered"] == 0 and summary["ends_unheard"] == 0
    assert summary["unanswered_phrases"] == [] and summary["unanswered_after_lost_release"] == 0
    assert summary["input_sent"] > 100 and 0 <= summary["input_lost"] < summary["input_sent"]
    assert summary["input_received"] + summary["input_lost"] == summary["input_sent"]
    assert summary["answered"] >= 5 and summary["answers"] >= summary["answered"]
    assert rows[-1]["anon_mb"] - rows[0]["anon_mb"] < MEMORY_BOUND_MB
    assert rows[-1]["tasks"] <= rows[0]["tasks"]
    assert sum(r["engine_n"] for r in rows) == rows[-1]["notes_in"]
    console = Console(record=True, width=80)
    bench_live.print_soak(result, console)
    text = console.export_text()
    assert "goals" in text and max(len(line) for line in text.splitlines()) <= 80


@pytest.mark.jack
def test_flood_never_deafens_nor_grows_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    require_jackd()
    monkeypatch.setenv(ENV, f"improviser-absent-{uuid.uuid4().hex[:8]}")
    out = CliRunner().invoke(
        bench_app, ["flood", "--rate", "5000", "--seconds", "2", "--jack-period", "256", "--json"]
    )
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    assert result["sent_total"] >= 10_000
    assert 0 < result["handled"] <= result["parsed"] <= result["arrived"]
    assert result["handled"] + result["queue_dropped"] == result["parsed"]
    assert result["anon_mb_peak"] - result["anon_mb_before"] < MEMORY_BOUND_MB
    assert result["after"]["answered"] is True
    console = Console(record=True, width=80)
    bench_live.print_flood(result, console)
    assert max(len(line) for line in console.export_text().splitlines()) <= 80
