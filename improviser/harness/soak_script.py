"""What the soak's synthetic player plays: a seeded script of phrases, as a musician would.

Pure: :func:`soak_script` turns a seed and a length into timed raw messages, so the
player process (:mod:`improviser.harness.soak_player`) only sends them, and a test can
check the script's shape with no MIDI at all.

A phrase is 4–12 notes 80–600 ms apart (legato: each released before the next), now
and then a three-note chord, a sustain pedal held through a phrase and lifted at its
end, and every few phrases a burst of dense notes (24 notes 15–30 ms apart, as a fast
run or a glissando). Some note-offs are left out on purpose (the third phrase, then
about one phrase in fifteen): the engine must never go deaf from a lost release.
Phrases are separated by rests long enough for an answer; while a key whose release was
lost may still be held in the engine (``held_key_seconds``), rests are longer than
``held_phrase_gap``, the time after which a phrase ends even with a key down.

:func:`flood_messages` is the flood of ``bench flood``: notes and controls mixed with
the garbage a misbehaving controller or a feedback loop sends.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "FLOOD_KINDS",
    "PARSED_KINDS",
    "Phrase",
    "ScriptRules",
    "Step",
    "flood_messages",
    "soak_script",
]

SUSTAIN = 64
BURST_NOTES = 24


@dataclass(frozen=True, slots=True)
class ScriptRules:
    """How the synthetic player plays (seconds)."""

    min_gap: float = 0.08
    max_gap: float = 0.6
    rest: tuple[float, float] = (1.5, 3.0)
    """A rest after a phrase, with no lost release pending."""
    phrase_gap: float = 0.7
    """The engine's ``phrase_gap``: a rest is at least this plus a second."""
    held_phrase_gap: float = 4.0
    """The engine's ``held_phrase_gap``: the rest while a lost release may be pending."""
    held_key_seconds: float = 30.0
    """The engine's ``held_key_seconds``: how long a lost release may be pending."""
    drop_share: float = 1 / 15
    burst_every: int = 6
    chord_share: float = 0.15
    pedal_share: float = 0.3


@dataclass(frozen=True, slots=True)
class Step:
    """One raw message, ``at`` seconds from the start of the script."""

    at: float
    data: tuple[int, ...]


@dataclass(slots=True)
class Phrase:
    """One phrase: its first and last message (seconds from the start), and what it has."""

    start: float
    end: float = 0.0
    dropped: int = 0
    """Note-offs left out."""
    burst: bool = False
    pedal: bool = False
    steps: list[Step] = field(default_factory=list)


class _Writer:
    """Writes one phrase's messages (a random walk over the keyboard)."""

    def __init__(self, rng: random.Random, rules: ScriptRules) -> None:
        self.rng = rng
        self.rules = rules
        self.pitch = 64

    def _next_pitch(self) -> int:
        self.pitch = min(max(self.pitch + self.rng.choice((-5, -3, -2, -1, 1, 2, 4, 7)), 40), 88)
        return self.pitch

    def note(self, phrase: Phrase, t: float, gap: float, *, drop: bool) -> None:
        rng = self.rng
        pitches = [self._next_pitch()]
        if rng.random() < self.rules.chord_share:
            pitches += [pitches[0] + 4, pitches[0] + 7]  # a triad, struck within a few ms
        held = gap * rng.uniform(0.5, 0.9)
        for i, pitch in enumerate(pitches):
            on = t + i * rng.uniform(0.0, 0.004)
            phrase.steps.append(Step(on, (0x90, pitch, rng.randint(60, 110))))
            if drop and i == 0:
                phrase.dropped += 1
            else:
                phrase.steps.append(Step(on + held, (0x80, pitch, 0)))

    def phrase(self, start: float, index: int, drop: bool) -> Phrase:
        rng, rules = self.rng, self.rules
        phrase = Phrase(start, burst=index % rules.burst_every == rules.burst_every - 1)
        phrase.pedal = rng.random() < rules.pedal_share
        if phrase.pedal:
            phrase.steps.append(Step(start, (0xB0, SUSTAIN, 127)))
        t = start + 0.01
        notes = rng.randint(4, 12)
        dropped_at = rng.randrange(notes) if drop else -1
        for i in range(notes):
            gap = rng.uniform(rules.min_gap, rules.max_gap)
            self.note(phrase, t, gap, drop=i == dropped_at)
            t += gap
            if phrase.burst and i == notes // 2:
                t = self._burst(phrase, t)
        end = max(s.at for s in phrase.steps) + 0.01
        if phrase.pedal:
            phrase.steps.append(Step(end, (0xB0, SUSTAIN, 0)))
        phrase.steps.sort(key=lambda s: s.at)
        phrase.end = phrase.steps[-1].at
        return phrase

    def _burst(self, phrase: Phrase, t: float) -> float:
        for _ in range(BURST_NOTES):
            gap = self.rng.uniform(0.015, 0.03)
            pitch = self._next_pitch()
            phrase.steps.append(Step(t, (0x90, pitch, 100)))
            phrase.steps.append(Step(t + gap * 0.6, (0x80, pitch, 0)))
            t += gap
        return t + self.rules.min_gap


