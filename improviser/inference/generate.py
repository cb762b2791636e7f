"""Offline continuation: a seed ``.mid`` in, the seed and its continuation out.

The seed's melody is stepped through the model (its state carried, as in a live
session), then notes are drawn one by one, each fed back before the next is drawn. The
continuation keeps the seed's tempo and starts where the seed's last note started plus
the first drawn IOI, so the two read as one performance. Every ``note_on`` written has a
``note_off`` (see :func:`improviser.music.notes.write_midi`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from improviser.config import DataConfig, GenerateConfig
from improviser.errors import MidiFileError, ModelError
from improviser.inference.context import ModelContext
from improviser.inference.modelfile import metadata_data_config, read_metadata
from improviser.inference.numpy_engine import NumpyEngine
from improviser.inference.protocol import StepModel
from improviser.music.encoding import Token, decode, encode
from improviser.music.listener import Listener, ListenParams
from improviser.music.midi_read import read_midi
from improviser.music.midi_write import write_midi
from improviser.music.notes import MAX_BPM, Note, extract_melody
from improviser.music.rhythm import CallRhythm, Expectation
from improviser.music.sampling import Sampler, SamplingParams

__all__ = ["GenerateResult", "continue_tokens", "generate"]


@dataclass(frozen=True)
class GenerateResult:
    """What ``generate`` wrote."""

    path: Path
    seed_notes: int
    notes: list[Note]
    bpm: float


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

    The model hears the seed through a :class:`~improviser.inference.context.ModelContext`,
    as a live session hears the player, and draws with the live session's sampler
    (with a ``rhythm_strength``, conditioned that strongly on the seed's note values:
    see :class:`~improviser.music.rhythm.CallRhythm`; with ``listen`` a
    :class:`~improviser.music.listener.Listener` hears the seed too and reshapes every
    draw: short-term model, key, register).
    """
    listener = None if listen is None else Listener(listen)
    context = ModelContext(engine, window=max(len(seed), 1), listener=listener)
    expectation = None if rhythm_strength is None else Expectation()
    context.prime((Token(*map(int, row)) for row in seed), expectation)
    if context.prediction is None:
        raise MidiFileError("the seed has no melody notes")
    rhythm = None
    if rhythm_strength is not None:
        rhythm = CallRhythm.from_tokens(seed, rhythm_strength, expectation)
    tokens = context.continuation(count, Sampler(params), rng, rhythm)
    return np.asarray(tokens, dtype=np.int32).reshape(count, 4)


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
    tokens = continue_tokens(
        engine,
        encode(melody),
        cfg.notes,
        SamplingParams.from_config(cfg.sampling),
        rng,
        listen=ListenParams.from_config(cfg),
    )
    notes = decode(tokens, bpm=score.bpm, start_beats=melody[-1].start_beats, track=1)
    seed_part = [
        Note(n.pitch, n.velocity, n.start, n.duration, 0, 0, n.start_beats, n.duration_beats)
        for n in melody
    ]
    parts = [seed_part, notes] if cfg.include_seed else [notes]
    names = ["seed", "improviser"] if cfg.include_seed else ["improviser"]
    write_midi(out, parts, bpm=score.bpm, ticks_per_beat=score.ticks_per_beat, names=names)
    return GenerateResult(Path(out), len(melody), notes, score.bpm)
