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
leaves. The ticks after decide, read against a line through the last few ticks before
the gap (:data:`JUDGE_TICKS`; Theil and Sen's, so a late tick among them does not tilt
it, and recent, so a tempo ramp does not leave it behind; a master's ticks are late,
never early): one that would be early by half a tick if the loss were real takes one
back (the rest of a stall); three on time, not bunched, confirm it; three long gaps in a
row are a slower tempo and take all back. Counting a stall as lost ticks would put the
beat ticks late and the tempo ~6 % fast for a beat (answers planned then drift off the
grid), and taking a real loss back (the tick after the gap came late, bunched with the
next) would put it a tick early for the rest of the song; so a tick owing a loss stays
out of the fit until it is decided. Before any tempo is known (the first ticks after a
start), the first ticks are numbered together: the steps between them that leave the
least delay at their spacing. A tick lost before the first one that comes cannot be
told from a master that waits before it.

Ticks are counted as the MIDI spec says: ``start`` sets the song position to 0 and the
next tick is its first (tick 0 is beat 0, the first downbeat); ``song position`` sets
the position in 16ths (6 ticks each) while stopped; ``continue`` resumes from it.
The clock is *alive* while it runs and its ticks keep coming: :meth:`ClockFollower.alive`
is false after ``stop``, before ``start``/``continue``, and once no tick came for
``timeout`` seconds (a cable pulled, a DAW gone).

:class:`ClockOut` makes the ticks for a clock we send: ``start``, then (a tick later)
24 ticks a beat at a tempo it reads from its caller at each tick, then ``stop``. The
scheduler sends them (see :meth:`improviser.live.timebase.scheduler.Scheduler.add_timer`),
with its precise wait, so their jitter is the scheduler's.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import deque
from collections.abc import Callable, Sequence

from improviser.live.timebase.tick_lines import (
    least_delay_numbers,
    least_squares,
    median_slope,
    robust_line,
)

