"""The ``[answer]`` section: how an answer is drawn, the same for ``generate`` and ``live``.

``improviser generate`` continues a file as a live answer answers a call: the same
listening (:class:`~improviser.config.listen.ListenConfig`: short-term model, replay
guard, key, register), the same tilt towards the call's note values, the same length
and phrase-end rules, the same placement of the first note. :class:`AnswerConfig` holds
them; ``[live]`` and ``[generate]`` both take every key of ``[answer]`` (see
:func:`shared_answer_keys`), and a key set in ``[live]`` or ``[generate]`` itself still
wins there, for that command only (a CLI option too: ``generate --rhythm-strength``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from improviser.config.listen import ListenConfig

__all__ = ["ANSWER_LENGTHS", "AnswerConfig", "shared_answer_keys"]

AnswerLength = Literal["notes", "beats", "bars", "call"]
ANSWER_LENGTHS = ("notes", "beats", "bars", "call")


class AnswerConfig(ListenConfig):
    """How long an answer is, where it starts, how its rhythm follows the call's, and how
    it listens (:class:`ListenConfig`)."""

    answer_length: AnswerLength = "call"
    """How long an answer is: ``answer_notes`` notes, ``answer_beats`` beats, ``answer_bars``
    bars, or as the call (``generate``: the seed)."""
    answer_notes: int = Field(16, ge=1, le=1024)
    answer_beats: float = Field(8.0, gt=0.0, le=256.0)
    answer_bars: int = Field(2, ge=1, le=64)
    max_answer_notes: int = Field(64, ge=1, le=1024)
    """No answer is longer than this many notes (except ``answer_length = "notes"``)."""
    answer_start: Literal["now", "beat", "bar"] = "beat"
    """Where the answer's first note falls: at once (``answer_delay`` after the call ends),
    on the next beat after that, or on the next bar's downbeat."""
    answer_delay: float = Field(0.0, ge=0.0, le=10.0)
    """Seconds from the end of the call to the first answer note (live: from the moment
    the phrase is taken as ended, ``phrase_gap`` after its last release; ``generate``:
    from the end of the seed's last note)."""
    beats_per_bar: int = Field(4, ge=1, le=16)
    """The meter: beats in a bar (live: bars count from the clock's start, or the call's
    first note; ``generate``: from the file's start)."""
    rhythm_strength: float = Field(1.0, ge=0.0, le=4.0)
    """How strongly the answer's note values follow the call's (0: the model's own rhythm)."""
    rhythm_memory: float = Field(0.5, ge=0.0, le=1.0)
    """The share of each IOI prediction taken from a short-term model of the call's IOIs
    (its rhythmic motifs, :mod:`~improviser.music.rhythm_memory`; 0: the LSTM's alone)."""
    rhythm_guard: float = Field(0.2, ge=0.0, le=1.0)
    """Once 40 % of the answer's IOIs are 1.5x the call's median or more (or as much
    shorter), the IOIs on that side are weighed by this (1: off, 0: not drawn)."""
    chord_lean: float = Field(3.0, ge=1.0, le=50.0)
    """On the strong beats, a tone of the chord under the call's last two-hand note is this
    many times as likely as the model makes it, against the other pitches (1: no lean;
    a call of one hand has no chord and is answered as drawn)."""


def shared_answer_keys(data: Any) -> Any:
    """Raw config data with ``[answer]``'s keys copied into ``[live]`` and ``[generate]``
    where those sections do not set them (a ``before`` validator of the whole config).

    Only keys :class:`AnswerConfig` knows are copied, so an unknown or wrong one is
    reported under ``answer``.
    """
    if not isinstance(data, dict):
        return data
    answer = data.get("answer")
    if not isinstance(answer, dict) or not answer:
        return data
    shared = {k: v for k, v in answer.items() if k in AnswerConfig.model_fields}
    out = dict(data)
    for name in ("generate", "live"):
        section = out.get(name, {})
        if isinstance(section, dict):
            out[name] = {**shared, **section}
    return out
