"""Harmony events: a melody onset and the lower voices sounding under it, as tokens.

One :class:`HarmonyEvent` per melody onset holds the melody pitch struck, the onset's
metre class (:func:`metre_class`), the melody's inter-onset interval class
(:func:`improviser.music.encoding.ioi_class`) and the ``(bass, tenor, alto)`` pitches
sounding at that onset (0 = that voice is silent). Events come from four parts
(:func:`events_from_parts`, the chorales) or from any polyphonic notes
(:func:`events_from_notes`: the skyline is the melody, the notes below it the voices).

The harmony model reads and predicts a flat sequence of four tokens per event, in the
order melody, bass, tenor, alto (:data:`ROLES`); each token has the four input fields of
:data:`HARMONY_FIELDS` (:func:`harmony_tokens`). Everything here is causal: an event
depends only on notes struck at or before its onset.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from improviser.music.encoding import IOI_BEATS, PITCHES, ioi_class
from improviser.music.notes import DRUM_CHANNEL, Note, skyline

__all__ = [
    "HARMONY_FIELDS",
    "HARMONY_VOCAB",
    "LEGATO_OVERLAP_BEATS",
    "LEGATO_STEP",
    "METRE_CLASSES",
    "ONSET_TOLERANCE_BEATS",
    "REST",
    "ROLES",
    "VOICES",
    "VOICES_PLAYED",
    "HarmonyEvent",
    "events_from_notes",
    "events_from_parts",
    "events_from_tokens",
    "harmony_tokens",
    "lower_voice_counts",
    "metre_class",
    "voicing",
]

ROLES: tuple[str, ...] = ("melody", "bass", "tenor", "alto")
"""Token roles in sequence order; a token's ``role`` field is its index here."""
VOICES: tuple[str, ...] = ROLES[1:]
"""The lower voices of an event, in the order of :attr:`HarmonyEvent.voices`."""
REST = 0
"""A voice's value when it is silent (MIDI pitch 0 never occurs as music)."""
METRE_CLASSES = 4
"""0 downbeat, 1 another whole beat, 2 an eighth off-beat, 3 anything else."""
HARMONY_FIELDS: tuple[str, ...] = ("value", "role", "metre", "ioi")
"""The input fields of a token, in column order of :func:`harmony_tokens`."""
HARMONY_VOCAB: dict[str, int] = {
    "value": PITCHES,
    "role": len(ROLES),
    "metre": METRE_CLASSES,
    "ioi": len(IOI_BEATS),
}
VOICES_PLAYED: dict[int, tuple[int, ...]] = {1: (0,), 2: (0, 2), 3: (0, 1, 2)}
"""How many lower voices sound -> which of (bass, tenor, alto): the bass first, then the
outer voices, then all three (``accompany_voices``, ``harmonize --voices``, an answer's
voices). All three are always drawn: the model hears its own voices whichever sound."""
ONSET_TOLERANCE_BEATS = 1 / 32
"""Notes struck this close to a melody onset count as struck with it (as the skyline)."""
LEGATO_STEP = 9
"""Semitones a melody may step down while its previous note is still held (legato); a
note struck further below a held melody note is another voice's. The live engine's
top line uses the same rule and value (``improviser.live`` ``PlayerState.is_top``)."""
LEGATO_OVERLAP_BEATS = 1 / 4
"""The longest a melody note may sound on over the next, lower one (a legato overlap)."""
_METRE_TOLERANCE = 1 / 16
"""How near (in beats) a position must be to a beat or half beat to count as on it."""


@dataclass(frozen=True, slots=True)
class HarmonyEvent:
    """One melody onset and the lower voices sounding at it."""

    melody: int
    """MIDI pitch 1..127 of the melody note struck."""
    metre: int
    """The onset's :func:`metre_class`."""
    ioi: int
    """The melody's inter-onset interval class from its previous onset (0 for the first)."""
    voices: tuple[int, int, int]
    """``(bass, tenor, alto)`` MIDI pitches; :data:`REST` where a voice is silent."""
    start_beats: float = 0.0
    """The onset in beats from the start of the piece (not a model input)."""

    def __post_init__(self) -> None:
        if not 1 <= self.melody < PITCHES:
            raise ValueError(f"melody must be in range 1..127, got {self.melody}")
        if not 0 <= self.metre < METRE_CLASSES:
            raise ValueError(f"metre must be in range 0..3, got {self.metre}")
        if not 0 <= self.ioi < len(IOI_BEATS):
            raise ValueError(f"ioi must be in range 0..{len(IOI_BEATS) - 1}, got {self.ioi}")
        if len(self.voices) != len(VOICES) or not all(0 <= v < PITCHES for v in self.voices):
            raise ValueError(f"voices must be three pitches in range 0..127, got {self.voices}")

    @property
    def sounding(self) -> int:
        """How many lower voices sound (0..3)."""
        return sum(v != REST for v in self.voices)


