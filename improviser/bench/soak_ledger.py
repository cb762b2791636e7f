"""The figures of ``bench soak``, kept interval by interval with bounded memory.

Pure bookkeeping over timestamps (seconds, ``CLOCK_MONOTONIC`` in every process): the
synth's strict note tracking (a note sounding longer than any answer note may is
stuck), which of the player's phrases were answered, answer latency (an answer's first
note, from the time it was planned to leave to the synth hearing it: the answer is
timed to the beat, so counting from the phrase's end would measure that musical wait,
not the improviser) and the engine's cost per note
from the session's trace. Nothing here grows with the length of the run except the
rows themselves, so an hours-long soak measures the session, not its own bookkeeping.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from pathlib import Path

from improviser.bench.stats import summarize
from improviser.live.events import AnswerNote, Event, PhraseEnded, PlayerNote

__all__ = ["ANSWER_WINDOW", "SoakLedger", "engine_costs", "memory_mb"]

_OFF_SLACK = 0.1
"""Seconds after a phrase's last message within which the engine hears its last release."""
ANSWER_WINDOW = 10.0
"""Seconds after the engine ends a phrase within which its answer must be heard."""


def memory_mb(status: Path = Path("/proc/self/status")) -> dict[str, float]:
    """Resident memory (``VmRSS``) and own anonymous memory (``RssAnon``), MiB."""
    fields = {"VmRSS": "rss_mb", "RssAnon": "anon_mb"}
    out: dict[str, float] = {}
    for line in status.read_text().splitlines():
        key, _, value = line.partition(":")
        if key in fields:
            out[fields[key]] = int(value.split()[0]) / 1024
    return out


def engine_costs(
    trace: Sequence[tuple[str, float, float]], note_ons: set[float]
) -> tuple[list[float], list[float]]:
    """Milliseconds from dequeued to handled: of every message, and of the note-ons.

    ``trace`` is a drained part of :attr:`LiveSession.trace` (both stages of one message
    are appended together, so they are drained together); ``note_ons`` the message times
    of the player's note-ons (their :class:`PlayerNote` ``at``).
    """
    dequeued: dict[float, float] = {}
    every: list[float] = []
    ons: list[float] = []
    for stage, t, clock in trace:
        if stage == "dequeued":
            dequeued[t] = clock
        elif stage == "handled" and t in dequeued:
            ms = (clock - dequeued.pop(t)) * 1000
            every.append(ms)
            if t in note_ons:
                ons.append(ms)
    return every, ons


