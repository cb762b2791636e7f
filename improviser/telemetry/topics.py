"""The topics of one instance: everything under ``improviser/<instance>/``."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ROOT", "Topics", "instance_of"]

ROOT = "improviser"


@dataclass(frozen=True, slots=True)
class Topics:
    """The topic names of one instance (``instance``: a name, or ``+`` to match any)."""

    instance: str

    @property
    def base(self) -> str:
        """``improviser/<instance>``."""
        return f"{ROOT}/{self.instance}"

    @property
    def status(self) -> str:
        """Retained; the last will says ``offline``."""
        return f"{self.base}/status"

    @property
    def notes(self) -> str:
        """The player's and the improviser's notes (when asked for)."""
        return f"{self.base}/notes"

    @property
    def stats(self) -> str:
        """The counters, every ``live.stats_seconds``."""
        return f"{self.base}/stats"

    @property
    def events(self) -> str:
        """Phrases, answers, ports, recordings, models, warnings."""
        return f"{self.base}/events"

    @property
    def ack(self) -> str:
        """A control was done."""
        return f"{self.base}/ack"

    @property
    def error(self) -> str:
        """A control was refused (nothing changed)."""
        return f"{self.base}/error"

    @property
    def controls(self) -> str:
        """The filter every control of this instance matches."""
        return f"{self.base}/set/+"

    def set(self, key: str) -> str:
        """Where the control ``key`` is sent."""
        return f"{self.base}/set/{key}"

    def control_key(self, topic: str) -> str | None:
        """The key of a control topic of this instance (``None``: not one)."""
        prefix = f"{self.base}/set/"
        if not topic.startswith(prefix):
            return None
        key = topic[len(prefix) :]
        return key if key and "/" not in key else None

    @property
    def all(self) -> str:
        """The filter every topic of this instance matches."""
        return f"{self.base}/#"


def instance_of(topic: str) -> str | None:
    """The instance a topic belongs to (``None``: not one of ours)."""
    parts = topic.split("/")
    if len(parts) < 3 or parts[0] != ROOT:
        return None
    return parts[1]