def metre_class(beat_in_bar: float, beats_per_bar: float) -> int:
    """The metre class of a position ``beat_in_bar`` beats into a bar of ``beats_per_bar``.

    0 = downbeat (within 1/16 beat of the bar start), 1 = another whole beat, 2 = a half
    beat (an eighth off-beat), 3 = anything else. Positions outside the bar wrap into it.
    """
    if beats_per_bar <= 0:
        raise ValueError(f"beats_per_bar must be positive, got {beats_per_bar}")
    pos = beat_in_bar % beats_per_bar
    if pos < _METRE_TOLERANCE or beats_per_bar - pos < _METRE_TOLERANCE:
        return 0
    if abs(pos - round(pos)) < _METRE_TOLERANCE:
        return 1
    if abs(pos - math.floor(pos) - 0.5) < _METRE_TOLERANCE:
        return 2
    return 3


def _sounding_at(notes: Iterable[Note], onset: float) -> list[Note]:
    """Notes struck by ``onset`` (within the tolerance) and still sounding there."""
    cut = onset + ONSET_TOLERANCE_BEATS
    return [n for n in notes if n.start_beats <= cut and n.end_beats > cut]


def _events(
    melody: Sequence[Note],
    lower: Sequence[tuple[int, int, int]],
    beats_per_bar: float,
) -> list[HarmonyEvent]:
    events: list[HarmonyEvent] = []
    previous: float | None = None
    for note, voices in zip(melody, lower, strict=True):
        onset = note.start_beats
        events.append(
            HarmonyEvent(
                melody=note.pitch,
                metre=metre_class(onset, beats_per_bar),
                ioi=0 if previous is None else ioi_class(onset - previous),
                voices=voices,
                start_beats=onset,
            )
        )
        previous = onset
    return events


def _melody_line(notes: Iterable[Note]) -> list[Note]:
    return [n for n in skyline(notes, ONSET_TOLERANCE_BEATS) if n.pitch > 0]


def events_from_parts(
    soprano: Sequence[Note],
    alto: Sequence[Note],
    tenor: Sequence[Note],
    bass: Sequence[Note],
    *,
    beats_per_bar: float = 4.0,
) -> list[HarmonyEvent]:
    """One event per soprano onset, with the alto, tenor and bass notes sounding at it.

    A part holding no note at an onset gives a rest there; where a part holds two notes
    at once (a divided voice) the later struck, then the higher, is taken. Voices are
    kept as written, so a crossing above the soprano stays what it was. Bars are
    ``beats_per_bar`` beats long, the first starting at beat 0.
    """
    melody = _melody_line(soprano)
    lower: list[tuple[int, int, int]] = []
    for note in melody:
        picked = []
        for part in (bass, tenor, alto):
            held = _sounding_at(part, note.start_beats)
            best = max(held, key=lambda n: (n.start_beats, n.pitch), default=None)
            picked.append(REST if best is None else best.pitch)
        lower.append((picked[0], picked[1], picked[2]))
    return _events(melody, lower, beats_per_bar)