class SoakLedger:
    """What the synth heard and the session did, judged as it comes in."""

    def __init__(self, max_note_seconds: float) -> None:
        self.stuck_after = max_note_seconds + 1.0
        """A note sounding this long at the synth is stuck (no answer note lasts so long)."""
        self.sounding: dict[tuple[int, int], float] = {}
        self._stuck_seen: set[tuple[int, int, float]] = set()
        self._ons: deque[float] = deque()
        self._ends: deque[float] = deque()
        self._starts: deque[float] = deque()
        """When each answer's first note was planned to leave."""
        self._phrases: deque[tuple[float, ...]] = deque()
        self._offs: deque[float] = deque()
        """When the engine heard each of the player's releases (its PlayerNote events)."""
        self._lost: deque[tuple[float, int]] = deque()
        """(end, releases the engine never heard) of each recent phrase that lost some."""
        self.held_key_seconds = 30.0
        """How long a release JACK lost keeps a key held in the engine (the session's)."""
        self.origin = 0.0
        """When the player began (times in :attr:`unanswered` count from it)."""
        self.unanswered: list[dict[str, float | int | bool]] = []
        """Each unanswered phrase: when (seconds into the run), what it had, so it can be
        traced (a release lost on the way makes the engine wait ``held_phrase_gap``)."""
        self.latencies: list[float] = []
        """Milliseconds, since the last :meth:`take_interval`."""
        self.counts = {"stuck": 0, "answered": 0, "unanswered": 0, "ends_unheard": 0}
        """Since the last :meth:`take_interval`."""

    # --- input ----------------------------------------------------------------------------
    def heard(self, messages: Sequence[Sequence[float]]) -> None:
        """Messages the synth heard: ``(time, status, data1, data2)``."""
        for t, status, pitch, velocity in sorted(messages, key=lambda m: m[0]):
            kind, key = int(status) & 0xF0, (int(status) & 0x0F, int(pitch))
            if kind == 0x90 and velocity:
                self.sounding[key] = t
                self._ons.append(t)
            elif kind in (0x80, 0x90):
                self.sounding.pop(key, None)

    def events(self, events: Sequence[Event]) -> set[float]:
        """The session's events; the message times of the player's note-ons among them."""
        note_ons: set[float] = set()
        for e in events:
            if isinstance(e, PhraseEnded):
                self._ends.append(e.at)
            elif isinstance(e, PlayerNote) and e.velocity:
                note_ons.add(e.at)
            elif isinstance(e, PlayerNote):
                self._offs.append(e.at)
            elif isinstance(e, AnswerNote) and e.velocity and e.response is not None:
                self._starts.append(e.at if e.intended is None else e.intended)
        return note_ons

    def phrases(self, played: Sequence[Sequence[float]]) -> None:
        """Phrases the player finished: ``(start, end, dropped, burst, pedal, offs)``
        (``offs``: the note-offs it sent)."""
        self._phrases.extend(tuple(p) for p in played)

    # --- judging ----------------------------------------------------------------------------
    def judge(self, now: float, *, final: bool = False) -> None:
        """Match what can be matched by ``now`` (``final``: the run is over)."""
        ons = sorted(self._ons)
        for key, onset in self.sounding.items():
            if now - onset > self.stuck_after and (*key, onset) not in self._stuck_seen:
                self._stuck_seen.add((*key, onset))
                self.counts["stuck"] += 1
        while self._ends and (final or now - self._ends[0] > ANSWER_WINDOW):
            end = self._ends.popleft()
            if not any(end <= t <= end + ANSWER_WINDOW for t in ons):
                self.counts["ends_unheard"] += 1
        while self._starts and (final or now - self._starts[0] > ANSWER_WINDOW):
            start = self._starts.popleft()
            first = next((t for t in ons if start <= t <= start + ANSWER_WINDOW), None)
            if first is not None:
                self.latencies.append((first - start) * 1000)
        while len(self._phrases) > 1 or (final and self._phrases):
            phrase = self._phrases.popleft()
            start, end = phrase[0], phrase[1]
            until = self._phrases[0][0] if self._phrases else now
            lost = self._releases_lost(phrase)
            if lost:
                self._lost.append((end, lost))
            answered = any(end < t < until for t in ons)
            self.counts["answered" if answered else "unanswered"] += 1
            if not answered:
                self.unanswered.append(self._described(phrase, until))
        horizon = min(
            [now - 2 * ANSWER_WINDOW, *self._ends, *self._starts, *(p[1] for p in self._phrases)]
        )
        while self._ons and self._ons[0] < horizon:
            self._ons.popleft()
        first_start = min([now - 2 * ANSWER_WINDOW, *(p[0] for p in self._phrases)])
        while self._offs and self._offs[0] < first_start:
            self._offs.popleft()
        while self._lost and self._lost[0][0] < now - 2 * self.held_key_seconds:
            self._lost.popleft()

    def _releases_lost(self, phrase: tuple[float, ...]) -> int:
        """The phrase's note-offs the engine never heard (JACK lost them on the way in)."""
        if len(phrase) < 6:
            return 0
        start, end, sent = phrase[0], phrase[1], int(phrase[5])
        heard = sum(1 for t in self._offs if start <= t <= end + _OFF_SLACK)
        return max(sent - heard, 0)

    def _described(self, phrase: tuple[float, ...], until: float) -> dict[str, float | int | bool]:
        start, end, *what = phrase
        dropped, burst, pedal = [*what, 0, False, False][:3]
        # A release lost in this phrase or in one that ended within held_key_seconds before
        # it keeps a key held in the engine: the phrase then ends only held_phrase_gap
        # after its last note, and a shorter rest joins it to the next.
        since = start - self.held_key_seconds
        return {
            "start_s": round(start - self.origin, 3),
            "end_s": round(end - self.origin, 3),
            "rest_s": round(until - end, 3),
            "dropped": int(dropped),
            "burst": bool(burst),
            "pedal": bool(pedal),
            "releases_lost_before": sum(n for t, n in self._lost if since <= t <= end),
        }

    def take_interval(self) -> dict[str, float | int]:
        """This interval's counts and latency percentiles; starts the next interval."""
        lat = summarize(self.latencies)
        row: dict[str, float | int] = {
            **self.counts,
            "latency_n": lat["n"],
            "latency_p50_ms": lat["p50_ms"],
            "latency_p99_ms": lat["p99_ms"],
        }
        self.latencies = []
        self.counts = dict.fromkeys(self.counts, 0)
        return row
