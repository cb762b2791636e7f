"""The session's recording while it runs: started, stopped and rotated by a control.

:class:`Recordings` holds the current :class:`~improviser.live.session.recorder.Recorder` (or
none), passes it the session's note events, keeps its file flushed and finishes the
recordings it leaves. :class:`RecordControl` is the ``record`` control: ``"start"``,
``"stop"``, ``"rotate"``, or ``{"action": ..., "file": "name.mid"}``; a file is a plain
name inside ``sessions_dir`` that does not exist yet (nothing is ever overwritten).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from improviser.config.live import LiveConfig
from improviser.errors import ControlError
from improviser.live.engine.controls import ControlSpec
from improviser.live.engine.safe_path import inside
from improviser.live.events import Event, Notice
from improviser.live.session.recorder import Recorder, default_recording_path

__all__ = ["RecordCommand", "RecordControl", "Recordings"]


class Recordings:
    """The current recording of a session, and the ones it has finished."""

    def __init__(
        self,
        config: LiveConfig,
        *,
        now: Callable[[], float],
        publish: Callable[[Event], None],
        on_error: Callable[[str | None], None] | None = None,
    ) -> None:
        self.config = config
        self._now = now
        self._publish = publish
        self._on_error = on_error
        self.recorder: Recorder | None = None
        """The recording being made (``None``: not recording)."""
        self._retired: list[Recorder] = []
        self._changed = asyncio.Event()

    def observe(self, event: Event) -> None:
        """Pass a session event to the current recording (an observer of the bus)."""
        recorder = self.recorder
        if recorder is not None:
            recorder.observe(event)

    def open(self, path: Path, *, armed: bool = True) -> Recorder:
        """Record to ``path`` from now on (the current recording, if any, is finished)."""
        cfg = self.config
        if self.recorder is not None:
            self._retired.append(self.recorder)
        self.recorder = Recorder(
            path,
            start=self._now(),
            now=self._now,
            bpm=cfg.recording_bpm,
            flush_seconds=cfg.flush_seconds,
        )
        self.recorder.armed = armed
        self._changed.set()
        return self.recorder

    def stop(self) -> Path:
        """Finish the current recording; its path. :class:`ControlError` if none."""
        recorder = self.recorder
        if recorder is None:
            raise ControlError("control 'record': not recording")
        self._retired.append(recorder)
        self.recorder = None
        self._changed.set()
        return recorder.path

    def notice(self, topic: str, message: str) -> None:
        """Tell the session's watchers about the recording."""
        self._publish(Notice(self._now(), topic, message, "info"))

    async def run(self) -> None:
        """Keep the current file flushed; finish the ones left behind. Until cancelled."""
        while True:
            self._changed.clear()
            recorder = self.recorder
            if recorder is not None:
                name = "improviser.recorder.flush"
                flushing = asyncio.create_task(recorder.run(self._on_error), name=name)
                try:
                    await self._changed.wait()
                finally:
                    flushing.cancel()
                    await asyncio.gather(flushing, return_exceptions=True)
            else:
                await self._changed.wait()
            await self._finish_retired()

    async def _finish_retired(self) -> None:
        while self._retired:
            recorder = self._retired[0]
            await recorder.finish()
            self._retired.pop(0)
            self.notice("recording_finished", f"recording finished: {recorder.path}")

    async def close(self) -> None:
        """Finish every recording (the session is over)."""
        with contextlib.suppress(Exception):
            await self._finish_retired()
        if self.recorder is not None:
            await self.recorder.finish()


class RecordCommand(BaseModel):
    """The ``record`` control's value in full (a bare string is the ``action``)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    action: Literal["start", "stop", "rotate"]
    """``start`` (not recording now), ``stop``, ``rotate`` (finish this file, start one)."""
    file: str | None = None
    """A plain file name inside ``sessions_dir`` (``.mid`` added); ``None``: timestamped."""


class RecordControl:
    """The ``record`` control (see the module docstring)."""

    spec: ClassVar[ControlSpec] = ControlSpec(
        "record", "action", "recording: start, stop or rotate (files inside sessions_dir)"
    )

    def __init__(self, recordings: Recordings) -> None:
        self.recordings = recordings

    def apply(self, value: object, at: float) -> object:
        """Start, stop or rotate; the file now recorded to (``None``: not recording)."""
        del at
        try:
            data = {"action": value} if isinstance(value, str) else value
            command = RecordCommand.model_validate(data)
        except ValidationError as exc:
            message = exc.errors()[0]["msg"]
            raise ControlError(f"control 'record': {message} (got {value!r})") from None
        recordings = self.recordings
        if command.action == "stop":
            if command.file is not None:
                raise ControlError("control 'record': 'stop' takes no file")
            recordings.stop()
            return self.value()
        path = self._path(command.file)
        if command.action == "start" and recordings.recorder is not None:
            raise ControlError(
                f"control 'record': already recording to {recordings.recorder.path} "
                "(use 'rotate' for a new file)"
            )
        recordings.open(path)
        event = "recording_started" if command.action == "start" else "recording_rotated"
        recordings.notice(event, f"recording to {self.value()}")
        return self.value()

    def _path(self, name: str | None) -> Path:
        folder = self.recordings.config.sessions_dir
        if name is None:
            path = default_recording_path(folder)
            stem, count = path.stem, 2
            while path.exists():
                path, count = folder / f"{stem}-{count}.mid", count + 1
            return path
        path = inside(folder, name, ".mid", "record")
        if path.exists():
            raise ControlError(f"control 'record': {path.name!r} exists (never overwritten)")
        return path

    def value(self) -> str | None:
        """The file recorded to now."""
        recorder = self.recordings.recorder
        return None if recorder is None else str(recorder.path)

    @classmethod
    def schema(cls) -> dict[str, Any]:
        """A bare action, or an action with a file name."""
        full = RecordCommand.model_json_schema()
        full.pop("title", None)
        return {"anyOf": [{"enum": ["start", "stop", "rotate"]}, full]}
