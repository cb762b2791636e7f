"""One path: ``generate`` answers a seed file as the live engine answers the same call.

The live side is the real engine (:class:`~improviser.live.engine.engine.Improviser`,
call-and-response mode) on a simulated clock (:func:`improviser.harness.call_player.
answer_call`): the call comes in key by key, the phrase ends ``phrase_gap`` after the last
release, the answer is planned on the beat. ``generate`` reads the same melody from a MIDI
file and writes its continuation; with the same settings and sampler seed both give the
same notes, onsets and note values included.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from improviser.config import GenerateConfig, LiveConfig, SamplingConfig, load_config
from improviser.errors import ConfigError
from improviser.harness.call_player import answer_call
from improviser.inference import NumpyEngine
from improviser.inference.answer import AnswerLimits, first_onset
from improviser.inference.generate import generate
from improviser.music.chord_lean import call_chord, strong_beat
from improviser.music.midi_read import read_midi
from improviser.music.midi_write import write_midi
from improviser.music.notes import Note
from improviser.paths import DEFAULT_MODEL

BPM = 120.0
PITCHES = [62, 64, 65, 67, 69, 65, 62, 61, 62, 64, 65, 67, 69, 70, 69, 67]
BEATS = [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7, 8]
DURATIONS = [0.4] * 15 + [1.5]
PHRASE_GAP = 0.7
Row = tuple[int, float, float, int]


def _seed(path: Path) -> Path:
    spb = 60.0 / BPM
    call = [
        Note(p, 80, b * spb, d * spb, 0, 0, b, d)
        for p, b, d in zip(PITCHES, BEATS, DURATIONS, strict=True)
    ]
    write_midi(path, [call], bpm=BPM)
    return path


def _rows(notes: list[Note]) -> list[tuple[int, float, float, int]]:
    return [
        (n.pitch, round(n.start_beats, 6), round(n.duration_beats, 6), n.velocity) for n in notes
    ]


def _both(
    tmp_path: Path, seed: int, **answer: object
) -> tuple[list[tuple[int, float, float, int]], list[tuple[int, float, float, int]]]:
    """generate's continuation and the live answer of the seed file, as rows."""
    file = _seed(tmp_path / "seed.mid")
    sampling = SamplingConfig(seed=seed, min_pitch=36, max_pitch=96)
    offline = GenerateConfig(sampling=sampling, answer_delay=PHRASE_GAP, **answer)
    result = generate(DEFAULT_MODEL, file, tmp_path / "out.mid", offline)
    live_cfg = LiveConfig(
        bpm=BPM,
        sync="fixed",
        phrase_gap=PHRASE_GAP,
        sampling=sampling,
        **answer,
    )
    live = answer_call(NumpyEngine.from_file(DEFAULT_MODEL), read_midi(file).notes, live_cfg)
    return _rows(result.notes), _rows(live)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_generate_and_a_live_answer_draw_the_same_notes(tmp_path: Path, seed: int) -> None:
    offline, live = _both(tmp_path, seed)
    assert len(live) >= 4
    assert offline == live
    other, _ = _both(tmp_path, seed + 100)
    assert other != offline  # the sampler's seed matters: the equality is not vacuous


@pytest.mark.parametrize(
    "answer",
    [
        {"rhythm_strength": 0.0, "answer_start": "bar"},
        {"answer_length": "beats", "answer_beats": 4.0, "replay_guard": "off"},
        {"answer_length": "notes", "answer_notes": 12, "key": "D minor"},
        {"rhythm_memory": 1.0, "rhythm_guard": 0.0, "answer_length": "beats"},
    ],
)
def test_the_paths_agree_whatever_the_answer_settings(
    tmp_path: Path, answer: dict[str, object]
) -> None:
    offline, live = _both(tmp_path, 3, **answer)
    assert offline == live
    if answer.get("answer_length") == "notes":
        assert len(live) == 12
    if answer.get("answer_start") == "bar":
        assert live[0][1] % 4 == 0


