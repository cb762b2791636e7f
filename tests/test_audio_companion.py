"""The synth companion in-process: which of a session's events it plays, and on what.

A real FluidSynth rendering offline (no audio driver) stands behind the companion, and a
real :class:`~improviser.live.events.EventBus` feeds it, as a session's would.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from improviser.audio import FluidSynth, SynthCompanion
from improviser.audio.output import choose_output
from improviser.config.synth import SynthConfig
from improviser.errors import ConfigError
from improviser.live.events import THRU, AnswerNote, EventBus, KeyChanged, PlayerNote
from tests.test_audio_render import require_synth

RATE = 48000


@dataclass
class BusOnly:
    """All the companion reads of a session: its bus."""

    bus: EventBus = field(default_factory=EventBus)


def offline(config: SynthConfig) -> SynthCompanion:
    """A companion whose synth renders on demand instead of into an audio output."""
    companion = SynthCompanion(config, jack_session=False)
    companion.synth = FluidSynth(config)
    return companion


def sound(companion: SynthCompanion, seconds: float = 0.5) -> npt.NDArray[np.float64]:
    assert companion.synth is not None
    block = companion.synth.block(int(seconds * RATE)).astype(np.float64) / 32768
    return block.mean(axis=1)


def spectrum(mono: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.abs(np.fft.rfft(mono * np.hanning(len(mono))))


def cosine(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_each_part_on_its_program_and_the_echo_not_twice() -> None:
    require_synth()
    companion = offline(SynthConfig(reverb=False))
    synth = companion.synth
    assert synth is not None
    try:
        companion.play(AnswerNote(0.0, 0, 60, 100, THRU))  # the player's echo: already heard
        companion.play(KeyChanged(0.0, "C major"))
        assert synth.voices() == 0 and np.abs(sound(companion)).max() < 1e-3  # dither only
        companion.play(PlayerNote(0.0, 0, 60, 100))
        player = sound(companion)
        companion.play(PlayerNote(0.5, 0, 60, 0))
        sound(companion, 2.0)
        assert synth.voices() == 0  # released: the note is over
        companion.play(AnswerNote(2.5, 3, 60, 100, "answer-1"))
        answer = sound(companion)
        companion.play(AnswerNote(3.0, 3, 60, 0, "answer-1"))
        assert companion.played == 2
        assert np.abs(player).max() > 0.01 and np.abs(answer).max() > 0.01
        assert cosine(spectrum(player), spectrum(answer)) < 0.8  # piano, then vibraphone
    finally:
        companion.close()
    assert companion.synth is None
    companion.close()  # twice is fine


async def test_it_plays_what_the_bus_carries_and_releases_all_when_cancelled() -> None:
    require_synth()
    companion = offline(SynthConfig())
    synth = companion.synth
    assert synth is not None
    session = BusOnly()
    task = asyncio.create_task(companion(session))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    session.bus.publish(PlayerNote(0.0, 0, 64, 90))
    session.bus.publish(AnswerNote(0.0, 0, 67, 90, "answer-1"))
    for _ in range(100):
        if companion.played == 2:
            break
        await asyncio.sleep(0.01)
    assert companion.played == 2
    sound(companion, 0.05)
    assert synth.voices() >= 2
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    sound(companion, 3.0)
    assert synth.voices() == 0  # every note released on leaving
    companion.close()


def test_the_output_follows_the_session_and_the_config() -> None:
    assert choose_output(SynthConfig(), jack_session=True).driver == "jack"
    jack = choose_output(SynthConfig(client_name="studio-synth"), jack_session=True)
    assert jack.settings["audio.jack.id"] == "studio-synth"
    assert jack.settings["audio.jack.autoconnect"] == 1
    assert choose_output(SynthConfig(audio="alsa"), jack_session=True).driver == "alsa"
    alsa = choose_output(SynthConfig(audio="alsa", device="hw:1"), jack_session=False)
    assert alsa.settings == {"audio.alsa.device": "hw:1"}
    into = choose_output(SynthConfig(file=Path("take.flac")), jack_session=True)
    assert into.driver == "file" and into.settings["audio.file.type"] == "flac"
    with pytest.raises(ConfigError, match=r"\.wav or \.flac"):
        choose_output(SynthConfig(file=Path("take.ogg")), jack_session=False)
