"""What the bridge publishes, built from the session: status, stats, events and notes."""

from __future__ import annotations

import datetime as dt
import os
import resource
import sys
import time
from dataclasses import dataclass

from improviser import __version__
from improviser.config.mqtt import MqttConfig
from improviser.live.engine.loading import describe_engine
from improviser.live.events import (
    THRU,
    AnswerEnded,
    AnswerNote,
    AnswerStarted,
    ChordHeard,
    Event,
    KeyChanged,
    Notice,
    PhraseEnded,
    PlayerNote,
    StatsReport,
    StatusChanged,
    SyncChanged,
)
from improviser.live.session.session import LiveSession
from improviser.telemetry.payloads import (
    EventPayload,
    NotePayload,
    PortState,
    StatsPayload,
    StatusPayload,
)
from improviser.telemetry.topics import Topics

__all__ = [
    "Message",
    "Messages",
    "event_payload",
    "offline_status",
    "resident_mb",
    "session_status",
]


@dataclass(frozen=True, slots=True)
class Message:
    """One publication."""

    topic: str
    payload: bytes
    qos: int
    retain: bool = False


def resident_mb() -> float | None:
    """Resident memory of this process in MB (Linux: now; elsewhere: the peak)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:  # noqa: PTH123 - hot, tiny
            pages = int(fh.read().split()[1])
        return round(pages * os.sysconf("SC_PAGE_SIZE") / 1e6, 1)
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return round(peak / (1e6 if sys.platform == "darwin" else 1e3), 1)


def offline_status(instance: str) -> StatusPayload:
    """The last will (and the goodbye): ``online: false``."""
    return StatusPayload(online=False, instance=instance, state="offline", version=__version__)


def session_status(
    session: LiveSession, instance: str, *, started: str, notes: bool
) -> StatusPayload:
    """What ``session`` is and does now (``started``: ISO time; ``notes``: published?)."""
    engine = session.engine
    assert engine is not None
    missing = engine.voice.ports_missing
    ports = {
        which: PortState(name=port.name, state="lost" if which in missing else "open")
        for which, port in (
            ("input", session.input),
            ("output", session.output),
            ("clock", session.clock_input),
        )
        if port is not None
    }
    recorder = session.recorder
    return StatusPayload(
        online=True,
        instance=instance,
        state=engine.status,
        version=__version__,
        mode=engine.config.mode,
        model=str(engine.controls.values().get("model") or session.config.model.name),
        engine=describe_engine(session.model) if session.model is not None else None,
        ports=ports,
        recording=None if recorder is None else str(recorder.path),
        settings=engine.controls.values(),
        key=None if (key := engine.listener.key) is None else key.name,
        chord=engine.chord,
        sync=engine.voice.timing.source,
        bpm=round(60.0 / engine.voice.timing.seconds_per_beat, 2),
        started=started,
        notes=notes,
    )


def event_payload(event: Event, started: float) -> EventPayload | None:
    """What an event says on ``events`` (``None``: a note, stats, a status change).

    ``started``: the session's start on its clock (``at`` counts from it).
    """
    at = round(event.at - started, 4)
    if isinstance(event, SyncChanged):
        message = f"following the {event.source} at {event.bpm:.1f} bpm"
        details = {"source": event.source, "bpm": round(event.bpm, 2)}
        return EventPayload(kind="sync", at=at, message=message, details=details)
    if isinstance(event, KeyChanged):
        message = f"answers keep to {event.key or 'no key'}"
        return EventPayload(kind="key", at=at, message=message, details={"key": event.key})
    if isinstance(event, ChordHeard):
        details = {"chord": event.name, "root": event.root, "quality": event.quality}
        details["bass"] = event.bass
        message = f"the player plays {event.name or 'no chord'}"
        return EventPayload(kind="chord", at=at, message=message, details=details)
    if isinstance(event, Notice):
        level = event.level if event.level in ("info", "warning", "error") else "warning"
        return EventPayload(kind=event.topic, at=at, level=level, message=event.message)
    return _dialogue(event, at)


def _dialogue(event: Event, at: float) -> EventPayload | None:
    """Phrases and answers."""
    if isinstance(event, PhraseEnded):
        message = f"phrase of {event.notes} notes ended"
        return EventPayload(kind="phrase_ended", at=at, message=message)
    if isinstance(event, AnswerStarted):
        return EventPayload(
            kind="answer_started", at=at, message=event.tag, details={"tag": event.tag}
        )
    if isinstance(event, AnswerEnded):
        kind = "answer_interrupted" if event.interrupted else "answer_ended"
        message = f"{event.tag}: {event.played} notes played"
        details = {"tag": event.tag, "played": event.played}
        return EventPayload(kind=kind, at=at, message=message, details=details)
    return None


class Messages:
    """Turns a session's state and events into messages for one instance."""

    def __init__(self, config: MqttConfig, session: LiveSession) -> None:
        self.config = config
        self.session = session
        self.topics = Topics(config.instance_name)
        self.started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.notes_skipped = 0
        self.mqtt_dropped = 0
        self.connects = 0
        self._allowance = config.notes_per_second
        self._refilled = time.monotonic()

    def status(self) -> Message:
        """The retained status now."""
        payload = session_status(
            self.session, self.topics.instance, started=self.started, notes=self.config.notes
        )
        return Message(self.topics.status, payload.encode(), self.config.qos, retain=True)

    def stats(self) -> Message:
        """The counters now."""
        payload = StatsPayload.model_validate(
            {
                **self.session.stats_values(),
                "mqtt_dropped": self.mqtt_dropped,
                "notes_skipped": self.notes_skipped,
                "mqtt_connects": self.connects,
                "resident_mb": resident_mb(),
            }
        )
        return Message(self.topics.stats, payload.encode(), self.config.qos)

    def of(self, event: Event) -> list[Message]:
        """The messages an event makes: a note, stats, an event, the status (or none).

        A notice (a port, the recording, the model) or a new key changes what the status
        says, so the status follows it.
        """
        if isinstance(event, PlayerNote | AnswerNote):
            note = self._note(event)
            return [] if note is None else [note]
        if isinstance(event, StatsReport):
            return [self.stats()]
        if isinstance(event, StatusChanged):
            return [self.status()]
        payload = self._event(event)
        if payload is None:
            return []
        message = Message(self.topics.events, payload.encode(), self.config.qos)
        follows = isinstance(event, Notice | KeyChanged | SyncChanged)
        return [message, self.status()] if follows else [message]

    def _event(self, event: Event) -> EventPayload | None:
        return event_payload(event, self.session.started)

    def _note(self, event: PlayerNote | AnswerNote) -> Message | None:
        if not self.config.notes:
            return None
        if not self._take_token():
            self.notes_skipped += 1
            return None
        is_answer = isinstance(event, AnswerNote) and event.tag != THRU
        payload = NotePayload(
            part="improviser" if is_answer else "player",
            at=round(event.at - self.session.started, 4),
            channel=event.channel + 1,
            pitch=event.pitch,
            velocity=event.velocity,
            tag=event.tag if isinstance(event, AnswerNote) else None,
        )
        return Message(self.topics.notes, payload.encode(), 0)

    def _take_token(self) -> bool:
        """A token bucket of ``notes_per_second``, holding a second's worth."""
        rate = self.config.notes_per_second
        now = time.monotonic()
        self._allowance = min(rate, self._allowance + (now - self._refilled) * rate)
        self._refilled = now
        if self._allowance < 1.0:
            return False
        self._allowance -= 1.0
        return True
