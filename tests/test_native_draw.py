"""The compiled draw: the listener's reshaping and the sampler, note for note as in Python."""

from __future__ import annotations

import numpy as np
import pytest

from improviser.inference import NativeEngine, NumpyEngine, random_weights
from improviser.inference.context import ModelContext
from improviser.inference.native_draw import NativeDraw
from improviser.inference.numpy_engine import WIDTH
from improviser.music.encoding import FIELDS, VOCAB_SIZES, Token
from improviser.music.key import parse_key
from improviser.music.listener import Listener, ListenParams
from improviser.music.sampling import Sampler, SamplingParams

SAMPLINGS = [
    SamplingParams(),  # plain CDF on every row
    SamplingParams(top_p=0.95, min_pitch=36, max_pitch=96),  # the live defaults
    SamplingParams(temperature=0.7, top_k=5),
    SamplingParams(temperature=1.4, top_p=0.8, pitch_classes=frozenset({0, 2, 4, 5, 7, 9, 11})),
]
LISTENINGS = [
    None,
    ListenParams(),  # short-term model, auto key, register
    ListenParams(short_term=False, key=parse_key("D minor"), auto_key=False, scale_strength=1.0),
    ListenParams(register=False, short_term_bias=0.0, short_term_weight=2.0),
    ListenParams(auto_key=False, register_span=6),
]
MELODY = [50, 52, 53, 55, 57, 55, 53, 52, 50, 45, 50, 53, 57, 62, 60, 58]


def _prediction(rng: np.random.Generator) -> np.ndarray:
    probs = np.zeros((len(FIELDS), WIDTH))
    for i, f in enumerate(FIELDS):
        n = VOCAB_SIZES[f]
        probs[i, :n] = rng.dirichlet(np.full(n, rng.choice([0.05, 0.3, 2.0])))
    return probs


def _listener(params: ListenParams | None, heard: int) -> Listener | None:
    if params is None:
        return None
    listener = Listener(params)
    for pitch in MELODY[:heard]:
        listener.hear(pitch)
    return listener


@pytest.mark.parametrize("sampling", range(len(SAMPLINGS)))
@pytest.mark.parametrize("listening", range(len(LISTENINGS)))
def test_the_compiled_draw_draws_what_python_draws(sampling: int, listening: int) -> None:
    sampler = Sampler(SAMPLINGS[sampling])
    native = NativeDraw(WIDTH)
    rng = np.random.default_rng(100 * sampling + listening)
    for heard in range(0, len(MELODY), 3):  # no note heard yet, then more and more
        listener = _listener(LISTENINGS[listening], heard)
        for draw in range(40):
            probs = _prediction(rng)
            a, b = np.random.default_rng(draw), np.random.default_rng(draw)
            shaped = probs if listener is None else listener.shape_padded(probs)
            expected = sampler.sample_padded(shaped, a)
            assert native.draw(probs, sampler, listener, b) == expected
            assert a.random() == b.random()  # the generator consumed alike


def test_a_fallback_rule_draws_through_python_alike() -> None:
    sampler = Sampler(SamplingParams(top_p=0.9, min_pitch=60, max_pitch=72))
    probs = _prediction(np.random.default_rng(0))
    probs[0, :] = 0.0
    probs[0, 20] = 1.0  # every pitch allowed has probability 0: sample_field's rule applies
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    expected = sampler.sample_padded(probs, a)
    assert NativeDraw(WIDTH).draw(probs, sampler, None, b) == expected
    assert a.random() == b.random()


def test_the_native_engine_draws_compiled_and_a_seeded_run_matches_numpy() -> None:
    weights = random_weights((24, 12))
    tokens = [Token(p, 4, 4, 3) for p in MELODY]
    runs = []
    for engine in (NumpyEngine(weights), NativeEngine(weights)):
        context = ModelContext(engine, listener=Listener(ListenParams()))
        sampler = Sampler(SAMPLINGS[1])
        rng = np.random.default_rng(7)
        drawn = []
        for token in tokens:
            context.hear(token)
            drawn.append(context.draw(sampler, rng))
        runs.append(drawn)
    assert (ModelContext(NativeEngine(weights)))._native_draw is not None
    assert (ModelContext(NumpyEngine(weights)))._native_draw is None
    # The steps agree to float32 rounding, so the draws are the same notes.
    assert runs[0] == runs[1]