def test_answer_settings_are_read_from_one_place(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[answer]\nrhythm_strength = 0.5\nkey = "D minor"\n\n[live]\nkey = "off"\n')
    cfg = load_config(path)
    assert cfg.generate.rhythm_strength == cfg.live.rhythm_strength == 0.5
    assert cfg.generate.key == "D minor" and cfg.live.key == "off"  # a section's own key wins
    path.write_text("[answer]\nrhythm_strength = -1\n")
    with pytest.raises(ConfigError, match=r"'answer\.rhythm_strength'"):
        load_config(path)


def test_answer_limits_and_first_onset() -> None:
    cfg = GenerateConfig()
    assert AnswerLimits.of(cfg, 6.0) == AnswerLimits(64, 6.0)
    assert AnswerLimits.of(cfg, 6.0, notes=5) == AnswerLimits(5)
    bars = GenerateConfig(answer_length="bars", answer_bars=3, beats_per_bar=3)
    assert AnswerLimits.of(bars, 6.0).max_beats == 9.0
    assert first_onset("now", 9.4) == 9.4
    assert first_onset("beat", 9.4) == 10.0
    assert first_onset("beat", 10.0) == 10.0  # a beat reached exactly is taken
    assert first_onset("bar", 9.4, beats_per_bar=3) == 12.0


def _two_hand_seed(path: Path) -> Path:
    """The call over a left hand: D minor, then A7, whole bars held under the melody."""
    spb = 60.0 / BPM
    melody = [
        Note(p, 80, b * spb, d * spb, 0, 0, b, d)
        for p, b, d in zip(PITCHES, BEATS, DURATIONS, strict=True)
    ]
    left = [
        Note(p, 60, bar * spb, 3.9 * spb, 0, 1, bar, 3.9)
        for bar, chord in ((0.0, (50, 53, 57)), (4.0, (45, 49, 52, 55)), (8.0, (45, 49, 55)))
        for p in chord
    ]
    write_midi(path, [melody, left], bpm=BPM)
    return path


def _both_two_hands(tmp_path: Path, seed: int, lean: float) -> tuple[list[Row], list[Row]]:
    file = _two_hand_seed(tmp_path / "two.mid")
    sampling = SamplingConfig(seed=seed, min_pitch=36, max_pitch=96)
    offline = GenerateConfig(sampling=sampling, answer_delay=PHRASE_GAP, chord_lean=lean)
    result = generate(DEFAULT_MODEL, file, tmp_path / "out.mid", offline)
    live_cfg = LiveConfig(
        bpm=BPM, sync="fixed", phrase_gap=PHRASE_GAP, sampling=sampling, chord_lean=lean
    )
    engine = NumpyEngine.from_file(DEFAULT_MODEL)
    live = answer_call(engine, read_midi(file).notes, live_cfg, hands=2)
    return _rows(result.notes), _rows(live)


def test_a_two_hand_call_is_leant_on_alike_live_and_offline(tmp_path: Path) -> None:
    chord = call_chord(read_midi(_two_hand_seed(tmp_path / "c.mid")).notes[:16],
                       read_midi(tmp_path / "c.mid").notes)  # fmt: skip
    assert chord is not None and chord.name == "A7"
    changed = 0
    on_chord = {1.0: [0, 0], 50.0: [0, 0]}  # strong-beat notes on a chord tone, of all
    for seed in range(4):
        plain, plain_live = _both_two_hands(tmp_path, seed, 1.0)
        leant, leant_live = _both_two_hands(tmp_path, seed, 50.0)
        assert plain == plain_live and leant == leant_live
        changed += plain != leant
        for lean, rows in ((1.0, plain), (50.0, leant)):
            strong = [r for r in rows if strong_beat(r[1], 4)][:3]
            on_chord[lean][0] += sum(r[0] % 12 in chord.tones for r in strong)
            on_chord[lean][1] += len(strong)
    assert changed >= 1  # the lean does something: a plain draw misses a chord tone somewhere
    # A lean multiplies the chord tones' odds; a confident model may still put a passing
    # note on a strong beat now and then, so the test asks for most, and more than without.
    share = {lean: hits / max(total, 1) for lean, (hits, total) in on_chord.items()}
    assert share[50.0] >= 0.8 and share[50.0] > share[1.0]
