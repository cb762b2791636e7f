"""Listening: the short-term model live, the running key, the register (units and the
bundled model answering calls from C2 to C6)."""

from __future__ import annotations

import dataclasses
import statistics

import numpy as np
import pytest

from improviser.config import GenerateConfig, LiveConfig
from improviser.errors import ControlError
from improviser.inference import NumpyEngine
from improviser.inference.context import ModelContext
from improviser.inference.generate import continue_tokens
from improviser.live.events import KeyChanged
from improviser.music.encoding import Token
from improviser.music.key import Key, parse_key, scale_mask
from improviser.music.listener import Listener, ListenParams
from improviser.music.register import fold, register_window
from improviser.music.sampling import Sampler, SamplingParams
from improviser.music.stm import ShortTermModel
from improviser.paths import DEFAULT_MODEL
from tests.fakes import FakeClock, StepUpModel
from tests.test_live_units import make, off, on, play, run_until

MOTIF = [62, 64, 65, 67, 69, 65, 62, 61]
D_MINOR_TUNE = [62, 64, 65, 67, 69, 70, 69, 67, 65, 64, 62, 61, 62, 65, 69, 74]
UNIFORM = np.full(128, 1 / 128)
STM_ONLY = ListenParams(short_term=True, auto_key=False, register=False)


def _heard(pitches: list[int], params: ListenParams = STM_ONLY) -> Listener:
    listener = Listener(params)
    for pitch in pitches:
        listener.hear(pitch)
    return listener


# --- short-term model: context-only notes ---------------------------------------------------
def test_a_context_note_is_followed_but_not_counted() -> None:
    learned, followed = ShortTermModel(), ShortTermModel()
    for pitch in MOTIF:
        learned.update(pitch)
        followed.update(pitch)
    before = [dict(f) for level in followed.pitch_counts.levels for f in level.values()]
    snap = followed.snapshot()
    followed.update(MOTIF[0], learn=False)
    after = [dict(f) for level in followed.pitch_counts.levels for f in level.values()]
    assert after == before  # nothing counted
    learned.update(MOTIF[0])
    assert np.argmax(followed.predict()) == MOTIF[1]  # but it is the context
    followed.restore(snap)
    assert followed.notes == len(MOTIF)


# --- key and register -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "key"),
    [("D minor", Key(2, "minor")), ("f# major", Key(6, "major")), ("Bb minor", Key(10, "minor"))],
)
def test_parse_key(text: str, key: Key) -> None:
    assert parse_key(text) == key


@pytest.mark.parametrize("text", ["H minor", "D", "D dorian", "auto", ""])
def test_parse_key_refuses_other_text(text: str) -> None:
    with pytest.raises(ValueError, match="key must be"):
        parse_key(text)


def test_scale_mask_is_the_scale() -> None:
    mask = scale_mask(Key(0, "major"))
    assert [p for p in range(60, 72) if mask[p]] == [60, 62, 64, 65, 67, 69, 71]


@pytest.mark.parametrize("center", [0.0, 20.0, 40.5, 66.0, 100.0, 127.0])
def test_fold_keeps_each_pitch_class_within_the_window(center: float) -> None:
    probs = np.random.default_rng(0).random(128)
    probs /= probs.sum()
    folded = fold(probs, center, 12)
    lo, hi = register_window(center, 12)
    assert folded.sum() == pytest.approx(1.0)
    assert folded[:lo].sum() == 0 and folded[hi + 1 :].sum() == 0
    for pc in range(12):
        assert folded[pc::12].sum() == pytest.approx(probs[pc::12].sum())


def test_a_motif_heard_once_becomes_likely_in_another_key() -> None:
    listener = _heard([60, 62, 63, 67, 65, 64, 48, 50])
    p = listener.shape(UNIFORM)  # the LSTM knows nothing here
    for pitch in (51, 55, 53):  # the motif again, an octave lower: 48 50 51 55 53
        assert np.argmax(p) == pitch
        listener.look_ahead(pitch)
        p = listener.shape(UNIFORM)


