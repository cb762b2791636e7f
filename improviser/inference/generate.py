"""Offline continuation: a seed ``.mid`` in, the seed and its continuation out.

The seed is answered as a live session answers a call (one path: the settings of
``[answer]``, :mod:`improviser.inference.answer`): the model and its listener hear the
seed's melody, then the answer is drawn note by note, each fed back before the next, its
note values tilted towards the seed's, as long as the length rule says, its first note
``answer_delay`` after the seed's last note ends, on the next beat or bar of the file's
grid (``answer_start``). The continuation keeps the seed's tempo. Every ``note_on`` written has a
``note_off`` (see :func:`improviser.music.notes.write_midi`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from improviser.config import DataConfig, GenerateConfig
from improviser.errors import MidiFileError, ModelError
from improviser.inference.answer import AnswerDraw, AnswerLimits, draw_answer, first_onset
from improviser.inference.context import ModelContext
from improviser.inference.modelfile import metadata_data_config, read_metadata
from improviser.inference.numpy_engine import NumpyEngine
from improviser.inference.protocol import StepModel
from improviser.music.chord_lean import ChordLean, call_chord
from improviser.music.chords import Chord
from improviser.music.encoding import Token, decode, encode, ioi_class
from improviser.music.listener import Listener, ListenParams
from improviser.music.midi_read import read_midi
from improviser.music.midi_write import write_midi
from improviser.music.notes import MAX_BPM, Note, extract_melody
from improviser.music.rhythm import CallRhythm, Expectation
from improviser.music.sampling import Sampler, SamplingParams

__all__ = [
    "GenerateResult",
    "continue_melody",
    "continue_tokens",
    "generate",
    "hear_call",
    "prepare_answer",
]


@dataclass(frozen=True)
class GenerateResult:
    """What ``generate`` wrote."""

    path: Path
    seed_notes: int
    notes: list[Note]
    bpm: float


def hear_call(
    engine: StepModel,
    call: npt.NDArray[np.int32],
    rhythm_strength: float | None = None,
    listen: ListenParams | None = None,
    rhythm_memory: float = 0.0,
    rhythm_guard: float = 1.0,
) -> tuple[ModelContext, CallRhythm | None]:
    """A :class:`~improviser.inference.context.ModelContext` that heard ``call`` (with a
    :class:`~improviser.music.listener.Listener` if ``listen``), and the call's note values
    (:class:`~improviser.music.rhythm.CallRhythm`; ``None`` without a ``rhythm_strength``
    or at 0, unless ``rhythm_memory`` or ``rhythm_guard`` asks for it), as a live
    session has when the player's phrase ends."""
    listener = None if listen is None else Listener(listen)
    context = ModelContext(engine, window=max(len(call), 1), listener=listener)
    expectation = Expectation()
    context.prime((Token(*map(int, row)) for row in call), expectation)
    if context.prediction is None:
        raise MidiFileError("the seed has no melody notes")
    rhythm = None
    if rhythm_strength or rhythm_memory or rhythm_guard < 1:
        rhythm = CallRhythm.from_tokens(
            call, rhythm_strength or 0.0, expectation, rhythm_memory, rhythm_guard
        )
    return context, rhythm


def continue_tokens(
    engine: StepModel,
    seed: npt.NDArray[np.int32],
    count: int,
    params: SamplingParams,
    rng: np.random.Generator,
    rhythm_strength: float | None = None,
    listen: ListenParams | None = None,
) -> npt.NDArray[np.int32]:
    """Step through ``seed`` tokens, then draw ``count`` more, feeding each back.

    The model hears the seed as a live session hears the player (:func:`hear_call`) and
    draws as a live answer does (:class:`~improviser.inference.answer.AnswerDraw`), with
    exactly ``count`` notes and the first IOI as drawn.
    """
    context, rhythm = hear_call(engine, seed, rhythm_strength, listen)
    draw = AnswerDraw(AnswerLimits(count), rhythm, None)
    drawn = draw_answer(context, draw, Sampler(params), rng)
    return np.asarray([d.token for d in drawn], dtype=np.int32).reshape(count, 4)


