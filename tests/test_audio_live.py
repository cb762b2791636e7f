"""``improviser live --synth`` under a private JACK server: the session is heard.

The session runs as a process (as a musician starts it), its MIDI through JACK; the
synth's audio ports appear, are connected to the system's playback, and a JACK client
of the test's own, listening to the left port, hears silence before any note and sound
once the player plays. Everything started here is stopped by PID (the server by its
fixture, the session by the test).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import jack
import numpy as np
import pytest
import soundfile

from improviser.harness.jackserver import JackServer
from improviser.harness.player import VirtualPlayer
from improviser.inference import random_weights, write_weights
from tests.test_audio_render import require_synth
from tests.test_live_process import play, stop, wait_until

pytestmark = pytest.mark.jack
ROOT = Path(__file__).resolve().parent.parent
CLIENT = "improviser-synth"
SILENCE = 1e-3


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    write_weights(random_weights(seed=2), path.with_suffix(".npz"))
    return path


class Ear:
    """A JACK client of the test's own: the loudest sample of each cycle on its port."""

    def __init__(self) -> None:
        self.client = jack.Client("synth-ear", no_start_server=True)
        self.port = self.client.inports.register("in")
        self.peaks: list[float] = []
        self._lock = threading.Lock()
        self.client.set_process_callback(self._process)

    def _process(self, frames: int) -> None:
        peak = float(np.abs(self.port.get_array()).max())
        with self._lock:
            self.peaks.append(peak)

    def take(self) -> list[float]:
        """The peaks heard since the last call."""
        with self._lock:
            peaks, self.peaks = self.peaks, []
        return peaks

    def close(self) -> None:
        self.client.deactivate()
        self.client.close()


@pytest.fixture
def ear(jack_server: JackServer) -> Iterator[Ear]:
    listener = Ear()
    listener.client.activate()
    try:
        yield listener
    finally:
        listener.close()


def start_live(tmp_path: Path, model: Path, *synth: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "improviser", "live", "--api", "jack",
         "--in", "demo-keys", "--out", "demo-synth", "--model", str(model),
         "--engine", "numpy", "--no-record", *(synth or ["--synth"])],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip


def wait_ready(proc: subprocess.Popen[str]) -> list[str]:
    """The lines of stderr up to the one that says the session listens."""
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if "listening on" in line:
            return lines
    raise AssertionError(f"live exited ({proc.wait()}) before listening: {''.join(lines)}")


def test_live_synth_plays_through_jack(
    player: VirtualPlayer, ear: Ear, model_path: Path, tmp_path: Path
) -> None:
    require_synth()
    proc = start_live(tmp_path, model_path)
    try:
        log = "".join(wait_ready(proc))
        assert f"JACK as {CLIENT}" in log, log
        ports = {p.name for p in ear.client.get_ports(f"{CLIENT}:", is_audio=True)}
        assert ports == {f"{CLIENT}:left", f"{CLIENT}:right"}, ports
        left = ear.client.get_port_by_name(f"{CLIENT}:left")
        playback = [p.name for p in ear.client.get_all_connections(left)]
        assert any(name.startswith("system:playback") for name in playback), playback
        ear.client.connect(f"{CLIENT}:left", ear.port)
        ear.take()
        wait_until(lambda: len(ear.peaks) >= 20)  # ~0.4 s of cycles, at the tests' period
        before = ear.take()
        assert max(before) < SILENCE, max(before)  # nothing played yet: nothing heard
        play(player, [60, 64, 67, 72])
        heard: list[float] = []

        def loud() -> bool:
            heard.extend(ear.take())
            return bool(heard) and max(heard) > 10 * SILENCE

        wait_until(loud)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        stop(proc)
    time.sleep(0.1)
    assert not ear.client.get_ports(f"{CLIENT}:")  # the synth's client is gone with it


def test_live_synth_file_is_complete_after_sigterm(
    player: VirtualPlayer, model_path: Path, tmp_path: Path
) -> None:
    """``--synth-file``: the sound goes into the file, finished when the session stops."""
    require_synth()
    take = tmp_path / "take.flac"
    proc = start_live(tmp_path, model_path, "--synth-file", str(take))
    try:
        log = "".join(wait_ready(proc))
        assert f"into {take}" in log, log
        time.sleep(0.5)
        play(player, [60, 64, 67, 72])
        wait_until(lambda: len(player.tracker.ons) >= 1)  # the answer is under way
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        stop(proc)
    audio, rate = soundfile.read(take)
    level = np.abs(audio).max(axis=1)
    assert rate == 48000 and len(audio) > rate  # more than a second of it
    assert level[: rate // 4].max() < SILENCE  # nothing before the first note
    assert level.max() > 10 * SILENCE  # the notes


def test_demo_leaves_a_wav_beside_its_recording(jack_server: JackServer, tmp_path: Path) -> None:
    """What ``make demo`` runs: the session's .mid, and beside it the .wav to listen to;
    with ``--json`` its summary as the manual's table reads it."""
    require_synth()
    record, summary = tmp_path / "demo.mid", tmp_path / "demo.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "improviser", "demo", "--untrained", "--phrases", "1",
         "--api", "jack", "--engine", "numpy", "--record", str(record), "--json", str(summary)],
        capture_output=True, text=True, timeout=120, check=False, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"wrote {record.with_suffix('.wav')}" in done.stderr
    figures = json.loads(summary.read_text())
    assert figures["phrases"] == figures["answers"] == 1 and figures["stuck_notes"] == 0
    assert figures["notes_out"] > 0 and figures["response_sent"]["p50_ms"] > 0
    assert len(figures["loadavg_after"]) == 3
    audio, rate = soundfile.read(record.with_suffix(".wav"))
    assert rate == 48000 and np.abs(audio).max() > 10 * SILENCE
