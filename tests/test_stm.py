"""The short-term model, the context counts it shares with the baselines, and blending."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from improviser.music.blend import (
    BLEND_METHODS,
    arithmetic_blend,
    blend,
    entropy_weights,
    geometric_blend,
)
from improviser.music.encoding import Token
from improviser.music.ppm import ContextCounts
from improviser.music.stm import ShortTermModel

pitches = st.lists(st.integers(40, 90), max_size=60)
MOTIF = [60, 62, 64, 65, 67, 64, 60, 55]


def _state(counts: ContextCounts) -> list[dict[tuple[int, ...], dict[int, int]]]:
    return [{key: dict(followers) for key, followers in level.items()} for level in counts.levels]


def _trained(seq: list[int], **kwargs: int | bool | float) -> ShortTermModel:
    stm = ShortTermModel(**kwargs)  # type: ignore[arg-type]
    for pitch in seq:
        stm.update(pitch)
    return stm


def test_counts_after_updates() -> None:
    stm = _trained([60, 62, 60], max_order=2)
    levels = _state(stm.pitch_counts)
    assert levels[0] == {(): {60: 2, 62: 1}}
    assert levels[1] == {(60,): {62: 1}, (62,): {60: 1}}
    assert levels[2] == {(60, 62): {60: 1}}
    # intervals +2 and -2 are symbols 129 and 125
    assert _state(stm.interval_counts)[:2] == [{(): {129: 1, 125: 1}}, {(129,): {125: 1}}]
    assert stm.notes == 3


def test_a_token_counts_as_its_pitch() -> None:
    a = _trained([60, 62])
    b = ShortTermModel()
    b.update(Token(60, 1, 2, 3))
    b.update(np.array([62, 0, 0, 0], dtype=np.int32))
    assert np.array_equal(a.predict(), b.predict())


@settings(max_examples=60, deadline=None)
@given(seq=pitches, order=st.integers(0, 6), intervals=st.booleans())
def test_predictions_are_distributions(seq: list[int], order: int, intervals: bool) -> None:
    p = _trained(seq, max_order=order, intervals=intervals).predict()
    assert p.shape == (128,)
    assert p.sum() == pytest.approx(1.0) and (p > 0).all()


def test_an_empty_model_predicts_uniformly() -> None:
    assert np.allclose(ShortTermModel().predict(), 1 / 128)


def test_a_motif_heard_once_is_expected_when_it_starts_again() -> None:
    stm = _trained([*MOTIF, 50, 52, *MOTIF[:3]], intervals=False)
    p = stm.predict()
    assert int(np.argmax(p)) == MOTIF[3] and p[MOTIF[3]] > 0.5


def test_with_intervals_a_motif_is_expected_in_another_key() -> None:
    heard = [*MOTIF, 50, 52, *(x + 5 for x in MOTIF[:3])]
    with_intervals = _trained(heard).predict()
    assert int(np.argmax(with_intervals)) == MOTIF[3] + 5
    assert with_intervals[MOTIF[3] + 5] > 0.2
    pitch_only = _trained(heard, intervals=False).predict()
    assert with_intervals[MOTIF[3] + 5] > 10 * pitch_only[MOTIF[3] + 5]


@settings(max_examples=60, deadline=None)
@given(before=pitches, after=pitches, intervals=st.booleans())
def test_restore_takes_back_exactly(before: list[int], after: list[int], intervals: bool) -> None:
    stm = _trained(before, max_order=4, intervals=intervals)
    fresh = _trained(before, max_order=4, intervals=intervals)
    snap = stm.snapshot()
    for pitch in after:
        stm.update(pitch)
    stm.restore(snap)
    assert _state(stm.pitch_counts) == _state(fresh.pitch_counts)
    assert _state(stm.interval_counts) == _state(fresh.interval_counts)
    assert np.array_equal(stm.predict(), fresh.predict())
    assert stm.notes == len(before)


def test_snapshots_nest_and_a_restored_one_stays_valid() -> None:
    stm = _trained(MOTIF[:2])
    outer = stm.snapshot()
    stm.update(64)
    inner = stm.snapshot()
    stm.update(65)
    stm.restore(outer)
    assert stm.notes == 2
    with pytest.raises(ValueError, match="snapshot"):
        stm.restore(inner)  # taken after the one restored
    stm.update(70)
    stm.restore(outer)  # again
    assert stm.notes == 2
    stm.reset()
    with pytest.raises(ValueError, match="snapshot"):
        stm.restore(outer)
    with pytest.raises(ValueError, match="snapshot"):
        stm.restore(ShortTermModel().snapshot())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"max_order": -1}, "max_order"), ({"viewpoint_bias": -0.5}, "viewpoint_bias")],
)
def test_bad_parameters_are_named(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ShortTermModel(**kwargs)  # type: ignore[arg-type]


def test_a_pitch_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match=r"0\.\.127"):
        ShortTermModel().update(128)


@settings(max_examples=40, deadline=None)
@given(seqs=st.lists(st.lists(st.integers(0, 9), max_size=20), max_size=4))
def test_context_counts_remove_undoes_add(seqs: list[list[int]]) -> None:
    counts = ContextCounts(3, 10)
    for seq in seqs:
        counts.add_sequence(seq)
    assert counts.distribution(seqs[-1] if seqs else []).sum() == pytest.approx(1.0)
    for seq in reversed(seqs):
        for i in range(len(seq) - 1, -1, -1):
            counts.remove(seq[max(0, i - 3) : i], seq[i])
    assert all(not level for level in counts.levels)


def _dist(logits: list[float]) -> np.ndarray:
    e = np.exp(np.asarray(logits, dtype=np.float64))
    out: np.ndarray = e / e.sum()
    return out


distributions = st.lists(st.floats(-8, 8), min_size=8, max_size=8).map(_dist)


@settings(max_examples=60, deadline=None)
@given(p=distributions, bias=st.floats(0, 4))
def test_blending_a_distribution_with_itself_gives_it_back(p: np.ndarray, bias: float) -> None:
    for method in (geometric_blend, arithmetic_blend):
        assert np.allclose(method((p, p, p), bias), p)


@settings(max_examples=60, deadline=None)
@given(a=distributions, b=distributions, bias=st.floats(0, 4))
def test_blends_are_distributions(a: np.ndarray, b: np.ndarray, bias: float) -> None:
    for method in BLEND_METHODS:
        p = blend((a, b), method=method, bias=bias)  # type: ignore[arg-type]
        assert p.sum() == pytest.approx(1.0) and (p >= 0).all()


def test_weights_favour_the_lower_entropy_model() -> None:
    sharp = _dist([6.0, 0, 0, 0, 0, 0, 0, 0])
    flat = np.full(8, 1 / 8)
    w = entropy_weights([sharp, flat], bias=1.0)
    assert w.sum() == pytest.approx(1.0) and w[0] > w[1]
    assert entropy_weights([sharp, flat], bias=3.0)[0] > w[0]  # more bias, more favour
    assert np.allclose(entropy_weights([sharp, flat], bias=0.0), 0.5)
    for method in BLEND_METHODS:
        p = blend((sharp, flat), method=method, bias=2.0)  # type: ignore[arg-type]
        assert p[0] > (sharp[0] + flat[0]) / 2  # nearer the confident model than the mean


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: blend([]), "nothing to blend"),
        (lambda: blend([np.ones(3) / 3, np.ones(4) / 4]), "one length"),
        (lambda: blend([np.ones(3) / 3], bias=-1), "bias"),
        (lambda: blend([np.ones(3) / 3], method="median"), "method"),  # type: ignore[arg-type]
    ],
)
def test_bad_blends_are_named(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


@settings(max_examples=60, deadline=None)
@given(seq=st.lists(st.integers(30, 100), min_size=1, max_size=80), order=st.integers(0, 8))
def test_the_live_one_pass_mean_is_the_blend_of_the_viewpoints(seq: list[int], order: int) -> None:
    from improviser.music.stm import _SPAN, PITCHES, _tail

    stm = _trained(seq, max_order=order)
    by_pitch = stm.pitch_counts.distribution(_tail(stm._pitches, order))
    steps = stm.interval_counts.distribution(_tail(stm._steps, order))
    by_interval = steps[_SPAN - seq[-1] : _SPAN - seq[-1] + PITCHES]
    expected = arithmetic_blend((by_pitch, by_interval / by_interval.sum()), 0.0)
    np.testing.assert_allclose(stm.predict(), expected, rtol=1e-12, atol=1e-15)


def test_a_bounded_model_remembers_only_its_last_notes() -> None:
    rng = np.random.default_rng(3)
    old = [int(p) for p in rng.integers(30, 40, 120)]  # material played long ago
    new = [int(p) for p in rng.integers(70, 80, 200)]
    bounded, full = ShortTermModel(max_notes=50), ShortTermModel()
    for pitch in old[:50]:  # within the bound: the same model, bit for bit
        bounded.update(pitch)
        full.update(pitch)
    np.testing.assert_array_equal(bounded.predict(), full.predict())
    for pitch in old[50:] + new:
        bounded.update(pitch)
    counts = bounded.pitch_counts
    assert counts.totals[0][()] == 50  # the order-0 context counts exactly the last 50
    for level in counts.levels:  # nothing of the old material is left, not even a context
        for context, followers in level.items():
            assert all(p >= 70 for p in context) and all(p >= 70 for p in followers)
    steps = bounded.interval_counts
    assert steps.totals[0][()] == 50
    assert bounded.predict()[30:40].max() < 1e-3  # forgotten: only the escape's share


def test_a_bounded_model_restores_and_keeps_counting_right() -> None:
    model = ShortTermModel(max_notes=10)
    for pitch in range(60, 75):
        model.update(pitch)
    snap = model.snapshot()
    for pitch in range(80, 90):  # learned after the snapshot: forgets every earlier note
        model.update(pitch)
    model.update(50, learn=False)  # context only: never counted, never forgotten
    assert model.pitch_counts.totals[0][()] == 10
    model.restore(snap)
    # back to the snapshot's notes, less those forgotten since (they stay forgotten)
    assert model.pitch_counts.totals[0].get((), 0) == 0 and model.notes == 15
    for pitch in range(60, 72):
        model.update(pitch)
    assert model.pitch_counts.totals[0][()] == 10
    assert sum(model.predict()) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="max_notes"):
        ShortTermModel(max_notes=0)


def _long_session(model: ShortTermModel, notes: int, seed: int) -> list[np.ndarray]:
    """A long session with answers tried out and taken back; the predictions on the way."""
    rng = np.random.default_rng(seed)
    seen = []
    for i in range(notes):
        model.update(int(rng.integers(60, 63)), learn=bool(rng.random() < 0.9))  # contexts recur
        if i % 97 == 0:  # an answer drawn, looked ahead, taken back
            snap = model.snapshot()
            for p in rng.integers(55, 80, 6):
                model.update(int(p), learn=False)
            model.restore(snap)
        if i % 89 == 0:
            model.snapshot()  # an answer adopted: its snapshot is never restored
        if i % 50 == 0:
            seen.append(model.predict())
    return seen


def test_a_bounded_model_drops_what_it_forgot_and_predicts_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from improviser.music import stm as stm_module

    monkeypatch.setattr(stm_module, "_TRIM_CHUNK", 10**9)  # the reference keeps everything
    reference = ShortTermModel(max_notes=300, max_order=3)
    expected = _long_session(reference, 6000, seed=4)
    monkeypatch.undo()
    model = ShortTermModel(max_notes=300, max_order=3)
    got = _long_session(model, 6000, seed=4)
    for a, b in zip(expected, got, strict=True):
        np.testing.assert_array_equal(a, b)
    assert model.notes == reference.notes == 6000
    assert len(reference._pitches) == 6000
    # The history holds the remembered notes, their contexts and at most a chunk more.
    bound = 300 + model.max_order + 1 + stm_module._TRIM_CHUNK
    assert len(model._pitches) <= bound and len(model._learned) == len(model._pitches)
    assert len(model._steps) == len(model._pitches) - 1
    # The snapshots of adopted answers older than that go too (taken every 89 and 97 notes).
    assert len(reference._open) > 6000 // 89
    assert len(model._open) <= bound // 89 + bound // 97 + 2


def test_a_snapshot_older_than_what_a_bounded_model_keeps_is_refused() -> None:
    model = ShortTermModel(max_notes=20, max_order=3)
    old = model.snapshot()
    for p in range(3000):
        model.update(50 + p % 20)
    with pytest.raises(ValueError, match="not valid"):
        model.restore(old)