def prepare_answer(
    engine: StepModel,
    melody: Sequence[Note],
    cfg: GenerateConfig,
    start: float,
    call_beats: float,
    chord: Chord | None,
    notes: int | None = None,
    lean: float | None = None,
) -> tuple[ModelContext, AnswerDraw]:
    """The model's context after hearing ``melody``, and the draw of its answer: first
    onset at ``start`` (beats), ``cfg``'s length rule for a call ``call_beats`` long (or
    exactly ``notes``), leaning on ``chord`` by ``cfg.chord_lean`` (or ``lean``)."""
    listen = ListenParams.from_config(cfg)
    context, rhythm = hear_call(
        engine, encode(melody), cfg.rhythm_strength, listen, cfg.rhythm_memory, cfg.rhythm_guard
    )
    limits = AnswerLimits.of(cfg, call_beats, notes)
    weight = cfg.chord_lean if lean is None else lean
    leaning = ChordLean.of(chord, weight, start, cfg.beats_per_bar)
    return context, AnswerDraw(limits, rhythm, ioi_class(start - melody[-1].start_beats), leaning)


def continue_melody(
    engine: StepModel,
    melody: Sequence[Note],
    bpm: float,
    cfg: GenerateConfig,
    rng: np.random.Generator,
    chord: Chord | None = None,
    end: float | None = None,
) -> list[Note]:
    """The answer to ``melody`` (times in beats, at ``bpm``) by ``cfg``, as ``generate``
    writes it: first note ``answer_delay`` after the melody ends, on the file's grid,
    leaning on ``chord`` (the call's, :func:`~improviser.music.chord_lean.call_chord`).
    ``end``: where the call ends, in beats, if not where its melody does (a left hand
    held on: a live session waits for every key up)."""
    end = max(end or 0.0, *(n.end_beats for n in melody))
    delay = cfg.answer_delay * bpm / 60.0
    start = first_onset(cfg.answer_start, end + delay, 0.0, cfg.beats_per_bar)
    call_beats = max(end - melody[0].start_beats, 1.0)
    context, draw = prepare_answer(engine, melody, cfg, start, call_beats, chord, cfg.notes)
    drawn = draw_answer(context, draw, Sampler(SamplingParams.from_config(cfg.sampling)), rng)
    tokens = [d.token._replace(ioi=0) if i == 0 else d.token for i, d in enumerate(drawn)]
    return decode(tokens, bpm=bpm, start_beats=start, track=1)


def generate(
    model: str | Path,
    seed: str | Path,
    out: str | Path,
    cfg: GenerateConfig,
    data: DataConfig | None = None,
) -> GenerateResult:
    """Continue the melody of ``seed`` with ``cfg.notes`` notes and write ``out``."""
    score = read_midi(seed)
    meta = read_metadata(model)
    if meta.get("objective") != "classes":
        raise ModelError(
            f"{model}: generate needs a classes-objective model (this one is "
            f"{meta.get('objective')!r}); the regression baseline has no rhythm to play"
        )
    data = data or metadata_data_config(meta, model)
    melody = extract_melody(score.notes, channel=data.channel, track=data.track, mode=data.melody)
    if not melody:
        raise MidiFileError(f"{seed}: no melody notes to continue")
    if score.bpm > MAX_BPM:
        raise MidiFileError(
            f"{seed}: tempo of {score.bpm:.0f} bpm is faster than the {MAX_BPM:.0f} bpm "
            "a continuation may be written at"
        )
    engine = NumpyEngine.from_file(model)
    rng = np.random.default_rng(cfg.sampling.seed)
    chord = call_chord(melody, score.notes)
    end = max(n.end_beats for n in score.notes)
    notes = continue_melody(engine, melody, score.bpm, cfg, rng, chord, end)
    seed_part = [
        Note(n.pitch, n.velocity, n.start, n.duration, 0, 0, n.start_beats, n.duration_beats)
        for n in melody
    ]
    parts = [seed_part, notes] if cfg.include_seed else [notes]
    names = ["seed", "improviser"] if cfg.include_seed else ["improviser"]
    write_midi(out, parts, bpm=score.bpm, ticks_per_beat=score.ticks_per_beat, names=names)
    return GenerateResult(Path(out), len(melody), notes, score.bpm)
