"""Listening through a real JACK server: a low call in D minor is answered low and in key
by the bundled model, the key is published, the collector is settled."""

from __future__ import annotations

import asyncio
import statistics
from pathlib import Path

import pytest

from improviser.harness.player import VirtualPlayer
from improviser.inference import NumpyEngine
from improviser.live.events import KeyChanged
from improviser.live.session.session import LiveSession
from improviser.music.key import parse_key
from improviser.paths import DEFAULT_MODEL
from tests.test_live_jack import config, phrase, wait_for

pytestmark = pytest.mark.jack
LOW_D_MINOR = [38, 40, 41, 43, 45, 46, 45, 43, 41, 40, 38, 37, 38, 41, 45, 50]
"""D2 up to D3 and back: below anything in the bundled corpus."""


async def test_a_low_call_is_answered_low_and_in_key(player: VirtualPlayer, tmp_path: Path) -> None:
    cfg = config(tmp_path, answer_notes=12, phrase_gap=0.3)
    keys: list[str | None] = []
    async with LiveSession(cfg, model=NumpyEngine.from_file(DEFAULT_MODEL)) as session:
        engine = session.engine
        assert engine is not None
        assert "improviser.gc" in {t.get_name() for t in asyncio.all_tasks()}
        session.bus.observe(lambda e: keys.append(e.key) if isinstance(e, KeyChanged) else None)
        await asyncio.sleep(0.1)
        await player.play(phrase(LOW_D_MINOR))
        await wait_for(lambda: session.stats.answers >= 1 and engine.status == "listening")
    answer = [pitch for _, _, pitch in player.tracker.ons]
    assert len(answer) == 12
    assert keys[-1] == "D minor"
    call_mean = statistics.fmean(LOW_D_MINOR)
    # In the call's register: every note within the register window around the call's
    # mean (live.register_span, 12), and the answer's mean within a fifth of it (the fault
    # this guards, an answer an octave or two up, moves it by 12 or 24).
    assert all(abs(p - round(call_mean)) <= 12 for p in answer), answer
    assert abs(statistics.fmean(answer) - call_mean) < 7, answer
    in_key = sum(parse_key("D minor").contains(p) for p in answer) / len(answer)
    assert in_key >= 0.8
    assert player.tracker.stuck() == []