def test_hard_key_lock_and_soft_weighting() -> None:
    hard = _heard(D_MINOR_TUNE, ListenParams(short_term=False, scale_strength=1.0, register=False))
    assert hard.key is not None and hard.key.name == "D minor"
    p = hard.shape(UNIFORM)
    assert p[~scale_mask(Key(2, "minor"))].sum() == 0
    soft = dataclasses.replace(hard.params, scale_strength=0.5)
    hard.params = soft
    q = hard.shape(UNIFORM)
    assert q[63] == pytest.approx(q[62] / 2)  # Eb weighed by 1 - 0.5


def test_a_set_key_wins_and_off_means_none() -> None:
    cfg = LiveConfig(key="Bb major")
    assert _heard(D_MINOR_TUNE, ListenParams.from_config(cfg)).key == parse_key("Bb major")
    cfg.key = "off"
    assert _heard(D_MINOR_TUNE, ListenParams.from_config(cfg)).key is None
    assert _heard(D_MINOR_TUNE[:3], ListenParams()).key is None  # too few notes yet


def test_snapshot_takes_back_what_was_looked_ahead() -> None:
    listener = _heard(MOTIF, ListenParams(learn_answers=True))
    expected = listener.shape(UNIFORM)
    snap = listener.snapshot()
    for pitch in (40, 41, 42):
        listener.look_ahead(pitch)
    listener.restore(snap)
    assert np.array_equal(listener.shape(UNIFORM), expected)


# --- the context ---------------------------------------------------------------------------
def test_context_snapshot_covers_the_listener() -> None:
    context = ModelContext(StepUpModel(), window=8, listener=Listener())
    for pitch in MOTIF:
        context.hear(Token(pitch, 1, 2, 3))
    before = context.snapshot()
    rng = np.random.default_rng(0)
    sampler = Sampler(SamplingParams())
    first = [context.draw(sampler, np.random.default_rng(1))]
    for _ in range(5):
        context.predict(context.draw(sampler, rng))
    context.take_back(before)
    assert [context.draw(sampler, np.random.default_rng(1))] == first
    assert context.listener is not None and context.listener.stm.notes == len(MOTIF)


# --- the bundled model answers in the call's octave and key ---------------------------------
@pytest.mark.parametrize("octave", [2, 3, 4, 5, 6])
def test_a_call_is_answered_in_its_octave_and_key(octave: int) -> None:
    shift = 12 * (octave + 1) - 60  # D_MINOR_TUNE is in octave 4 (C4 = 60)
    call = np.asarray([(p + shift, 6, 6, 4) for p in D_MINOR_TUNE], dtype=np.int32)
    engine = NumpyEngine.from_file(DEFAULT_MODEL)
    params = SamplingParams.from_config(LiveConfig().sampling)
    listen = ListenParams.from_config(LiveConfig())
    rng = np.random.default_rng(octave)
    answers = [continue_tokens(engine, call, 16, params, rng, listen=listen) for _ in range(4)]
    pitches = [int(p) for a in answers for p in a[:, 0]]
    call_mean = statistics.fmean(int(p) for p in call[:, 0])
    assert abs(statistics.fmean(pitches) - call_mean) < 6
    assert all(abs(p - call_mean) <= 12 for p in pitches)
    in_key = sum(Key(2, "minor").contains(p) for p in pitches) / len(pitches)
    assert in_key >= 0.9


# --- live: config, controls, the key published ------------------------------------------------
def test_generate_and_live_share_the_listening_options() -> None:
    assert ListenParams.from_config(GenerateConfig()) == ListenParams.from_config(LiveConfig())
    with pytest.raises(ValueError, match="key"):
        LiveConfig(key="H minor")


def test_the_key_is_published_and_set_by_a_control() -> None:
    clock = FakeClock()
    engine = make(clock, mode="follow")[0]
    keys: list[str | None] = []
    engine.bus.observe(lambda e: keys.append(e.key) if isinstance(e, KeyChanged) else None)
    for i, pitch in enumerate(D_MINOR_TUNE):
        engine.handle(on(pitch, i * 0.3))
    assert not keys  # estimated off the note path: published once the engine is idle
    engine.idle()
    assert keys[-1] == "D minor"
    assert engine.controls.apply("key", "G major", 10.0) == "G major"
    assert keys[-1] == "G major"
    assert engine.listener.key == parse_key("G major")
    with pytest.raises(ControlError, match="'key'"):
        engine.controls.apply("key", "Q minor", 10.0)
    engine.controls.apply("short_term", False, 10.0)
    assert not engine.listener.params.short_term


