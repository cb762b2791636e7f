"""MIDI clock: following a master's 24 ppqn clock, and being the master.

:class:`ClockFollower` is a pure state machine fed the real-time messages of an input
(``clock``, ``start``, ``stop``, ``continue``, ``song position``), each with its arrival
time; it reads no clock itself, so tests drive it on a fake one. The tempo and the beat
phase are a least-squares line through the last :data:`FIT_TICKS` ticks (tick number
against arrival time): one beat of ticks, so the jitter of a single tick (a JACK cycle,
a USB frame) is averaged out and a tempo change is followed within about a beat. A
tick lost on the way (JACK drops a cycle's MIDI on a busy machine) is counted from the
gap it leaves, so the beat does not slip a tick behind; but only for now: a long gap is
also what a late tick leaves (a master sending from a busy machine's thread, a stall
that holds back several ticks, which then come at once) and what a sudden slower tempo
leaves. The next tick decides: one about a tick later confirms the loss; one at once
(the rest of a stall) or one as far again (a slower tempo) takes it back. Counting a
stall as lost ticks would put the beat ticks late and the tempo ~6 % fast for a beat
(answers planned then drift off the grid), so a tick owing a loss stays out of the fit
until it is decided.

Ticks are counted as the MIDI spec says: ``start`` sets the song position to 0 and the
next tick is its first (tick 0 is beat 0, the first downbeat); ``song position`` sets
the position in 16ths (6 ticks each) while stopped; ``continue`` resumes from it.
The clock is *alive* while it runs and its ticks keep coming: :meth:`ClockFollower.alive`
is false after ``stop``, before ``start``/``continue``, and once no tick came for
``timeout`` seconds (a cable pulled, a DAW gone).

:class:`ClockOut` makes the ticks for a clock we send: ``start``, then 24 ticks a beat
at a tempo it reads from its caller at each tick, then ``stop``. The scheduler sends them
(see :meth:`improviser.live.scheduler.Scheduler.add_timer`), with its precise wait, so
their jitter is the scheduler's.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence

__all__ = [
    "CLOCK",
    "CONTINUE",
    "FIT_TICKS",
    "PPQN",
    "SONG_POSITION",
    "START",
    "STOP",
    "ClockFollower",
    "ClockOut",
]

PPQN = 24
"""MIDI clock ticks per quarter note (one beat)."""
TICKS_PER_SIXTEENTH = 6
"""A song position pointer counts 16ths."""
FIT_TICKS = 24
"""Ticks in the tempo and phase fit: one beat."""
LOST_TICK_SHARE = 0.7
"""A gap of 1.7 ticks or more between two ticks counts one tick as lost, 2.7 two..."""
BUNCHED = 0.5
"""A tick less than half a tick after the one before came with it: that one was late."""
CLOCK, START, CONTINUE, STOP, SONG_POSITION = 0xF8, 0xFA, 0xFB, 0xFC, 0xF2


class ClockFollower:
    """Tempo and beat phase of an incoming MIDI clock."""

    def __init__(self, timeout: float = 0.5) -> None:
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self.timeout = timeout
        self.running = False
        """Between ``start``/``continue`` and ``stop``."""
        self.stopped = False
        """A ``stop`` came (and no ``start``/``continue`` since)."""
        self.position = 0
        """The song position, in ticks, of the next tick to come."""
        self.last_tick: float | None = None
        self._ticks: deque[tuple[int, float]] = deque(maxlen=FIT_TICKS)
        self._line: tuple[float, float] | None = None
        """(time of tick 0, seconds per tick) of the fit."""
        self._owed = 0
        """Ticks counted as lost on the way to :attr:`_owing` and not yet confirmed."""
        self._owing = 0
        """The position given to the tick that counted them."""

    # --- messages ----------------------------------------------------------------------------
    def tick(self, t: float) -> None:
        """A clock tick arrived at ``t``."""
        if not self.running and not self.stopped:
            # Ticks with no start seen: we joined a master already playing (or its start
            # was lost). Follow its tempo; the beat phase is right from its next start or
            # song position.
            self._resume(t)
        last, self.last_tick = self.last_tick, t
        lost = 0
        if last is not None and t - last > self.timeout:
            self._ticks.clear()  # a dropout: the old line no longer holds
            self._owed = 0
        elif last is not None and self.running and self._line is not None:
            lost = self._lost_before(t - last)
        if not self.running:
            return
        if lost:
            self._owed, self._owing = lost, self.position + lost
        self.position += lost
        self._ticks.append((self.position, t))
        self.position += 1
        if not self._owed:
            self._fit()

    def _lost_before(self, gap: float) -> int:
        """Ticks lost in a ``gap`` (seconds) before this tick; decides the last one's."""
        assert self._line is not None
        ticks = gap / self._line[1]
        if self._owed:
            if ticks < BUNCHED:  # the rest of a stall: the last tick was late, one less lost
                self._take_back(1)
                if self._owed:
                    return 0
            elif ticks < 1 + LOST_TICK_SHARE:  # a tick later: the loss was real
                self._owed = 0
            else:  # as far again: a slower tempo, nothing lost
                self._take_back(self._owed)
            self._fit()
            ticks = gap / self._line[1]
        return max(int(ticks - LOST_TICK_SHARE), 0)

    def _take_back(self, count: int) -> None:
        """Uncount ``count`` of the ticks owed as lost: the ticks since move back."""
        moved = [(k - count if k >= self._owing else k, t) for k, t in self._ticks]
        self._ticks = deque(moved, maxlen=FIT_TICKS)
        self.position -= count
        self._owing -= count
        self._owed -= count

    def start(self, t: float) -> None:
        """``start``: from the top; the next tick is beat 0."""
        self.position = 0
        self._resume(t)

    def resume(self, t: float) -> None:
        """``continue``: from the song position."""
        self._resume(t)

    def _resume(self, t: float) -> None:
        self.running = True
        self.stopped = False
        self.last_tick = t
        self._ticks.clear()
        self._owed = 0

    def stop(self, t: float) -> None:
        """``stop``: the position is kept for ``continue``."""
        self.running = False
        self.stopped = True

    def song_position(self, sixteenths: int) -> None:
        """A song position pointer (in 16ths)."""
        self.position = sixteenths * TICKS_PER_SIXTEENTH
        self._ticks.clear()
        self._line = None
        self._owed = 0

    def message(self, status: int, position: int, t: float) -> None:
        """A clock message by its status byte (``position``: a song position, in 16ths)."""
        if status == CLOCK:
            self.tick(t)
        elif status == START:
            self.start(t)
        elif status == CONTINUE:
            self.resume(t)
        elif status == STOP:
            self.stop(t)
        elif status == SONG_POSITION:
            self.song_position(position)

    # --- what it says -----------------------------------------------------------------------
    def alive(self, now: float) -> bool:
        """Running, with a tempo known, and a tick within ``timeout`` of ``now``."""
        return (
            self.running
            and self._line is not None
            and self.last_tick is not None
            and now - self.last_tick <= self.timeout
        )

    def deadline(self) -> float | None:
        """When the clock will have dropped out if no tick comes (``None``: not running)."""
        if not self.running or self.last_tick is None:
            return None
        return self.last_tick + self.timeout

    @property
    def seconds_per_beat(self) -> float | None:
        """The clock's beat, in seconds (``None``: not known yet)."""
        return None if self._line is None else self._line[1] * PPQN

    @property
    def bpm(self) -> float | None:
        """The clock's tempo (``None``: not known yet)."""
        spb = self.seconds_per_beat
        return None if spb is None else 60.0 / spb

    def beat_at(self, t: float) -> float:
        """The song position at ``t``, in beats (fractional); needs a tempo."""
        assert self._line is not None, "no tempo yet"
        origin, per_tick = self._line
        return (t - origin) / per_tick / PPQN

    def time_of(self, beat: float) -> float:
        """When the song position ``beat`` (in beats) falls, on the fitted line."""
        assert self._line is not None, "no tempo yet"
        origin, per_tick = self._line
        return origin + beat * PPQN * per_tick

    def next_beat(self, after: float, every: int = 1) -> float:
        """The first beat strictly after ``after`` whose number is a multiple of ``every``
        (``every`` = beats per bar: the next downbeat)."""
        beat = self.beat_at(after)
        k = (math.floor(beat / every + 1e-9) + 1) * every
        return self.time_of(k)

    def _fit(self) -> None:
        n = len(self._ticks)
        if n < 2:
            return
        mean_k = sum(k for k, _ in self._ticks) / n
        mean_t = sum(t for _, t in self._ticks) / n
        sxx = sum((k - mean_k) ** 2 for k, _ in self._ticks)
        sxy = sum((k - mean_k) * (t - mean_t) for k, t in self._ticks)
        per_tick = sxy / sxx
        if per_tick > 0:
            self._line = (mean_t - per_tick * mean_k, per_tick)


class ClockOut:
    """The ticks of a clock we send: ``start``, 24 ticks a beat, ``stop``."""

    def __init__(self, send: Callable[[Sequence[int]], None], bpm: Callable[[], float]) -> None:
        self._send = send
        self._bpm = bpm
        self._next: float | None = None
        self.ticks = 0

    def start(self, at: float) -> None:
        """Send ``start``; the first tick (beat 0) is due at ``at``."""
        self._send([START])
        self._next = at
        self.ticks = 0

    def stop(self) -> None:
        """Send ``stop``; no more ticks."""
        if self._next is not None:
            self._next = None
            self._send([STOP])

    def next_due(self) -> float | None:
        """When the next tick is due (``None``: stopped)."""
        return self._next

    def fire(self, now: float) -> None:
        """Send the tick due; plan the next one at the tempo now."""
        if self._next is None:
            return
        self._send([CLOCK])
        self.ticks += 1
        self._next += 60.0 / self._bpm() / PPQN
        self._next = max(self._next, now)  # far behind (a stall): skip ahead, never burst
