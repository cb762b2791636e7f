"""Where the answers' tempo and beat come from, and where an answer starts.

:class:`Timing` is the live engine's one source of musical time (``live.sync``):

- ``clock``: an incoming MIDI clock (:class:`~improviser.live.timebase.clock.ClockFollower`)
  gives the tempo, the beat and the bar (counted from its ``start`` or song position).
  When it stops or drops out (no tick for ``clock_timeout``), the player's beat takes
  over until it runs again; each change is logged and published (a :class:`SyncChanged`
  event, and a :class:`Notice` when the clock is lost);
- ``player``: a :class:`~improviser.music.beat.BeatTracker` on the player's onsets (tempo
  and phase), fed by the call-and-response mode as it hears each note (follow mode does
  not pay for it: its notes answer at once, on no grid). Bars are counted from the
  beat nearest the call's first note;
- ``fixed``: ``live.bpm`` (or ``initial_bpm``), the beat counted from the call's first
  note. A ``bpm`` with sync ``player`` fixes the tempo too (as it did before sync).

:meth:`Timing.answer_start` places an answer's first note by ``live.answer_start``: at
once, on the next beat, or on the next downbeat (``beats_per_bar``). It reads no clock:
the caller passes the times.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable

from improviser.config.live import LiveConfig
from improviser.live.events import Event, Notice, SyncChanged
from improviser.live.timebase.clock import ClockFollower
from improviser.music.beat import BeatTracker, salience
from improviser.music.encoding import ioi_class

__all__ = ["Timing"]

_log = logging.getLogger("improviser.live")
_LATER_KEPT = 1024
"""Onsets waiting for the next settle at most (a flood between pauses drops the oldest)."""
_EARLY = 1e-6
"""A first note due this close after a beat still falls on it."""


def next_on_grid(anchor: float, period: float, after: float, every: int = 1) -> float:
    """The first time ``anchor + k·period`` strictly after ``after`` with ``k % every == 0``."""
    k = math.floor((after - anchor) / (period * every) + 1e-9) + 1
    return anchor + k * every * period


class Timing:
    """Tempo, beat and bar for the answers (see the module docstring)."""

    def __init__(self, config: LiveConfig, publish: Callable[[Event], None]) -> None:
        self.config = config
        self._publish = publish
        self.fixed_bpm: float | None = config.bpm
        if self.fixed_bpm is None and config.sync == "fixed":
            self.fixed_bpm = config.initial_bpm
        initial = min(max(config.initial_bpm, config.min_bpm), config.max_bpm)
        self.tracker = BeatTracker(config.min_bpm, config.max_bpm, initial)
        self.clock = ClockFollower(config.clock_timeout)
        self.source = self._fallback
        """Where the tempo comes from now: ``clock``, ``player`` or ``fixed``."""
        self._later: deque[tuple[float, float]] = deque(maxlen=_LATER_KEPT)
        """Onsets the tracker hears at the next :meth:`settle` (``onset(later=True)``)."""

    @property
    def _fallback(self) -> str:
        return "fixed" if self.fixed_bpm is not None else "player"

    # --- hearing ----------------------------------------------------------------------------
    def onset(self, at: float, velocity: int, *, later: bool = False) -> None:
        """The player struck a note (weighted by its velocity) at ``at``. ``later``: the
        tracker hears it at the next :meth:`settle`, so nothing that reads the tempo on the
        note's path (its IOI class) pays for the tracker's search over it."""
        if self.fixed_bpm is None:
            if later:
                self._later.append((at, salience(velocity)))
            else:
                self.tracker.onset(at, salience(velocity))

    def settle(self) -> None:
        """Do the beat tracker's pending work now (the session calls it while idle)."""
        while self._later:
            self.tracker.onset(*self._later.popleft())
        self.tracker.settle()

    def clock_message(self, status: int, position: int, at: float) -> None:
        """A MIDI clock message (see :meth:`ClockFollower.message`); ignored unless sync clock."""
        if self.config.sync == "clock":
            self.clock.message(status, position, at)
            self.check(at)

    def check(self, now: float) -> None:
        """Follow the clock coming and going: switch the source, say so."""
        if self.config.sync != "clock":
            return
        source = "clock" if self.clock.alive(now) else self._fallback
        if source == self.source:
            return
        self.source = source
        bpm = self.bpm
        if source == "clock":
            _log.info("following the MIDI clock at %.1f bpm", bpm)
        else:
            why = "stopped" if not self.clock.running else "dropped out"
            message = f"MIDI clock {why}: following the {source} tempo, {bpm:.1f} bpm"
            _log.warning("%s", message)
            self._publish(Notice(now, "sync", message))
        self._publish(SyncChanged(now, source, bpm))

    def next_deadline(self) -> float | None:
        """When :meth:`check` must run to notice the clock dropping out."""
        return self.clock.deadline() if self.source == "clock" else None

    # --- tempo and grid ----------------------------------------------------------------------
    @property
    def seconds_per_beat(self) -> float:
        """One beat, in seconds, from the current source."""
        if self.source == "clock":
            spb = self.clock.seconds_per_beat
            if spb is not None:
                return spb
        if self.fixed_bpm is not None:
            return 60.0 / self.fixed_bpm
        return self.tracker.period

    def ioi_class(self, seconds: float) -> int:
        """The IOI class of ``seconds`` since the last onset, at the tempo now.

        A chord's next note (0 at every tempo the beat tracker can hold: ``max_bpm`` is
        its fastest) does not wait for the tracker to take in the onset before it."""
        clock = self.source == "clock" and self.clock.seconds_per_beat is not None
        tracker = self.fixed_bpm is None and not clock
        if tracker and ioi_class(seconds * self.config.max_bpm / 60.0) == 0:
            return 0
        return ioi_class(seconds / self.seconds_per_beat)

    @property
    def bpm(self) -> float:
        """The tempo now."""
        return 60.0 / self.seconds_per_beat

    def next_beat(self, after: float, call_start: float, every: int = 1) -> float:
        """The first beat (``every`` = beats per bar: downbeat) strictly after ``after``.

        ``call_start`` is the call's first onset, on a downbeat unless a clock says
        where the bars are.
        """
        if self.source == "clock":
            return self.clock.next_beat(after, every)
        period = self.seconds_per_beat
        anchor = call_start
        if self.fixed_bpm is None and self.tracker.locked:
            anchor = self.tracker.next_beat(call_start - period / 2)  # the call's first beat
        return next_on_grid(anchor, period, after, every)

    def beat_in_bar(self, at: float, call_start: float) -> float:
        """Where ``at`` falls in its bar, in beats from the downbeat (0 <= x < beats per
        bar); a note within a 16th of a beat of a downbeat is on it."""
        spb = self.seconds_per_beat
        bar = self.config.beats_per_bar
        slack = spb / 16
        downbeat = self.next_beat(at - slack, call_start, bar)
        if downbeat <= at + slack:
            return 0.0
        return max(0.0, bar - (downbeat - at) / spb)

    def answer_start(self, earliest: float, call_start: float) -> float:
        """Where the answer's first note falls, at ``earliest`` or after (``answer_start``)."""
        how = self.config.answer_start
        if how == "now":
            return earliest
        every = self.config.beats_per_bar if how == "bar" else 1
        return self.next_beat(earliest - _EARLY, call_start, every)
