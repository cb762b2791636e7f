"""What a live session tells the world: typed events, and the bus that carries them.

Everything that happens in a session worth knowing outside it is one of the events below,
published on the session's :class:`EventBus`:

- :class:`PlayerNote` / :class:`AnswerNote`: a note of the player (as it arrived) or of
  the improviser (as it actually left the output port); velocity 0 is the release;
- :class:`PlayerControl`: a control change of the player's that no control took (the
  sustain pedal, the modulation wheel...), as it arrived, for the built-in synth;
- :class:`PhraseEnded`, :class:`AnswerStarted`, :class:`AnswerEnded`: the dialogue;
- :class:`StatusChanged`: listening, answering, muted, waiting for port;
- :class:`KeyChanged`: the key the answers keep to (estimated from the player, or set);
- :class:`ChordHeard`: the chord the player plays (both hands, broken chords);
- :class:`SyncChanged`: where tempo and beat come from now (a MIDI clock, the player,
  a fixed tempo);
- :class:`StatsReport`: the session's counters, every few seconds;
- :class:`Notice`: something an engineer should know (a port lost or back, a recording
  error, dropped input), with a ``kind`` and one line of text.

The bus has two kinds of consumers. *Observers* are plain callables run at once, in
order, on the loop's thread: the session's statistics and its recorder, which must not
miss a note. *Subscriptions* are bounded queues read by tasks at their own pace (the
demo summary, benchmarks, the MQTT bridge): a full queue drops its oldest event and
counts it, so no subscriber can slow the MIDI path down.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

__all__ = [
    "THRU",
    "AnswerEnded",
    "AnswerFeed",
    "AnswerNote",
    "AnswerStarted",
    "ChordHeard",
    "Event",
    "EventBus",
    "KeyChanged",
    "Notice",
    "PhraseEnded",
    "PlayerControl",
    "PlayerNote",
    "StatsReport",
    "Status",
    "StatusChanged",
    "Subscription",
    "SyncChanged",
]

THRU = "thru"
"""Tag of the player's notes echoed to the output: sent by us, but the player's part."""


class Status:
    """The session's states, as published."""

    LISTENING = "listening"
    ANSWERING = "answering"
    MUTED = "muted"
    WAITING = "waiting for port"


@dataclass(frozen=True, slots=True)
class PlayerNote:
    """A player's ``note_on`` (``velocity`` > 0) or ``note_off`` (0), as it arrived."""

    kind: ClassVar[str] = "player_note"
    at: float
    channel: int
    pitch: int
    velocity: int


@dataclass(frozen=True, slots=True)
class PlayerControl:
    """A player's control change (``number`` 64: the sustain pedal), as it arrived."""

    kind: ClassVar[str] = "player_control"
    at: float
    channel: int
    number: int
    value: int


@dataclass(frozen=True, slots=True)
class AnswerNote:
    """One of the improviser's notes as it left the port (``velocity`` 0: its release)."""

    kind: ClassVar[str] = "answer_note"
    at: float
    channel: int
    pitch: int
    velocity: int
    tag: str
    """Whose note: ``answer-3``, ``follow``, ``thru`` (the player's echo)."""
    intended: float | None = None
    """When it was planned to leave (``None``: sent at once, not planned)."""
    response: float | None = None
    """Seconds from its cue (the end of a phrase, a followed note) to now, for the first
    note answering that cue; ``None`` for every other note."""


@dataclass(frozen=True, slots=True)
class PhraseEnded:
    """The player's phrase was taken to be over at ``at``."""

    kind: ClassVar[str] = "phrase_ended"
    at: float
    notes: int


@dataclass(frozen=True, slots=True)
class AnswerStarted:
    """An answer begins; its first note leaves at ``starts``."""

    kind: ClassVar[str] = "answer_started"
    at: float
    tag: str
    starts: float


@dataclass(frozen=True, slots=True)
class AnswerEnded:
    """An answer is over after ``played`` notes (``interrupted``: cut short)."""

    kind: ClassVar[str] = "answer_ended"
    at: float
    tag: str
    played: int
    interrupted: bool


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """The session's state is now ``status`` (one of :class:`Status`)."""

    kind: ClassVar[str] = "status"
    at: float
    status: str


@dataclass(frozen=True, slots=True)
class KeyChanged:
    """The answers now keep to ``key`` (e.g. ``"D minor"``; ``None``: no key)."""

    kind: ClassVar[str] = "key"
    at: float
    key: str | None


