"""The replay guard: an answer develops the call instead of playing it back note for note.

Units on the listener (a uniform LSTM, so what moves is the short-term model and the
guard), the compiled draw under the guard, and the bundled model answering a call that
invites a replay.
"""

from __future__ import annotations

import numpy as np
import pytest

from improviser.bench.phrase_metrics import replay
from improviser.inference import NumpyEngine
from improviser.inference.generate import continue_tokens
from improviser.inference.native_draw import NativeDraw
from improviser.inference.numpy_engine import WIDTH
from improviser.music.encoding import decode
from improviser.music.listener import Listener, ListenParams
from improviser.music.replay import LONGEST, replay_match
from improviser.music.sampling import Sampler, SamplingParams
from improviser.paths import DEFAULT_MODEL

CALL = [62, 64, 65, 67, 69, 65, 62, 61, 62, 57, 58, 60, 62, 65, 64, 62]
UNIFORM = np.full(128, 1 / 128)
GUARDS = [("penalty", 0.01), ("stm", 0.0), ("discount", 0.1)]
"""Each guard with a penalty that keeps it off a near-certain replay."""
CUT = {"penalty": 0.1, "stm": 0.1, "discount": 0.7}
"""How far each guard at least cuts the replay's next note, against a uniform LSTM (the
discount only lowers the short-term model's weight: a confident one still counts)."""


def _params(guard: str, penalty: float = 0.01) -> ListenParams:
    return ListenParams(
        auto_key=False,
        register=False,
        replay_guard=guard,  # type: ignore[arg-type]
        replay_penalty=penalty,
    )


def _after(params: ListenParams, heard: list[int], ahead: list[int]) -> np.ndarray:
    """The shaped uniform prediction after hearing ``heard`` and playing ``ahead``."""
    listener = Listener(params)
    for pitch in heard:
        listener.hear(pitch)
    for pitch in ahead:
        listener.look_ahead(pitch)
    shaped = listener.shape(UNIFORM)
    out: np.ndarray = shaped / shaped.sum()
    return out


def test_replay_match_finds_the_run_and_what_followed_it() -> None:
    history = [*CALL, *CALL[:6]]
    assert replay_match(history, 6) == (6, [CALL[6]])
    assert replay_match(history, 7) == (0, [])
    assert replay_match([*CALL, *CALL[:9]], 6) == (9, [CALL[9]])
    assert replay_match([60, 62, 60, 62, 60], 3) == (3, [62])  # the run may overlap itself
    assert replay_match([], 6) == (0, [])


def _brute_force(history: list[int], notes: int, horizon: int) -> tuple[int, list[int]]:
    """Every earlier end j, the run ending there compared note by note."""
    n, best, followers = len(history), 0, list[int]()
    for j in range(max(0, n - 1 - horizon), n - 1):
        run = 0
        while run < LONGEST and run <= j and history[j - run] == history[n - 1 - run]:
            run += 1
        if run >= notes:
            best, followers = max(best, run), [*followers, history[j + 1]]
    return best, followers


@pytest.mark.parametrize("seed", range(20))
def test_replay_match_agrees_with_a_brute_force_search(seed: int) -> None:
    rng = np.random.default_rng(seed)
    motif = [int(p) for p in rng.integers(55, 70, size=int(rng.integers(4, 12)))]
    history: list[int] = []
    while len(history) < 140:  # a motif coming back, varied, among random notes
        history += motif if rng.random() < 0.5 else [int(p) for p in rng.integers(55, 70, 5)]
        if rng.random() < 0.3:
            motif[int(rng.integers(len(motif)))] += 1
    for end in range(1, len(history) + 1):
        for notes in (3, 6):
            seen = history[:end]
            assert replay_match(seen, notes, 96) == _brute_force(seen, notes, 96)
            found = replay_match(seen, notes, 96, measure=False)
            assert found[1] == _brute_force(seen, notes, 96)[1]


