"""The short-term model's counts in C: the same counts and distributions as in Python,
room made once for a bounded model, growth past it for an unbounded one."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from improviser.music import ppm_native
from improviser.music.ppm import ContextCounts
from improviser.music.ppm_native import NativeCounts, native_counts_available
from improviser.music.stm import ShortTermModel

Counts = ContextCounts | NativeCounts


def test_the_c_counts_are_built() -> None:
    assert native_counts_available(), "the C counts were not built: pip install -e . needs gcc"


def _same(python: ContextCounts, native: NativeCounts) -> None:
    assert native.levels == python.levels
    assert native.totals == python.totals


# An operation: (history, symbol, add?) over a small vocabulary, so contexts recur.
ops = st.lists(
    st.tuples(st.lists(st.integers(0, 4), max_size=6), st.integers(0, 4), st.booleans()),
    max_size=60,
)


@settings(max_examples=80, deadline=None)
@given(ops=ops, order=st.integers(0, 4), probe=st.lists(st.integers(0, 4), max_size=6))
def test_c_counts_match_python_through_adds_and_removes(
    ops: list[tuple[list[int], int, bool]], order: int, probe: list[int]
) -> None:
    python, native = ContextCounts(order, 5), NativeCounts(order, 5, reserve=4)
    added: list[tuple[list[int], int]] = []
    for history, symbol, add in ops:
        if add or not added:
            python.add(history, symbol)
            native.add(history, symbol)
            added.append((history, symbol))
        else:  # take back an earlier add, not always the last
            earlier, what = added.pop(len(added) // 2)
            python.remove(earlier, what)
            native.remove(earlier, what)
        _same(python, native)
    for h in (probe, *(h for h, _ in added[-3:])):
        np.testing.assert_allclose(
            native.distribution(h), python.distribution(h), rtol=1e-12, atol=1e-15
        )
    for history, symbol in reversed(added):
        native.remove(history, symbol)
    assert all(not level for level in native.levels)


def test_removing_what_was_never_counted_changes_nothing() -> None:
    counts = NativeCounts(2, 10)
    counts.add([1, 2], 3)
    before = counts.levels
    with pytest.raises(KeyError, match="never counted"):
        counts.remove([1, 2], 4)  # the context is there, the symbol is not
    with pytest.raises(KeyError, match="never counted"):
        counts.remove([5, 2], 3)  # the order-1 context is, the order-2 one is not
    assert counts.levels == before
    with pytest.raises(ValueError, match=r"0\.\.9"):
        counts.add([1], 10)


def test_the_tables_grow_past_their_reserve_and_stay_right() -> None:
    rng = np.random.default_rng(5)
    seq = [int(x) for x in rng.integers(0, 40, 3000)]
    python, native = ContextCounts(6, 40), NativeCounts(6, 40, reserve=16)
    first = native.capacity
    python.add_sequence(seq)
    native.add_sequence(seq)
    assert native.capacity[0] > first[0] and native.capacity[1] > first[1]
    _same(python, native)
    np.testing.assert_allclose(native.distribution(seq), python.distribution(seq), rtol=1e-12)


def _session(model: ShortTermModel, notes: int, seed: int) -> list[np.ndarray]:
    """Player notes, answers looked ahead and taken back; the predictions on the way."""
    rng = np.random.default_rng(seed)
    motifs = [list(rng.integers(55, 75, 6)) for _ in range(5)]
    seen = []
    for i in range(notes):
        for pitch in motifs[int(rng.integers(0, 5))][: int(rng.integers(2, 7))]:
            model.update(int(pitch) + int(rng.choice([0, 0, 5, -7])))
        if i % 3 == 0:
            snap = model.snapshot()
            for pitch in rng.integers(50, 80, 5):
                model.update(int(pitch), learn=bool(rng.random() < 0.5))
                seen.append(model.predict())
            model.restore(snap)
        seen.append(model.predict())
    return seen


def test_a_session_predicts_the_same_with_c_or_python_counts() -> None:
    native = ShortTermModel(max_notes=300, native=True)
    python = ShortTermModel(max_notes=300, native=False)
    assert native.native and not python.native
    for a, b in zip(_session(native, 600, 7), _session(python, 600, 7), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    assert native.pitch_counts.levels == python.pitch_counts.levels
    assert native.interval_counts.totals == python.interval_counts.totals


def test_a_bounded_model_makes_room_once() -> None:
    model = ShortTermModel(max_notes=500, native=True)
    counts = model.pitch_counts, model.interval_counts
    assert isinstance(counts[0], NativeCounts) and isinstance(counts[1], NativeCounts)
    room = [c.capacity for c in counts]
    assert all(c >= ((model.max_order + 1) * 500,) * 2 for c in room)
    _session(model, 1500, 3)  # ~6,000 notes: the model forgets all the time
    assert [c.capacity for c in counts] == room
    model.max_notes = 5000  # a larger bound (a control): room made now, not while playing
    assert all(c.capacity[0] >= (model.max_order + 1) * 5000 for c in counts)


def test_contexts_too_long_for_the_c_keys_count_in_python() -> None:
    assert not ShortTermModel(max_order=9).native  # 9 intervals of 8 bits: 72 bits
    with pytest.raises(ValueError, match="at most 8"):
        ShortTermModel(max_order=9, native=True)
    with pytest.raises(ValueError, match="64 bits"):
        NativeCounts(9, 255)


def test_without_the_library_the_model_counts_in_python(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ppm_native, "_library", lambda: None)
    from improviser.music import stm

    monkeypatch.setattr(stm, "native_counts_available", lambda: False)
    model = ShortTermModel(max_notes=100)
    assert not model.native and isinstance(model.pitch_counts, ContextCounts)
    with pytest.raises(ValueError, match="not built"):
        ShortTermModel(native=True)
    with pytest.raises(RuntimeError, match="not built"):
        NativeCounts(2, 10)