def soak_script(seconds: float, seed: int = 0, rules: ScriptRules | None = None) -> list[Phrase]:
    """Phrases filling ``seconds`` (the last one ends before it), with their rests."""
    rules = rules or ScriptRules()
    rng = random.Random(seed)
    writer = _Writer(rng, rules)
    phrases: list[Phrase] = []
    t = 0.2
    last_drop = float("-inf")
    while True:
        index = len(phrases)
        drop = index == 2 or rng.random() < rules.drop_share
        phrase = writer.phrase(t, index, drop)
        if phrase.end > seconds:
            return phrases
        phrases.append(phrase)
        if phrase.dropped:
            last_drop = phrase.end
        rest = rng.uniform(*rules.rest) + rules.phrase_gap
        if phrase.end - last_drop < rules.held_key_seconds + 1.0:
            rest = max(rest, rules.held_phrase_gap + rng.uniform(*rules.rest))
        t = phrase.end + rest


FLOOD_KINDS: dict[str, float] = {
    "note": 0.40,
    "control": 0.10,
    "other channel": 0.10,
    "pitch bend": 0.08,
    "unknown status": 0.05,
    "stray data": 0.02,
    "clock": 0.15,
    "active sensing": 0.05,
    "sysex": 0.05,
}
"""What a flood is made of, by share of its messages."""
PARSED_KINDS = ("note", "control", "other channel")
"""The kinds the live input parses and hands to the engine (the rest it drops, or RtMidi
filters before our callback: clock, active sensing, sysex)."""


def flood_messages(count: int, seed: int = 0) -> list[tuple[str, tuple[int, ...]]]:
    """``count`` messages of :data:`FLOOD_KINDS` (each note-on followed by its note-off)."""
    rng = random.Random(seed)
    kinds = rng.choices(list(FLOOD_KINDS), weights=list(FLOOD_KINDS.values()), k=count)
    down: dict[int, int | None] = {0: None, 5: None}
    out: list[tuple[str, tuple[int, ...]]] = []
    for kind in kinds:
        if kind in ("note", "other channel"):
            channel = 0 if kind == "note" else 5
            pitch = down[channel]
            if pitch is None:
                down[channel] = pitch = rng.randint(36, 96)
                out.append((kind, (0x90 | channel, pitch, rng.randint(40, 120))))
            else:
                down[channel] = None
                out.append((kind, (0x80 | channel, pitch, 0)))
        else:
            out.append((kind, _garbage(kind, rng)))
    return out


_GARBAGE: dict[str, Callable[[random.Random], tuple[int, ...]]] = {
    "control": lambda rng: (0xB0, 1, rng.randint(0, 127)),  # the modulation wheel
    "pitch bend": lambda rng: (0xE0, rng.randint(0, 127), rng.randint(0, 127)),
    "unknown status": lambda rng: (rng.choice((0xF4, 0xF5, 0xF9, 0xFD)),),
    "stray data": lambda rng: (rng.randint(0, 127), rng.randint(0, 127), rng.randint(0, 127)),
    "clock": lambda _rng: (0xF8,),
    "active sensing": lambda _rng: (0xFE,),
    "sysex": lambda rng: (
        0xF0,
        0x7D,
        *(rng.randint(0, 127) for _ in range(rng.randint(1, 32))),
        0xF7,
    ),
}


def _garbage(kind: str, rng: random.Random) -> tuple[int, ...]:
    return _GARBAGE[kind](rng)