__all__ = [
    "CLOCK",
    "CONNECT_SETTLE",
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
"""A tick less than half a tick after the one before came bunched with it."""
EARLY = 0.5
"""A tick that would be this early (in ticks) if a loss were real shows it was not."""
ON_TIME = 0.25
"""A tick no earlier than this (in ticks) if a loss were real is on time."""
CONFIRM_TICKS = 3
"""Ticks on time (if a loss was real), not bunched, that confirm it."""
UNDECIDED_TICKS = 8
"""Ticks a loss may stay undecided; then it is kept (none of them showed it false)."""
SLOWER_GAPS = 3
"""Long gaps in a row that are a slower tempo, not ticks lost."""
JUDGE_TICKS = 8
"""Ticks in the line a gap is judged by (the last ones: the beat's line lags a ramp)."""
STARTUP_TICKS = 7
"""Ticks in hand when the first tempo is found: all but the last numbered together, the
last placed against their line, as every tick after."""
FIT_APART = 0.25
"""A tick closer than this (in ticks, at the known tempo) to the one before was held back
with it: the tempo fit leaves it out (a tempo may double at once, not quadruple)."""
CLOCK_BPM = (10.0, 1000.0)
"""The tempi a clock may have: a fit outside them (ticks bunched by a stall) is not one."""
CLOCK, START, CONTINUE, STOP, SONG_POSITION = 0xF8, 0xFA, 0xFB, 0xFC, 0xF2
CONNECT_SETTLE = 0.05
"""Seconds from opening the output to a clock's ``start``: two JACK cycles or more at
any period up to 1024 frames at 48 kHz, for the connection made on opening to be live."""


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
        self.lost_ticks = 0
        """Ticks found lost on the way (counted in the song position all the same)."""
        self._ticks: deque[tuple[int, float]] = deque(maxlen=FIT_TICKS)
        self._line: tuple[float, float] | None = None
        """(time of tick 0, seconds per tick) of the fit."""
        self._owed: list[int] = []
        """Ticks counted as lost and not yet decided: for each, the position given to the
        tick after it (a position once for each tick lost before it)."""
        self._undecided = 0
        """Ticks since the first of them."""
        self._checks = 0
        """Ticks since the last one counted that were on time if it was lost."""
        self._long_gaps = 0
        """Long gaps in a row since the first: a slower tempo at the third."""
        self._owing_since = 0.0
        """When the tick before the first of them came."""
        self._judge: tuple[float, float] = (0.0, 1.0)
        """The line they are judged by: the last few ticks' before them."""

    # --- messages ----------------------------------------------------------------------------
    def tick(self, t: float) -> None:
        """A clock tick arrived at ``t``."""
        if not self.running and not self.stopped:
            # Ticks with no start seen: we joined a master already playing (or its start
            # was lost). Follow its tempo; the beat phase is right from its next start or
            # song position.
            self._resume(t)
        last, self.last_tick = self.last_tick, t
        if self.running and self._line is None and len(self._ticks) >= STARTUP_TICKS:
            held = self._number_first()
            self._place(held, self._ticks[-1][1])
        self._place(t, last)

    def _place(self, t: float, last: float | None) -> None:
        """Give the tick at ``t`` its position (``last``: when the one before came)."""
        lost = 0
        if last is not None and t - last > self.timeout:
            self._ticks.clear()  # a dropout: the old line no longer holds
            self._owed.clear()
        elif last is not None and self.running and self._line is not None:
            lost = self._lost_before(t, t - last)
        if not self.running:
            return
        if lost:
            if not self._owed:
                self._undecided = self._long_gaps = 0
                self._owing_since = last if last is not None else t
            self._owed += [self.position + lost] * lost
            self._checks = 0
        self.position += lost
        self._ticks.append((self.position, t))
        self.position += 1
        if not self._owed and self._line is not None:
            self._fit()

    def _lost_before(self, t: float, gap: float) -> int:
        """Ticks lost in a ``gap`` (seconds) before this tick at ``t``; decides the ones
        owed (see the module's docstring)."""
        assert self._line is not None
        ticks = gap / self._line[1]
        if not self._owed and ticks >= 1 + LOST_TICK_SHARE:
            # Judged on the last few ticks' line: the beat's lags a tempo ramp.
            recent = list(itertools.islice(reversed(self._ticks), JUDGE_TICKS))
            self._judge = robust_line(recent) or self._line
            ticks = gap / self._judge[1]
        if not self._owed:
            return max(int(ticks - LOST_TICK_SHARE), 0)
        origin, per_tick = self._judge
        ticks = gap / per_tick
        long_gap = ticks >= 1 + LOST_TICK_SHARE
        self._undecided += 1
        # How late this tick is if they were lost (it then has self.position).
        late = (t - origin) / per_tick - self.position
        while self._owed and late < -EARLY:  # the rest of a stall
            self._take_back()
            late += 1
        if long_gap:
            self._long_gaps += 1
            if self._long_gaps >= SLOWER_GAPS:  # a slower tempo: nothing was lost
                while self._owed:
                    self._take_back()
                # The line from the last tick at the old tempo on: the new one at once.
                slower = [(k, tt) for k, tt in self._ticks if tt >= self._owing_since]
                self._ticks = deque(slower, maxlen=FIT_TICKS)
        elif ticks >= BUNCHED and late >= -ON_TIME:
            self._checks += 1
        if self._checks >= CONFIRM_TICKS or self._undecided >= UNDECIDED_TICKS:
            self.lost_ticks += len(self._owed)  # on time since: they were lost
            self._owed.clear()
        if not self._owed:
            self._fit()
            ticks = gap / self._line[1]
        elif not long_gap:
            return 0
        return max(int(ticks - LOST_TICK_SHARE), 0)

    def _take_back(self) -> None:
        """Uncount the last tick owed as lost: the ticks since move back one."""
        owing = self._owed.pop()
        moved = [(k - 1 if k >= owing else k, t) for k, t in self._ticks]
        self._ticks = deque(moved, maxlen=FIT_TICKS)
        self._owed = [k - 1 if k >= owing else k for k in self._owed]
        self.position -= 1

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
        self._owed.clear()

    def stop(self, t: float) -> None:
        """``stop``: the position is kept for ``continue``."""
        self.running = False
        self.stopped = True

    def song_position(self, sixteenths: int) -> None:
        """A song position pointer (in 16ths)."""
        self.position = sixteenths * TICKS_PER_SIXTEENTH
        self._ticks.clear()
        self._line = None
        self._owed.clear()

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
        """The least-squares line through the ticks in hand; if some came bunched with the
        one before (:data:`FIT_APART`: held back by a stall, their times say nothing of
        the tempo), Theil and Sen's through the others. A line
        outside :data:`CLOCK_BPM` is not taken: the last one holds."""
        ticks = list(self._ticks)
        apart = ticks
        if self._line is not None and ticks:
            close = FIT_APART * self._line[1]
            apart = [ticks[0]] + [b for a, b in itertools.pairwise(ticks) if b[1] - a[1] >= close]
        # After a stall the first tick it held back is late too: a robust line for those.
        line = least_squares(ticks) if len(apart) == len(ticks) else robust_line(apart)
        low, high = CLOCK_BPM
        if line is not None and low <= 60.0 / (line[1] * PPQN) <= high:
            self._line = line

    def _number_first(self) -> float:
        """Number the first ticks (no tempo known to tell a lost one by): the steps
        between them that leave the least delay at their spacing (the median slope
        between pairs of them, robust to a late tick or two; found again once they are
        numbered), a lost tick costing half a tick's delay. The last one's number is left
        to be judged against their line, as every tick's after: its gap needs the tick
        after it to decide (a late tick or a lost one, see the module); its time is
        returned."""
        batch = list(self._ticks)[-STARTUP_TICKS:]
        times = [t for _, t in batch]
        gap = statistics.median(b - a for a, b in itertools.pairwise(times))
        tried = []
        for first_guess in (gap, median_slope(range(len(times)), times)):
            if first_guess > 0:
                spacing = median_slope(least_delay_numbers(times, first_guess)[1], times)
                if spacing > 0:
                    tried.append(least_delay_numbers(times, spacing))
        numbers = min(tried)[1] if tried else list(range(len(times)))
        positions = [batch[0][0] + k for k in numbers]
        self._ticks = deque(zip(positions[:-1], times[:-1], strict=True), maxlen=FIT_TICKS)
        self.position = positions[-2] + 1
        held = times[-1]
        self._fit()
        return held


class ClockOut:
    """The ticks of a clock we send: ``start``, 24 ticks a beat, ``stop``.

    ``start`` goes out when the scheduler first fires, not when :meth:`start` is
    called: a session opens its output (and JACK connects it) just before, and a message
    sent in the cycle before the server takes up the new connection never reaches the
    follower (a lost ``start`` was seen in CI), so the session plans it a few cycles
    ahead (``CONNECT_SETTLE``)."""

    def __init__(self, send: Callable[[Sequence[int]], None], bpm: Callable[[], float]) -> None:
        self._send = send
        self._bpm = bpm
        self._next: float | None = None
        self._started = False
        self.ticks = 0

    def start(self, at: float) -> None:
        """Plan ``start`` at ``at``; the first tick (beat 0) follows a tick later."""
        self._next = at
        self._started = False
        self.ticks = 0

    def stop(self) -> None:
        """Send ``stop`` (if ``start`` went out); no more ticks."""
        if self._next is not None:
            self._next = None
            if self._started:
                self._send([STOP])

    def next_due(self) -> float | None:
        """When the next tick is due (``None``: stopped)."""
        return self._next

    def fire(self, now: float) -> None:
        """Send what is due: ``start`` the first time, a tick after it; plan the next
        tick at the tempo now (the first one a tick after ``start``, as a drum machine
        leaves its followers time to get ready)."""
        if self._next is None:
            return
        if self._started:
            self._send([CLOCK])
            self.ticks += 1
        else:
            self._send([START])
            self._started = True
        self._next += 60.0 / self._bpm() / PPQN
        self._next = max(self._next, now)  # far behind (a stall): skip ahead, never burst
