"""``improviser bench e2e --synth``: the synth off beside on, through a real JACK server.

Few notes, and nothing asserts on a timing: the result must be well-formed, the synth
must have sounded the notes of the on runs (both parts), and the table must say so.
"""

from __future__ import annotations

import json
import math
import threading
import time
import uuid

import pytest
from rich.console import Console
from typer.testing import CliRunner

from improviser.bench.e2e_synth import thread_cpu
from improviser.cli import bench_tables
from improviser.cli.bench import bench_app
from improviser.harness.jackserver import ENV
from tests.jack import require_jackd
from tests.test_audio_render import require_synth

pytestmark = pytest.mark.jack


def test_bench_e2e_with_the_synth_reports_both_arms(monkeypatch: pytest.MonkeyPatch) -> None:
    require_jackd()
    require_synth()
    monkeypatch.setenv(ENV, f"improviser-absent-{uuid.uuid4().hex[:8]}")
    notes = 10
    out = CliRunner().invoke(
        bench_app,
        ["e2e", "--untrained", "--notes", str(notes), "--min-gap", "0.08", "--max-gap",
         "0.12", "--phrases", "0", "--synth", "--synth-rounds", "2", "--json"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    result = json.loads(out.stdout)
    synth = result["synth"]
    assert synth["rounds"] == 2 and [r["order"] for r in synth["per_round"]] == [
        ["off", "on"],
        ["on", "off"],
    ]
    for arm in (synth["off"], synth["on"]):
        assert arm["engine"]["n"] > 0 and arm["e2e"]["n"] > 0
        assert math.isfinite(arm["engine"]["p99_ms"]) and arm["cpu_s_per_min"] > 0
    # Two on runs, each: the player's notes that reached the session and their answers.
    assert synth["synth_notes_played"] >= synth["on"]["engine"]["n"] * 2
    assert synth["synth_events_dropped"] == 0
    # FluidSynth's own threads (its JACK client renders there) were found and timed
    assert synth["synth_threads"] >= 1 and synth["off"]["synth_threads_cpu_s_per_min"] == 0
    assert 0 <= synth["synth_threads_cpu_s_per_min"] <= synth["on"]["cpu_s_per_min"]
    added = synth["on"]["engine"]["p99_ms"] - synth["off"]["engine"]["p99_ms"]
    assert synth["engine_added_p99_ms"] == added
    console = Console(record=True, width=250)
    monkeypatch.setattr(bench_tables, "report", lambda: console)
    bench_tables.print_e2e(result)
    assert "synth (2 rounds off/on" in console.export_text()


def test_thread_cpu_times_each_thread_apart() -> None:
    """A thread that spins for 0.3 s shows it as its own CPU time; the main thread, which
    waits for it, does not."""
    done = threading.Event()
    ids: list[int] = []

    def spin() -> None:
        ids.append(threading.get_native_id())
        end = time.perf_counter() + 0.3
        while time.perf_counter() < end:
            pass
        done.wait()

    before = thread_cpu()
    worker = threading.Thread(target=spin)
    worker.start()
    time.sleep(0.5)
    after = thread_cpu()
    done.set()
    worker.join()
    main = threading.get_native_id()
    assert ids[0] not in before and after[ids[0]] >= 0.1
    assert after[main] - before[main] < 0.1
