"""Accompany through real JACK ports: ``improviser live --mode accompany`` as a process,
a melody played into it by an outside client, the voices heard at the synth, every one
released, both parts recorded."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from improviser.harness.player import VirtualPlayer
from improviser.inference import random_weights, write_weights
from improviser.music.midi_read import read_midi
from improviser.music.voicing import HARMONY_VOCAB
from tests.test_live_process import play, start_live, stop, wait_ready, wait_until

pytestmark = pytest.mark.jack


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A melody and a harmony model of random weights (the plumbing, not the music)."""
    folder = tmp_path_factory.mktemp("models")
    melody, harmony = folder / "tiny.keras", folder / "harmony.keras"
    write_weights(random_weights(seed=2), melody.with_suffix(".npz"))
    weights = random_weights(
        (24,), 8, 3, inputs=HARMONY_VOCAB, outputs={"value": 128}, kind="harmony"
    )
    write_weights(weights, harmony.with_suffix(".npz"))
    return melody, harmony


def test_a_melody_is_accompanied_and_every_voice_released(
    player: VirtualPlayer, models: tuple[Path, Path], tmp_path: Path
) -> None:
    melody, harmony = models
    proc = start_live(tmp_path, melody, "--mode", "accompany", "--harmony-model", str(harmony))
    try:
        log = "".join(wait_ready(proc))
        assert "harmony: harmony.keras on" in log
        time.sleep(0.2)
        tune = [72, 74, 76, 77, 79, 77, 76, 74]
        play(player, tune)
        wait_until(lambda: len(player.tracker.ons) >= len(tune))  # voices at the synth
        heard = [p for _, _, p in player.tracker.ons]
        assert all(p < max(tune) for p in heard)  # under the melody
        # the player stopped: the voices are released accompany_release (0.3 s) later
        wait_until(lambda: player.tracker.stuck() == [], timeout=5.0)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        stop(proc)
    time.sleep(0.1)
    assert player.tracker.stuck() == []
    score = read_midi(tmp_path / "take.mid")
    player_notes = [n for n in score.notes if n.track == 1]
    voices = [n for n in score.notes if n.track == 2]
    assert 1 <= len(player_notes) <= len(tune)  # JACK may drop a cycle on a busy machine
    assert len(voices) >= len(tune) // 2 and all(n.duration > 0 for n in voices)


def test_accompany_without_a_harmony_model_is_one_line_and_exit_2(
    player: VirtualPlayer, models: tuple[Path, Path], tmp_path: Path
) -> None:
    melody, _ = models
    proc = start_live(
        tmp_path, melody, "--mode", "accompany", "--harmony-model", str(tmp_path / "no.keras")
    )
    try:
        rc = proc.wait(timeout=30)
        assert proc.stderr is not None
        said = proc.stderr.read()
    finally:
        stop(proc)
    assert rc == 2
    lines = [line for line in said.splitlines() if line.strip()]
    assert len(lines) == 1 and "harmony model not found" in lines[0], said
