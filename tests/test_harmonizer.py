"""The harmonizer on a random-weights harmony model (no TensorFlow): its masks, its
causality, the same voices on both engines, its state."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from improviser.bench.harmony_metrics import VoicedPiece, parallels
from improviser.errors import ModelError
from improviser.inference import NativeEngine, NumpyEngine, random_weights, write_weights
from improviser.inference.harmonizer import VOICE_RANGES, Harmonizer, HarmonyParams, Voicing
from improviser.inference.native_draw import NativeRowDraw
from improviser.inference.native_engine import native_available
from improviser.inference.weights import LstmWeights
from improviser.music.key import Key
from improviser.music.sampling import sample_field
from improviser.music.voicing import HARMONY_FIELDS, HARMONY_VOCAB

Onset = tuple[int, int, int]


def harmony_weights(units: tuple[int, ...] = (24, 12), seed: int = 0) -> LstmWeights:
    """A random harmony model; scale 1 spreads its predictions over many pitches."""
    return random_weights(
        units, 6, seed, 1.0, inputs=HARMONY_VOCAB, outputs={"value": 128}, kind="harmony"
    )


WEIGHTS = harmony_weights()
onsets = st.lists(
    st.tuples(st.integers(1, 127), st.integers(0, 3), st.integers(0, 16)), min_size=1, max_size=40
)


def _run(harmonizer: Harmonizer, melody: list[Onset], settle: bool = True) -> list[Voicing]:
    voices = []
    for pitch, metre, ioi in melody:
        voices.append(harmonizer.voice(pitch, metre, ioi))
        if settle:
            harmonizer.settle()
    return voices


def _melody(count: int, seed: int) -> list[Onset]:
    rng = np.random.default_rng(seed)
    pitches = 67 + np.cumsum(rng.integers(-3, 4, count)).clip(-12, 12)
    return [(int(p), int(rng.integers(0, 4)), int(rng.integers(1, 9))) for p in pitches]


@settings(max_examples=60, deadline=None)
@given(
    melody=onsets,
    seed=st.integers(0, 2**32 - 1),
    temperature=st.sampled_from([0.5, 1.0, 2.0]),
    top_p=st.sampled_from([1.0, 0.9, 0.3]),
)
def test_every_voice_is_a_rest_or_in_range_ordered_and_never_above_the_melody(
    melody: list[Onset], seed: int, temperature: float, top_p: float
) -> None:
    params = HarmonyParams(temperature=temperature, top_p=top_p)
    harmonizer = Harmonizer(NumpyEngine(WEIGHTS), params, seed)
    for (pitch, _, _), voicing in zip(melody, _run(harmonizer, melody), strict=True):
        below = 1
        for v, value in enumerate(voicing):
            if value == 0:
                continue
            lo, hi = VOICE_RANGES[v]
            assert lo <= value <= hi
            assert below <= value <= pitch
            below = value


@settings(max_examples=30, deadline=None)
@given(melody=onsets, seed=st.integers(0, 2**32 - 1), native=st.booleans())
def test_no_parallel_fifths_or_octaves_when_they_are_avoided(
    melody: list[Onset], seed: int, native: bool
) -> None:
    engine = NativeEngine(WEIGHTS) if native and native_available() else NumpyEngine(WEIGHTS)
    voices = _run(Harmonizer(engine, seed=seed), melody)
    piece = VoicedPiece(
        tuple(m for m, _, _ in melody),
        tuple(float(i) for i in range(len(melody))),
        tuple(metre for _, metre, _ in melody),
        tuple(voices),
        Key(0, "major"),
    )
    assert parallels(piece)[0] == 0


def test_a_random_model_moves_in_parallels_when_they_are_allowed() -> None:
    # the rule above is what removes them (the property is not met by chance)
    melody = _melody(300, seed=8)
    allowed = HarmonyParams(avoid_parallels=False)
    voices = _run(Harmonizer(NumpyEngine(WEIGHTS), allowed, seed=1), melody)
    piece = VoicedPiece(
        tuple(m for m, _, _ in melody),
        tuple(float(i) for i in range(len(melody))),
        tuple(metre for _, metre, _ in melody),
        tuple(voices),
        Key(0, "major"),
    )
    assert parallels(piece)[0] > 0


def test_the_voices_are_not_always_rests() -> None:
    # The masks leave room: a random model voices most onsets (the property above is not
    # met by silence alone).
    voices = _run(Harmonizer(NumpyEngine(WEIGHTS), seed=1), _melody(200, seed=1))
    sounding = sum(v != 0 for voicing in voices for v in voicing)
    assert sounding > len(voices)


@settings(max_examples=25, deadline=None)
@given(
    prefix=onsets,
    first=onsets,
    second=onsets,
    seed=st.integers(0, 2**32 - 1),
)
def test_the_voices_at_an_onset_do_not_depend_on_the_melody_after_it(
    prefix: list[Onset], first: list[Onset], second: list[Onset], seed: int
) -> None:
    a = _run(Harmonizer(NumpyEngine(WEIGHTS), seed=seed), prefix + first)
    b = _run(Harmonizer(NumpyEngine(WEIGHTS), seed=seed), prefix + second, settle=False)
    assert a[: len(prefix)] == b[: len(prefix)]


def test_settling_changes_nothing_it_only_moves_work_into_the_pause() -> None:
    melody = _melody(60, seed=2)
    settled = _run(Harmonizer(NumpyEngine(WEIGHTS), seed=5), melody, settle=True)
    unsettled = _run(Harmonizer(NumpyEngine(WEIGHTS), seed=5), melody, settle=False)
    assert settled == unsettled


@pytest.mark.skipif(not native_available(), reason="the compiled step is not built")
@pytest.mark.parametrize(
    "params",
    [HarmonyParams(1.0, top_p=1.0), HarmonyParams(0.7, top_p=0.9), HarmonyParams(1.3, top_k=5)],
    ids=["plain", "t0.7-p0.9", "t1.3-k5"],
)
def test_numpy_and_the_compiled_engine_give_the_same_voices_with_the_same_seed(
    params: HarmonyParams,
) -> None:
    melody = _melody(300, seed=3)
    for seed in (0, 1):
        numpy = _run(Harmonizer(NumpyEngine(WEIGHTS), params, seed), melody)
        native = _run(Harmonizer(NativeEngine(WEIGHTS), params, seed), melody)
        assert numpy == native


@pytest.mark.skipif(not native_available(), reason="the compiled step is not built")
@pytest.mark.parametrize(
    ("temperature", "top_k", "top_p"), [(1.0, 0, 1.0), (0.8, 0, 0.9), (1.0, 7, 0.95)]
)
def test_the_compiled_row_draw_is_sample_field(
    temperature: float, top_k: int, top_p: float
) -> None:
    draw = NativeRowDraw(128, temperature, top_k, top_p)
    rng = np.random.default_rng(0)
    for _ in range(300):
        probs = rng.dirichlet(np.full(128, 0.3))
        lo, hi = sorted(int(v) for v in rng.integers(1, 128, 2))
        banned = [int(v) for v in rng.integers(lo, hi + 1, int(rng.integers(0, 4)))]
        mask = np.zeros(128, dtype=bool)
        mask[lo : hi + 1] = True
        mask[banned] = False
        mask[0] = True
        a, b = np.random.default_rng(1), np.random.default_rng(1)
        expected = sample_field(
            probs, a, temperature=temperature, top_k=top_k, top_p=top_p, allowed=mask
        )
        assert draw.draw(probs, lo, hi, b, banned) == expected
        assert a.random() == b.random()  # one uniform taken by each
    empty = np.zeros(128)
    empty[5] = 1.0
    untouched = np.random.default_rng(2)
    assert draw.draw(empty, 10, 20, untouched) is None
    assert untouched.random() == np.random.default_rng(2).random()  # nothing drawn


def test_the_same_seed_gives_the_same_voices_and_another_seed_others() -> None:
    melody = _melody(80, seed=4)
    one = _run(Harmonizer(NumpyEngine(WEIGHTS), seed=7), melody)
    assert one == _run(Harmonizer(NumpyEngine(WEIGHTS), seed=7), melody)
    assert one != _run(Harmonizer(NumpyEngine(WEIGHTS), seed=8), melody)


def test_snapshot_restore_and_reset_return_to_what_was_heard() -> None:
    melody = _melody(30, seed=5)
    harmonizer = Harmonizer(NumpyEngine(WEIGHTS), seed=9)
    _run(harmonizer, melody[:10], settle=False)  # the last alto not yet heard
    state = harmonizer.snapshot()
    rng_state = harmonizer.rng.bit_generator.state
    after = _run(harmonizer, melody[10:])
    _run(harmonizer, _melody(7, seed=6))  # wander off
    harmonizer.restore(state)
    harmonizer.rng.bit_generator.state = rng_state
    assert harmonizer.onsets == 10
    assert _run(harmonizer, melody[10:]) == after
    harmonizer.reset(seed=9)
    assert harmonizer.onsets == 0
    fresh = _run(Harmonizer(NumpyEngine(WEIGHTS), seed=9), melody)
    assert _run(harmonizer, melody) == fresh


def test_hold_hears_the_kept_voices_as_the_model_would_have_drawn_them() -> None:
    melody = _melody(12, seed=7)
    drawn = Harmonizer(NumpyEngine(WEIGHTS), seed=3)
    voices = _run(drawn, melody[:6])
    held = Harmonizer(NumpyEngine(WEIGHTS), seed=3)
    for (pitch, metre, ioi), voicing in zip(melody[:6], voices, strict=True):
        held.hold(pitch, metre, ioi, voicing)
    held.rng.bit_generator.state = drawn.rng.bit_generator.state
    assert _run(held, melody[6:]) == _run(drawn, melody[6:])


def test_a_model_that_is_not_a_harmony_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="a harmony model reads value, role, metre, ioi"):
        Harmonizer(NumpyEngine(random_weights((8,))))
    write_weights(random_weights((8,)), tmp_path / "melody.npz")
    with pytest.raises(ModelError, match="a melody model, not a harmony model"):
        Harmonizer.from_file(tmp_path / "melody.npz")
    small = random_weights((8,), inputs=HARMONY_VOCAB, outputs={"value": 64}, kind="harmony")
    with pytest.raises(ModelError, match="predicts 128 values, not 64"):
        Harmonizer(NumpyEngine(small))


def test_from_file_loads_the_model_on_the_engine_asked_for(tmp_path: Path) -> None:
    write_weights(WEIGHTS, tmp_path / "h.npz")
    harmonizer = Harmonizer.from_file(tmp_path / "h.keras", engine="numpy", seed=1)
    assert type(harmonizer.engine) is NumpyEngine
    assert harmonizer.engine.inputs == HARMONY_FIELDS


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ((0, 0, 0), "melody must be in range 1..127"),
        ((60, 4, 0), "metre must be in range 0..3"),
        ((60, 0, 17), "ioi must be in range 0..16"),
    ],
)
def test_an_onset_out_of_range_is_refused(call: Onset, message: str) -> None:
    harmonizer = Harmonizer(NumpyEngine(WEIGHTS))
    with pytest.raises(ValueError, match=message):
        harmonizer.voice(*call)
    with pytest.raises(ValueError, match=message):
        harmonizer.hold(*call, (0, 0, 0))
    assert harmonizer.onsets == 0


def test_parameters_are_checked() -> None:
    with pytest.raises(ValueError, match="temperature"):
        HarmonyParams(temperature=0)
    with pytest.raises(ValueError, match="top_p"):
        HarmonyParams(top_p=0)
    with pytest.raises(ValueError, match="ranges"):
        HarmonyParams(ranges=((0, 10), (20, 30), (30, 40)))
