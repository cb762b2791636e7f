"""How the improviser listens beyond its LSTM: the session's motifs, its key, its register.

:class:`ListenConfig` holds the options shared by ``[live]`` and ``[generate]`` (both
sections inherit them): the short-term model of the session blended with the LSTM, the
key the answers keep to and how strictly, and the register they stay near. The
defaults were chosen with ``improviser bench musicality`` (see the README).
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field

from improviser.config.base import Section

__all__ = [
    "DEFAULT_GUARD",
    "DEFAULT_PENALTY",
    "DEFAULT_REPLAY_NOTES",
    "GUARDS",
    "KEY_PATTERN",
    "Guard",
    "ListenConfig",
]

KEY_PATTERN = r"^(?i:auto|off|[a-g][#b]? (major|minor))$"
"""``auto``, ``off`` or a key name such as ``D minor``, ``F# major``, ``Bb minor``."""
Guard = Literal["penalty", "stm", "discount", "off"]
"""How a replay of the call is kept off (:mod:`improviser.music.replay`)."""
GUARDS: tuple[str, ...] = get_args(Guard)
DEFAULT_GUARD: Guard = "penalty"
DEFAULT_REPLAY_NOTES = 6
"""A run of this many notes repeated in order is a replay under way."""
DEFAULT_PENALTY = 0.0
"""What a pitch that continues a replay is weighed by (0: never drawn; ``discount``: the
short-term model's weight, per note of the run)."""


class ListenConfig(Section):
    """The short-term model, key and register options of a section that draws notes."""

    short_term: bool = True
    """Blend the LSTM's pitch prediction with a short-term model of the session's notes."""
    short_term_weight: float = Field(1.0, ge=0.0, le=100.0)
    """The short-term model's weight in the blend, relative to the LSTM (0 = not heard)."""
    short_term_bias: float = Field(0.75, ge=0.0, le=10.0)
    """Entropy bias of the blend: above 0 the more confident model weighs more, note by note."""
    short_term_notes: int = Field(2000, ge=0, le=10_000_000)
    """The short-term model remembers the last this many notes it learned (about 10 to 20
    minutes of playing; ~4 KB a note), so a session of hours stays bounded (0: all)."""
    short_term_answers: Literal["learn", "context"] = "context"
    """The improviser's own notes: ``learn`` counts them in the short-term model; ``context``
    only follows them (its predictions continue from them, its counts are the player's)."""
    replay_guard: Guard = DEFAULT_GUARD
    """Keep an answer from playing the call back note for note (see
    :mod:`improviser.music.replay`): ``penalty`` weighs each pitch that would continue a
    run of ``replay_notes`` notes heard before by ``replay_penalty``; ``stm`` does so in the
    short-term model only; ``discount`` lowers the short-term model's weight as the run
    grows; ``off``."""
    replay_notes: int = Field(DEFAULT_REPLAY_NOTES, ge=2, le=16)
    """A run of this many notes repeated in order is a replay (shorter motifs are taken up)."""
    replay_penalty: float = Field(DEFAULT_PENALTY, ge=0.0, le=1.0)
    """What a pitch continuing a replay is weighed by (1 = no guard)."""
    key: str = Field("auto", pattern=KEY_PATTERN)
    """The key answers keep to: ``auto`` (estimated from the player's recent notes), a key
    such as ``"D minor"``, or ``off``."""
    scale_strength: float = Field(0.9, ge=0.0, le=1.0)
    """How strictly: out-of-scale pitches are weighed by 1 - this (1 = only the scale)."""
    listen_notes: int = Field(24, ge=1, le=1024)
    """The player's last notes the key and the register are estimated from."""
    keep_register: bool = True
    """Keep answers near the player's register: pitches further than ``register_span``
    from the mean of the recent notes are moved by octaves towards it."""
    register_span: int = Field(12, ge=6, le=60)
    """Semitones either side of the player's mean pitch that answers stay within."""