@pytest.mark.parametrize(("guard", "penalty"), GUARDS)
def test_a_call_that_would_be_replayed_is_varied(guard: str, penalty: float) -> None:
    # The answer so far is the call's first 6 notes: its 7th is what a replay plays next.
    ahead, nxt = CALL[:6], CALL[6]
    free = _after(_params("off"), CALL, ahead)
    guarded = _after(_params(guard, penalty), CALL, ahead)
    assert int(np.argmax(free)) == nxt  # unguarded, the short-term model carries the replay
    assert guarded[nxt] < free[nxt] * CUT[guard]
    # Shorter than replay_notes: not yet a replay, nothing changes.
    assert np.allclose(
        _after(_params(guard, penalty), CALL, CALL[:5]), _after(_params("off"), CALL, CALL[:5])
    )


@pytest.mark.parametrize(("guard", "penalty"), GUARDS)
def test_a_repeated_motif_is_still_taken_up(guard: str, penalty: float) -> None:
    motif = [62, 65, 69, 67]
    heard = [*motif, 60, 58, 57, *motif, 55, 53]  # played twice, in between other notes
    ahead = motif[:3]
    free = _after(_params("off"), heard, ahead)
    guarded = _after(_params(guard, penalty), heard, ahead)
    assert int(np.argmax(guarded)) == motif[3]
    assert guarded[motif[3]] == pytest.approx(free[motif[3]])


@pytest.mark.parametrize(("guard", "penalty"), GUARDS)
def test_a_transposed_recurrence_is_left_alone(guard: str, penalty: float) -> None:
    up = [p + 2 for p in CALL[:7]]  # the call's opening a tone higher: developed, not replayed
    free = _after(_params("off"), CALL, up)
    guarded = _after(_params(guard, penalty), CALL, up)
    assert np.allclose(guarded, free)
    assert int(np.argmax(guarded)) == CALL[7] + 2  # the interval viewpoint carries it on


def test_the_penalty_is_what_replay_penalty_says() -> None:
    free = _after(_params("off"), CALL, CALL[:6])
    soft = _after(_params("penalty", 1.0), CALL, CALL[:6])
    assert np.allclose(soft, free)  # 1: no guard
    hard = _after(_params("penalty", 0.0), CALL, CALL[:6])
    assert hard[CALL[6]] == 0.0


@pytest.mark.parametrize(("guard", "penalty"), GUARDS)
def test_the_compiled_draw_applies_the_guard_as_python_does(guard: str, penalty: float) -> None:
    sampler = Sampler(SamplingParams(top_p=0.95, min_pitch=36, max_pitch=96))
    listener = Listener(_params(guard, penalty))
    for pitch in CALL:
        listener.hear(pitch)
    for pitch in CALL[:7]:
        listener.look_ahead(pitch)
    native = NativeDraw(WIDTH)
    rng = np.random.default_rng(5)
    for draw in range(60):
        probs = np.zeros((4, WIDTH))
        for row, size in enumerate((128, 17, 16, 8)):
            probs[row, :size] = rng.dirichlet(np.full(size, 0.3))
        a, b = np.random.default_rng(draw), np.random.default_rng(draw)
        expected = sampler.sample_padded(listener.shape_padded(probs), a)
        assert native.draw(probs, sampler, listener, b) == expected


def test_the_bundled_model_develops_a_call_it_would_replay() -> None:
    """A call whose second half repeats its first invites a replay: unguarded the answers
    play 8 notes of it in order more often than not; guarded, none does, and the answers
    still take up its 4-note shapes."""
    engine = NumpyEngine.from_file(DEFAULT_MODEL)
    phrase = [(62, 5), (64, 5), (65, 5), (67, 5), (69, 6), (67, 5), (65, 5), (64, 6)]
    call = np.asarray([(p, 6 if i else 0, d, 5) for i, (p, d) in enumerate(phrase * 2)], np.int32)
    params = SamplingParams(min_pitch=36, max_pitch=96)

    def answers(guard: str) -> list[float]:
        listen = ListenParams(replay_guard=guard, replay_penalty=0.0)  # type: ignore[arg-type]
        rng = np.random.default_rng(0)
        out = []
        for _ in range(12):
            tokens = continue_tokens(engine, call, 24, params, rng, 1.0, listen)
            out.append(replay(decode(tokens), decode(call)))
        return out

    assert sum(answers("off")) >= 6
    assert sum(answers("penalty")) == 0