@pytest.mark.parametrize(("weight", "bias"), [(1.0, 0.75), (2.0, 0.0), (0.5, 1.5)])
def test_the_live_blend_is_blend_py_s_rule(weight: float, bias: float) -> None:
    from improviser.music.blend import entropy_weights

    listener = _heard(
        MOTIF, dataclasses.replace(STM_ONLY, short_term_weight=weight, short_term_bias=bias)
    )
    lstm = np.random.default_rng(1).dirichlet(np.ones(128))
    stm = listener.stm.predict()
    w = entropy_weights((lstm, stm), bias)
    w[1] *= weight
    np.testing.assert_allclose(listener.shape(lstm), (w[0] * lstm + w[1] * stm) / w.sum())


def test_settle_freezes_the_listeners_tables() -> None:
    import gc

    from improviser.live.session.gcpause import settle

    listener = _heard([60 + (i * 7) % 24 for i in range(300)])
    tables = listener.stm.pitch_counts.levels
    assert any(t is tables[1] for t in gc.get_objects())  # walked by a full collection
    settle()
    assert not any(t is tables[1] for t in gc.get_objects())  # frozen: never walked again


def test_heard_notes_wait_until_something_reads_what_was_heard() -> None:
    params = ListenParams()
    eager, lazy = Listener(params), _heard(D_MINOR_TUNE, params)
    for pitch in D_MINOR_TUNE:
        eager.hear(pitch)
        eager.settle()
    assert lazy._pending == D_MINOR_TUNE  # nothing taken in yet: hearing is a list append
    lstm = np.random.default_rng(2).dirichlet(np.ones(128))
    np.testing.assert_array_equal(lazy.shape(lstm), eager.shape(lstm))
    assert lazy.key == eager.key
    assert lazy.key is not None and lazy.key.name == "D minor"
    assert not lazy._pending
    with pytest.raises(ValueError, match="pitch"):
        lazy.hear(128)  # checked when heard, not when taken in


@pytest.mark.parametrize("listen_notes", [6, 24])
def test_the_key_prepared_while_idle_is_the_key_found_on_the_note(listen_notes: int) -> None:
    """Each next pitch class's key, found in a pause, is what the note then reads, through
    modulations, a full window and a change of parameters."""
    rng = np.random.default_rng(7)
    melody = D_MINOR_TUNE * 2 + [p + 5 for p in D_MINOR_TUNE] + list(rng.integers(40, 90, 60))
    params = ListenParams(listen_notes=listen_notes)
    ahead, plain = Listener(params), Listener(params)
    used = 0
    for i, pitch in enumerate(melody):
        ahead.prepare()
        used += ahead._next_keys is not None and ahead._next_keys[0] == ahead._heard
        ahead.hear(int(pitch))
        plain.hear(int(pitch))
        assert ahead.key == plain.key
        if i == 50:
            ahead.params = plain.params = ListenParams(listen_notes=listen_notes + 2)
    assert used >= len(melody) - 2  # the table was ready for (nearly) every note
    assert plain.key is not None


def test_follow_mode_reprimes_while_idle_not_on_the_note() -> None:
    clock = FakeClock()
    engine = make(clock, mode="follow", window=4)[0]
    for i in range(12):
        engine.handle(on(60 + i % 5, clock()))
        clock.advance(0.2)
        engine.handle(off(60 + i % 5, clock()))
        clock.advance(0.1)
    assert engine.context.since_reset == 12  # due (2 x window), left for a pause
    engine.idle()
    assert engine.context.since_reset == 4


def test_an_answer_cut_short_by_the_player_reprimes_in_the_next_pause_not_on_the_note() -> None:
    clock = FakeClock()
    engine, scheduler, *_ = make(
        clock, mode="call-response", window=4, context_includes_answer=False
    )
    play(engine, clock, [60, 62, 64, 65, 67, 65, 64, 62, 60])
    run_until(engine, scheduler, clock, clock() + 0.6)  # the phrase ends: the answer starts
    assert engine.mode.playing and engine.context.since_reset >= 8  # a re-prime is due
    due = engine.context.since_reset
    engine.handle(on(70, clock()))  # the player comes in: the answer stops
    assert not engine.mode.playing
    assert engine.context.since_reset == due + 1  # not re-primed on the note
    engine.idle()
    assert engine.context.since_reset == 4