@dataclass(frozen=True, slots=True)
class ChordHeard:
    """The chord the player plays (both hands; a broken chord within a beat) is now
    ``name`` (``"G7/B"``; ``None``: no chord, fewer than two pitch classes)."""

    kind: ClassVar[str] = "chord"
    at: float
    name: str | None
    root: int | None = None
    """Pitch class 0..11 (0 = C)."""
    quality: str | None = None
    """Lead-sheet suffix: ``""`` (major), ``"m"``, ``"7"``, ``"m7b5"``, ..."""
    bass: int | None = None
    """Pitch class of the lowest note sounding."""


@dataclass(frozen=True, slots=True)
class SyncChanged:
    """Tempo and beat now come from ``source`` (``clock``, ``player`` or ``fixed``)."""

    kind: ClassVar[str] = "sync"
    at: float
    source: str
    bpm: float


@dataclass(frozen=True, slots=True)
class StatsReport:
    """The session's counters at ``at`` (see
    :class:`~improviser.live.session.stats.SessionStats`)."""

    kind: ClassVar[str] = "stats"
    at: float
    values: dict[str, float | int | None]


@dataclass(frozen=True, slots=True)
class Notice:
    """Something an engineer should know: ``port_lost``, ``port_back``, ``recording``..."""

    kind: ClassVar[str] = "notice"
    at: float
    topic: str
    message: str
    level: str = "warning"
    count: int = 1
    """How many things it is about (``stale_keys``: the keys taken as released)."""


Event = (
    PlayerNote
    | PlayerControl
    | AnswerNote
    | PhraseEnded
    | AnswerStarted
    | AnswerEnded
    | StatusChanged
    | KeyChanged
    | ChordHeard
    | SyncChanged
    | StatsReport
    | Notice
)
Observer = Callable[[Event], None]


class Subscription:
    """A bounded queue of events for one reader; full, it drops the oldest and counts."""

    def __init__(self, bus: EventBus, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        self._bus = bus
        self._queue: deque[Event] = deque(maxlen=maxsize)
        self._ready = asyncio.Event()
        self.dropped = 0
        """Events lost because the reader was behind."""

    def put(self, event: Event) -> None:
        """Called by the bus: never waits."""
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1
        self._queue.append(event)
        self._ready.set()

    def __len__(self) -> int:
        return len(self._queue)

    def drain(self) -> list[Event]:
        """Every event waiting now, oldest first."""
        events = list(self._queue)
        self._queue.clear()
        self._ready.clear()
        return events

    async def get(self) -> Event:
        """The next event, waiting for one if none is queued."""
        while not self._queue:
            self._ready.clear()
            await self._ready.wait()
        return self._queue.popleft()

    def close(self) -> None:
        """Stop receiving events."""
        self._bus.unsubscribe(self)


class EventBus:
    """Carries a session's events to its observers and subscriptions."""

    def __init__(self) -> None:
        self._observers: list[Observer] = []
        self._subscriptions: list[Subscription] = []
        self.published = 0

    def observe(self, observer: Observer) -> None:
        """Run ``observer`` on every event, at once (it must be quick and never block)."""
        self._observers.append(observer)

    def subscribe(self, maxsize: int = 4096) -> Subscription:
        """A new bounded queue that receives every event from now on."""
        subscription = Subscription(self, maxsize)
        self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget ``subscription`` (a second call does nothing)."""
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)

    @property
    def dropped(self) -> int:
        """Events dropped by every current subscription together."""
        return sum(s.dropped for s in self._subscriptions)

    def publish(self, event: Event) -> None:
        """Hand ``event`` to every observer, then to every subscription."""
        self.published += 1
        for observer in self._observers:
            observer(event)
        for subscription in self._subscriptions:
            subscription.put(event)


class AnswerFeed:
    """A scheduler listener that publishes what left the output as :class:`AnswerNote`."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    def note_sent(
        self,
        channel: int,
        pitch: int,
        velocity: int,
        tag: str,
        at: float,
        *,
        intended: float | None,
        cue: float | None,
    ) -> None:
        """A note left: publish it, with its response time if it answers a cue."""
        response = None if cue is None else at - cue
        self.bus.publish(AnswerNote(at, channel, pitch, velocity, tag, intended, response))

    def note_released(
        self, channel: int, pitch: int, tag: str, at: float, *, intended: float | None
    ) -> None:
        """A note's release left: publish it (velocity 0)."""
        self.bus.publish(AnswerNote(at, channel, pitch, 0, tag, intended))
