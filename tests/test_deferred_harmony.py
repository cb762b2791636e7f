"""The harmony model's listening in the pause: same onsets, same order, bounded."""

from __future__ import annotations

import pytest

from improviser.config.live import LiveConfig
from improviser.inference import NumpyEngine, random_weights
from improviser.inference.harmonizer import Harmonizer, HarmonyParams
from improviser.live.engine.deferred_harmony import HOLDS_KEPT, DeferredHarmony
from improviser.music.voicing import HARMONY_VOCAB


def harmonizer(seed: int = 4, params: HarmonyParams | None = None) -> Harmonizer:
    weights = random_weights(
        (16,), 6, 1, inputs=HARMONY_VOCAB, outputs={"value": 128}, kind="harmony"
    )
    return Harmonizer(NumpyEngine(weights), params, seed=seed)


CALL = [(72, 0, 0, (48, 0, 55)), (74, 1, 5, (50, 0, 57)), (76, 1, 5, (0, 0, 0))]


def test_holds_wait_for_the_pause_and_draw_what_holding_at_once_draws() -> None:
    at_once, deferred = harmonizer(), DeferredHarmony(harmonizer())
    for melody, metre, ioi, voices in CALL:
        at_once.hold(melody, metre, ioi, voices)
        deferred.hold(melody, metre, ioi, voices)
    assert deferred.harmony.onsets == 0  # type: ignore[attr-defined]
    deferred.settle()
    assert deferred.harmony.onsets == 3  # type: ignore[attr-defined]
    assert tuple(deferred.voice(77, 0, 5)) == tuple(at_once.voice(77, 0, 5))


def test_a_draw_or_a_snapshot_hears_what_waits_first() -> None:
    at_once, deferred = harmonizer(), DeferredHarmony(harmonizer())
    for melody, metre, ioi, voices in CALL:
        at_once.hold(melody, metre, ioi, voices)
        deferred.hold(melody, metre, ioi, voices)
    state = deferred.snapshot()
    first = tuple(deferred.voice(79, 1, 5))
    assert first == tuple(at_once.voice(79, 1, 5))
    deferred.hold(60, 0, 0, (0, 0, 0))
    deferred.restore(state)  # what waited after the snapshot is dropped with it
    assert deferred.harmony.onsets == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize("pause", [False, True])
def test_a_revised_hold_is_heard_as_if_the_melody_note_had_come_alone(pause: bool) -> None:
    """A chord tone held, then the melody note over it at the same onset: the model hears
    the melody note over the chord, once. ``pause``: the chord tone's hold was stepped
    before the revision (it is taken back), or still waited (it is replaced)."""
    at_once, deferred = harmonizer(), DeferredHarmony(harmonizer())
    for melody, metre, ioi, voices in CALL[:2]:
        at_once.hold(melody, metre, ioi, voices)
        deferred.hold(melody, metre, ioi, voices)
    at_once.hold(79, 0, 5, (48, 0, 64))
    deferred.hold(64, 0, 5, (48, 0, 0))  # the chord tone, heard as the melody first
    if pause:
        deferred.settle()
        assert deferred.harmony.onsets == 3  # type: ignore[attr-defined]
    assert deferred.revise_hold(79, (48, 0, 64))
    deferred.settle()
    assert deferred.harmony.onsets == 3  # type: ignore[attr-defined]
    assert tuple(deferred.voice(81, 1, 5)) == tuple(at_once.voice(81, 1, 5))


def test_revised_voices_are_drawn_as_if_the_melody_note_had_come_alone() -> None:
    greedy = HarmonyParams(top_k=1)  # the same draws whatever the generator did before
    at_once, deferred = harmonizer(params=greedy), DeferredHarmony(harmonizer(params=greedy))
    at_once.hold(*CALL[0])
    deferred.hold(*CALL[0])
    under_tone = tuple(deferred.voice(64, 1, 5))
    revised = deferred.revise_voice(79)
    assert revised is not None and tuple(revised) == tuple(at_once.voice(79, 1, 5))
    assert max(under_tone) <= 64 and deferred.harmony.onsets == 2  # type: ignore[attr-defined]
    assert deferred.revise_hold(81, (0, 0, 0)) is False  # the last onset was drawn
    assert tuple(deferred.voice(81, 0, 5)) == tuple(at_once.voice(81, 0, 5))


def test_nothing_is_revised_after_a_restore_nor_a_drawn_onset_held_again() -> None:
    deferred = DeferredHarmony(harmonizer())
    state = deferred.snapshot()
    deferred.hold(*CALL[0])
    deferred.restore(state)
    assert deferred.revise_hold(74, (0, 0, 0)) is False
    assert deferred.revise_voice(74) is None
    deferred.hold(*CALL[0])
    assert deferred.revise_voice(74) is None  # a held onset is revised as a hold


def test_a_flood_of_holds_never_grows_the_queue() -> None:
    deferred = DeferredHarmony(harmonizer())
    for i in range(3 * HOLDS_KEPT):
        deferred.hold(60 + i % 12, i % 4, i % 17, (0, 0, 0))
    assert len(deferred._holds) == HOLDS_KEPT
    deferred.settle()
    assert deferred.harmony.onsets == HOLDS_KEPT  # type: ignore[attr-defined]


def test_live_draws_the_voices_as_harmonize_does_by_default() -> None:
    params = HarmonyParams()
    live = LiveConfig()
    assert (live.harmony_temperature, live.harmony_top_p) == (params.temperature, params.top_p)
