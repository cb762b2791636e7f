"""The call's rhythmic motifs and the pace guard (improviser/music/rhythm_memory.py)."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from improviser.config import GenerateConfig
from improviser.inference.answer import AnswerDraw, AnswerLimits, draw_answer
from improviser.inference.context import ModelContext
from improviser.music.encoding import (
    DURATION_BEATS,
    IOI_BEATS,
    PITCHES,
    VELOCITY_BINS,
    Distribution,
    Token,
)
from improviser.music.rhythm import CallRhythm
from improviser.music.rhythm_memory import Pace, PaceGuard, RhythmMemory, median_class
from improviser.music.sampling import Sampler, SamplingParams

EIGHTH = IOI_BEATS.index(0.5)
QUARTER = IOI_BEATS.index(1.0)
HALF = IOI_BEATS.index(2.0)
DUR_EIGHTH = DURATION_BEATS.index(0.5)


class StickyModel:
    """A model that settles in the note value it last heard: the next IOI is the last
    one with probability 0.9 (the habit the rhythm memory is for), pitches a step up."""

    def reset(self) -> None:
        pass

    def step(self, token: Token) -> Distribution:
        ioi = np.full(len(IOI_BEATS), 0.02 / (len(IOI_BEATS) - 3))
        ioi[[EIGHTH, QUARTER]] = 0.04
        ioi[token.ioi if token.ioi in (EIGHTH, QUARTER) else QUARTER] = 0.9
        ioi[0] = 0.0  # never a chord: the answers stay measurable
        pitch = np.zeros(PITCHES)
        pitch[min(token.pitch + 2, 80)] = 1.0
        duration = np.zeros(len(DURATION_BEATS))
        duration[DUR_EIGHTH] = 1.0
        return Distribution(pitch, ioi / ioi.sum(), duration, np.full(VELOCITY_BINS, 1 / 8))

    def snapshot(self) -> object:
        return None

    def restore(self, state: object) -> None:
        pass


def _call() -> list[Token]:
    """Eighth, eighth, quarter, four times over: a call that mixes the two values."""
    iois = [QUARTER] + [EIGHTH, EIGHTH, QUARTER] * 4
    return [Token(60 + i % 5, ioi, DUR_EIGHTH, 4) for i, ioi in enumerate(iois)]


def _eighths_share(memory: float, guard: float = 1.0, answers: int = 40) -> float:
    """The share of eighths in ``answers`` 24-note answers of the sticky model to the call,
    drawn by the answer path with the rhythm tilt off (the memory or guard alone)."""
    rng = np.random.default_rng(7)
    sampler = Sampler(SamplingParams())
    share = []
    for _ in range(answers):
        context = ModelContext(StickyModel(), window=16)
        call = _call()
        context.prime(call)
        rhythm = CallRhythm.from_tokens(call, 0.0, None, memory, guard)
        drawn = draw_answer(context, AnswerDraw(AnswerLimits(24), rhythm, None), sampler, rng)
        iois = [d.token.ioi for d in drawn[1:]]
        share.append(iois.count(EIGHTH) / len(iois))
    return float(np.mean(share))


def test_a_call_in_eighths_and_quarters_keeps_its_eighths_with_the_memory() -> None:
    without = _eighths_share(0.0)
    with_memory = _eighths_share(0.5)
    # the sticky model drifts into one value and stays; the memory brings the mix back
    assert with_memory > without + 0.1
    assert with_memory == pytest.approx(8 / 12, abs=0.2)  # the call: 8 eighths in 12 IOIs
    assert _eighths_share(0.0, guard=0.2) > without + 0.1  # the guard alone, too


def test_the_memory_echoes_the_calls_motif() -> None:
    memory = RhythmMemory([EIGHTH, EIGHTH, QUARTER] * 4, 1.0)
    seen, escape = memory.predict([EIGHTH, EIGHTH])
    assert int(np.argmax(seen)) == QUARTER  # after two eighths the call played a quarter
    seen, escape = memory.predict([QUARTER, EIGHTH])
    assert int(np.argmax(seen)) == EIGHTH
    assert seen.sum() + escape == pytest.approx(1.0)
    assert 0 < escape < 0.2


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.7, 1.0])
def test_the_memory_never_removes_all_probability(weight: float) -> None:
    rng = np.random.default_rng(1)
    memory = RhythmMemory([EIGHTH, QUARTER, EIGHTH, EIGHTH], weight)
    for _ in range(50):
        lstm = rng.dirichlet(np.full(len(IOI_BEATS), 0.2))
        lstm[[EIGHTH, QUARTER]] = 0.0  # the model expects none of the call's values
        history = list(rng.choice([EIGHTH, QUARTER, HALF], size=3))
        mixed = memory.mix(lstm / lstm.sum(), history)
        assert mixed.sum() == pytest.approx(1.0)
        assert np.all(mixed >= 0)
        if weight < 1:  # the escape goes to the LSTM: what it expects stays possible
            assert np.all(mixed[lstm > 0] > 0)


def _weights(guard: PaceGuard, iois: list[int]) -> object:
    pace = Pace(None, guard)
    for ioi in [HALF, *iois]:  # the first IOI (the gap from the call) is not counted
        pace.played(ioi)
    return guard.weights(pace.long, pace.short, pace.total)


def test_the_pace_guard_weighs_the_drifting_side_and_never_all() -> None:
    guard = PaceGuard(EIGHTH, 0.0)
    weights = _weights(guard, [QUARTER] * 3)
    assert isinstance(weights, np.ndarray)
    assert weights[QUARTER] == weights[HALF] == 0.0 and weights[EIGHTH] == 1.0
    # the median is on the call's pace, but 3 in 7 are long: guarded before it is off
    assert _weights(guard, [QUARTER] * 3 + [EIGHTH] * 4) is weights
    assert _weights(guard, [QUARTER] * 3 + [EIGHTH] * 5) is None  # 3 in 8: on pace
    assert _weights(guard, [QUARTER, EIGHTH]) is None  # too few to judge
    short = _weights(guard, [IOI_BEATS.index(0.25)] * 4)  # sixteenths to a call in eighths
    assert isinstance(short, np.ndarray)
    assert short[IOI_BEATS.index(0.25)] == 0.0 and short[EIGHTH] == short[QUARTER] == 1.0
    pace = Pace(None, guard)
    for ioi in [HALF] * 6:
        pace.played(ioi)
    only_long = np.zeros(len(IOI_BEATS))
    only_long[HALF] = 1.0
    assert pace.shape(only_long).sum() == pytest.approx(1.0)  # nothing left: left alone
    assert median_class([0, 0, 2, 1]) == 2 and median_class([0, 0, 1, 1]) == 2
    assert median_class([0, 0]) is None


def test_the_first_ioi_is_context_not_pace() -> None:
    pace = Pace(RhythmMemory([EIGHTH, QUARTER], 0.5), PaceGuard(EIGHTH, 0.5))
    pace.played(HALF)
    pace.played(EIGHTH)
    assert (pace.total, pace.long, pace.short) == (1, 0, 0)
    assert pace.history[-2:] == [HALF, EIGHTH]


@pytest.mark.parametrize("key", ["rhythm_memory", "rhythm_guard"])
@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_the_settings_are_bounded(key: str, value: float) -> None:
    with pytest.raises(ValidationError, match=key):
        GenerateConfig.model_validate({key: value})
    with pytest.raises(ValueError, match=r"range 0\.\.1"):
        if key == "rhythm_memory":
            RhythmMemory([EIGHTH], value)
        else:
            PaceGuard(EIGHTH, value)


def test_the_guard_wakes_as_the_answers_quantiles_say() -> None:
    """The running counts decide as the quantiles of the answer's IOIs would."""
    rng = np.random.default_rng(3)
    classes = [IOI_BEATS.index(b) for b in (0.25, 1 / 3, 0.5, 0.75, 1.0, 1.5, 2.0)]
    for median in (EIGHTH, QUARTER):
        guard = PaceGuard(median, 0.0)
        high, low = IOI_BEATS[median] * 1.5, IOI_BEATS[median] / 1.5
        for _ in range(300):
            iois = [int(c) for c in rng.choice(classes, size=int(rng.integers(3, 20)))]
            beats = sorted(IOI_BEATS[c] for c in iois)

            def quantile(q: float, beats: list[float] = beats) -> float:
                return next(b for i, b in enumerate(beats) if i + 1 >= q * len(beats))

            want = None
            if quantile(0.6) >= high:
                want = "long"
            elif 0 < quantile(0.4) <= low:
                want = "short"
            got = _weights(guard, iois)
            assert got is (None if want is None else getattr(guard, f"_{want}"))
