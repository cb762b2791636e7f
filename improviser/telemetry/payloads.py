"""The JSON payload of every topic, as pydantic models (the schemas come from them).

``status`` (:class:`StatusPayload`, also the last will with ``online: false``),
``notes`` (:class:`NotePayload`), ``stats`` (:class:`StatsPayload`), ``events``
(:class:`EventPayload`), ``ack`` and ``error`` (:class:`ControlReply`). Times are
seconds since the session started (``at``) unless named otherwise.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ControlReply",
    "EventPayload",
    "NotePayload",
    "Payload",
    "PortState",
    "StatsPayload",
    "StatusPayload",
]


class Payload(BaseModel):
    """A message body: JSON, no key beyond those declared."""

    model_config = ConfigDict(extra="forbid")

    def encode(self) -> bytes:
        """The JSON bytes sent (``None`` fields left out)."""
        return self.model_dump_json(exclude_none=True).encode()


class PortState(Payload):
    """One MIDI port of the session."""

    name: str | None = None
    state: Literal["open", "lost"]


class StatusPayload(Payload):
    """``status``: what the instance is and does now (retained)."""

    online: bool
    instance: str
    state: str = Field(description="listening, answering, muted, waiting for port, offline")
    version: str
    mode: str | None = None
    model: str | None = Field(None, description="file name of the model playing")
    engine: str | None = Field(None, description="step engine and device, e.g. 'numpy on cpu'")
    ports: dict[str, PortState] | None = None
    recording: str | None = Field(None, description="file recorded to (absent: not recording)")
    settings: dict[str, Any] | None = Field(None, description="every control's current value")
    key: str | None = Field(None, description="the key answers keep to now, e.g. 'D minor'")
    chord: str | None = Field(
        None, description="the chord the player plays now (both hands), e.g. 'G7/B'"
    )
    sync: str | None = Field(
        None, description="where the beat comes from now: clock, player, fixed"
    )
    bpm: float | None = Field(None, description="the tempo answers are played at now")
    started: str | None = Field(None, description="ISO 8601 time the session started")
    notes: bool | None = Field(None, description="whether notes are published")


class NotePayload(Payload):
    """``notes``: one note of the player's or the improviser's (velocity 0: its release)."""

    part: Literal["player", "improviser"]
    at: float
    channel: int = Field(ge=1, le=16)
    pitch: int = Field(ge=0, le=127)
    velocity: int = Field(ge=0, le=127)
    tag: str | None = None


class StatsPayload(Payload):
    """``stats``: the session's counters (timings in ms; ``null`` before any sample)."""

    notes_in: int
    notes_out: int
    phrases: int
    answers: int
    interrupted: int
    reconnects: int = Field(description="MIDI ports come back")
    dropped: int = Field(description="incoming MIDI messages dropped (engine queue full)")
    response_p50_ms: float | None
    response_p99_ms: float | None
    jitter_p50_ms: float | None
    jitter_p99_ms: float | None
    engine_p50_ms: float | None = Field(description="engine time per note played (step, draw)")
    engine_p99_ms: float | None
    guard_releases: int = Field(description="keys or pedals taken as released (lost note-offs)")
    queue_depth: int
    events_dropped: int = Field(description="events dropped by every slow watcher together")
    uptime_s: float
    mqtt_dropped: int = Field(description="outgoing MQTT messages dropped (oldest first)")
    notes_skipped: int = Field(description="notes not published (over notes_per_second)")
    mqtt_connects: int = Field(description="connections made to the broker")
    resident_mb: float | None = Field(description="resident memory of the process")


class EventPayload(Payload):
    """``events``: something happened (``kind``), with one line for people."""

    kind: str = Field(
        description="phrase_ended, answer_started, answer_ended, answer_interrupted, key, chord, "
        "port_lost, port_back, recording_*, model_*, warning..."
    )
    at: float
    level: Literal["info", "warning", "error"] = "info"
    message: str
    details: dict[str, Any] | None = None


class ControlReply(Payload):
    """``ack`` (done; ``value`` now in force) and ``error`` (refused; nothing changed)."""

    key: str
    value: Any = Field(description="ack: the value in force; error: what was sent (or null)")
    message: str

    def encode(self) -> bytes:
        """The JSON bytes sent (``value`` always there, ``null`` included)."""
        return self.model_dump_json().encode()
