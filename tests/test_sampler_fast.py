"""The vectorized Sampler draws the notes the reference sample() draws."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from improviser.inference import NumpyEngine, random_weights
from improviser.music.encoding import FIELDS, VOCAB_SIZES, Distribution, Token
from improviser.music.sampling import Sampler, SamplingParams, sample

PARAMS = [
    SamplingParams(),
    SamplingParams(top_p=0.95, min_pitch=21, max_pitch=108),
    SamplingParams(temperature=0.7, top_k=10),
    SamplingParams(temperature=1.6, top_k=5, top_p=0.8, pitch_classes=frozenset({0, 2, 4, 7})),
    SamplingParams(top_p=0.3, min_pitch=60, max_pitch=72, pitch_classes=frozenset({1, 6})),
]


def _dists(count: int, scale: float = 1.5) -> list[Distribution]:
    engine = NumpyEngine(random_weights((24, 12), scale=scale, seed=4))
    rng = np.random.default_rng(9)
    cols = [rng.integers(0, VOCAB_SIZES[f], count) for f in FIELDS]
    return [engine.step(Token(*(int(c[i]) for c in cols))) for i in range(count)]


@pytest.mark.parametrize("params", PARAMS, ids=lambda p: repr(p)[15:60])
def test_sampler_draws_what_sample_draws(params: SamplingParams) -> None:
    dists = _dists(400)
    ref_rng, fast_rng = np.random.default_rng(3), np.random.default_rng(3)
    sampler = Sampler(params)
    want = [sample(d, params, ref_rng) for d in dists]
    got = [sampler.sample(d, fast_rng) for d in dists]
    assert got == want
    assert len(set(got)) > 20  # the draws do vary: the comparison means something
    assert ref_rng.random() == fast_rng.random()  # the generator was consumed alike


def test_sampler_on_engine_padded_probs_matches_distribution_path() -> None:
    engine = NumpyEngine(random_weights((16,), seed=2))
    sampler = Sampler(PARAMS[1])
    a_rng, b_rng = np.random.default_rng(5), np.random.default_rng(5)
    for pitch in range(40, 80):
        engine.reset()
        probs = engine.step_probs(Token(pitch, 1, 2, 3))
        engine.reset()
        dist = engine.step(Token(pitch, 1, 2, 3))
        assert sampler.sample_padded(probs, a_rng) == sampler.sample(dist, b_rng)


def test_sampler_fallbacks_match_sample() -> None:
    # All the mass outside the allowed range, then on one excluded pitch: the rule's
    # relaxations, and an all-zero field (argmax, no draw).
    pitch = np.zeros(128)
    pitch[10] = 1.0
    others = [np.full(VOCAB_SIZES[f], 1.0 / VOCAB_SIZES[f]) for f in FIELDS[1:]]
    peaked = Distribution(pitch, *others)
    zero = Distribution(np.zeros(128), *others)
    for dist in (peaked, zero):
        for params in PARAMS:
            ref_rng, fast_rng = np.random.default_rng(1), np.random.default_rng(1)
            want = [sample(dist, params, ref_rng) for _ in range(20)]
            assert [Sampler(params).sample(dist, fast_rng) for _ in range(20)] == want


@settings(max_examples=60, deadline=None)
@given(
    temperature=st.floats(0.2, 3.0),
    top_k=st.integers(0, 128),
    top_p=st.floats(0.05, 1.0),
    lo=st.integers(0, 127),
    width=st.integers(0, 127),
    seed=st.integers(0, 2**32 - 1),
)
def test_sampler_matches_sample_for_any_params(
    temperature: float, top_k: int, top_p: float, lo: int, width: int, seed: int
) -> None:
    params = SamplingParams(
        temperature=temperature,
        top_k=top_k,
        top_p=top_p,
        min_pitch=lo,
        max_pitch=min(127, lo + width),
    )
    dists = _dists(15, scale=2.0)
    ref_rng, fast_rng = np.random.default_rng(seed), np.random.default_rng(seed)
    sampler = Sampler(params)
    assert [sampler.sample(d, fast_rng) for d in dists] == [
        sample(d, params, ref_rng) for d in dists
    ]