def voicing(pitches: Iterable[int]) -> tuple[int, int, int]:
    """The (bass, tenor, alto) of the pitches under a melody note: bass = lowest, alto =
    highest, tenor = the middle one of those left; fewer give rests (:data:`REST`)."""
    below = sorted(set(pitches))
    if not below:
        return (REST, REST, REST)
    if len(below) == 1:
        return (below[0], REST, REST)
    if len(below) == 2:
        return (below[0], REST, below[1])
    inner = below[1:-1]
    return (below[0], inner[(len(inner) - 1) // 2], below[-1])


def events_from_notes(notes: Iterable[Note], *, beats_per_bar: float = 4.0) -> list[HarmonyEvent]:
    """Events of any polyphonic notes: the top line is the melody, the notes under it the voices.

    The top line is the skyline (the highest note struck at each onset) as the live engine
    hears it: a note struck under a higher one still held (the other hand's, or a voice
    moving under a held melody note) is not a melody onset, except a legato step down of
    at most :data:`LEGATO_STEP` from the melody note still held, released at most
    :data:`LEGATO_OVERLAP_BEATS` later. At each melody onset the
    lower notes are those sounding there (struck then or still held, the previous melody
    note aside) strictly below the melody note: bass the lowest, alto the highest, tenor
    the middle one of the rest; fewer notes give rests (one: bass only; two: bass and
    alto). Percussion (channel 10) is left out. No voice is ever above the melody.
    """
    ordered = sorted(
        (n for n in notes if n.channel != DRUM_CHANNEL and n.pitch > 0),
        key=lambda n: (n.start_beats, -n.pitch),
    )
    melody: list[Note] = []
    lower: list[tuple[int, int, int]] = []
    active: list[Note] = []  # struck before the current onset and maybe still sounding
    previous: Note | None = None
    for group in _onset_groups(ordered):
        top, cut = group[0], group[0].start_beats + ONSET_TOLERANCE_BEATS
        active = [n for n in active if n.end_beats > cut]
        if _continues_top_line(top, active, previous):
            sounding = [n for n in (*active, *group[1:]) if n.end_beats > cut]
            lower.append(
                voicing(n.pitch for n in sounding if n is not previous and n.pitch < top.pitch)
            )
            melody.append(top)
            previous = top
        active.extend(group)
    return _events(melody, lower, beats_per_bar)


def _onset_groups(ordered: Sequence[Note]) -> list[list[Note]]:
    """Notes (sorted by onset, then highest first) struck together, as the skyline groups them."""
    groups: list[list[Note]] = []
    for note in ordered:
        if groups and note.start_beats - groups[-1][0].start_beats <= ONSET_TOLERANCE_BEATS:
            groups[-1].append(note)
        else:
            groups.append([note])
    return groups


def _continues_top_line(top: Note, held: Sequence[Note], previous: Note | None) -> bool:
    """The live engine's rule (``PlayerState.is_top``), where a legato overlap is short.

    Live, a step down under the held melody note is taken as legato because the release
    is not known yet; here it is, so a melody note held on past :data:`LEGATO_OVERLAP_BEATS`
    keeps a note struck below it off the top line (an inner voice moving under it).
    """
    melody_held = previous is not None and any(n is previous for n in held)
    if (
        melody_held
        and previous is not None
        and top.pitch < previous.pitch
        and previous.end_beats - top.start_beats > LEGATO_OVERLAP_BEATS
    ):
        return False
    others = (n.pitch for n in held if n is not previous and n.pitch != top.pitch)
    if top.pitch < max(others, default=-1):
        return False
    if not melody_held or previous is None:
        return True
    return top.pitch >= previous.pitch or previous.pitch - top.pitch <= LEGATO_STEP


def harmony_tokens(events: Sequence[HarmonyEvent]) -> npt.NDArray[np.int32]:
    """The ``(4 n, 4)`` token array of ``events``: per event M, B, T, A rows.

    Columns are :data:`HARMONY_FIELDS`: value (pitch, 0 = rest), role (index in
    :data:`ROLES`), metre class and melody IOI class (the event's, on all four rows).
    """
    out = np.zeros((len(events) * len(ROLES), len(HARMONY_FIELDS)), dtype=np.int32)
    for i, event in enumerate(events):
        for role, value in enumerate((event.melody, *event.voices)):
            out[i * len(ROLES) + role] = (value, role, event.metre, event.ioi)
    return out


def events_from_tokens(tokens: npt.NDArray[np.int32]) -> list[HarmonyEvent]:
    """The events of a token array from :func:`harmony_tokens` (without their onsets)."""
    if tokens.ndim != 2 or tokens.shape[1] != len(HARMONY_FIELDS):
        raise ValueError(f"tokens must have shape (n, 4), got {tokens.shape}")
    if len(tokens) % len(ROLES):
        raise ValueError(f"tokens must hold whole events (4 rows each), got {len(tokens)} rows")
    if not np.array_equal(tokens[:, 1], np.tile(np.arange(len(ROLES)), len(tokens) // 4)):
        raise ValueError("token roles must run melody, bass, tenor, alto for every event")
    events = []
    for row in range(0, len(tokens), len(ROLES)):
        value, _, metre, ioi = (int(v) for v in tokens[row])
        voices = tuple(int(v) for v in tokens[row + 1 : row + 4, 0])
        events.append(HarmonyEvent(value, metre, ioi, (voices[0], voices[1], voices[2])))
    return events


def lower_voice_counts(events: Iterable[HarmonyEvent]) -> dict[int, int]:
    """How many events have 0, 1, 2 and 3 lower voices sounding."""
    counts = dict.fromkeys(range(len(VOICES) + 1), 0)
    for event in events:
        counts[event.sounding] += 1
    return counts
