"""The ``model`` control: load another model while the session plays.

The value is a plain file name inside ``live.models_dir`` (``.keras`` added; the NumPy
engine reads the ``.npz`` beside it). The name is checked at once; the model is loaded in
a worker thread (never on the MIDI path), then swapped in between phrases
(:meth:`~improviser.live.engine.engine.Improviser.between_phrases`). Loading or failing is told
as events (``model_loading``, ``model_loaded``, ``model_failed``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from improviser.config.live import LiveConfig
from improviser.errors import ControlError, ImproviserError
from improviser.inference import StepModel
from improviser.live.engine.controls import ControlSpec
from improviser.live.engine.engine import Improviser
from improviser.live.engine.loading import describe_engine
from improviser.live.engine.safe_path import MAX_NAME, inside
from improviser.live.events import Notice

__all__ = ["ModelControl"]

POLL_SECONDS = 0.05
"""How often a loaded model waits for the end of a phrase."""


class ModelControl:
    """The ``model`` control (see the module docstring)."""

    spec: ClassVar[ControlSpec] = ControlSpec(
        "model", "action", "load a model from models_dir; it plays from the next phrase"
    )

    def __init__(
        self,
        config: LiveConfig,
        engine: Improviser,
        *,
        load: Callable[[Path], StepModel],
        now: Callable[[], float],
        on_swap: Callable[[StepModel], None],
    ) -> None:
        self.config = config
        self.engine = engine
        self._load = load
        self._now = now
        self._on_swap = on_swap
        self.current: str | None = config.model.name
        """File name of the model playing."""
        self._task: asyncio.Task[None] | None = None

    def apply(self, value: object, at: float) -> object:
        """Check the name and start loading; the name asked for."""
        del at
        folder = self.config.models_dir
        if folder is None:
            raise ControlError("control 'model': off (no live.models_dir in the config)")
        path = inside(folder, value, ".keras", "model")
        if not (path.exists() or path.with_suffix(".npz").exists()):
            raise ControlError(f"control 'model': no model {path.name!r} in {folder}")
        if self._task is not None and not self._task.done():
            raise ControlError("control 'model': a model is loading already")
        self._task = asyncio.get_running_loop().create_task(
            self._swap(path), name="improviser.model-load"
        )
        return path.name

    async def _swap(self, path: Path) -> None:
        engine = self.engine
        self._notice("model_loading", f"loading {path.name}", "info")
        try:
            model = await asyncio.to_thread(self._load, path)
        except ImproviserError as exc:
            self._notice("model_failed", str(exc), "error")
            return
        while not engine.between_phrases(self._now()):  # noqa: ASYNC110 - polls the engine
            await asyncio.sleep(POLL_SECONDS)
        engine.swap_model(model, self._now())
        self.current = path.name
        self._on_swap(model)
        self._notice("model_loaded", f"{path.name} ({describe_engine(model)}) plays", "info")

    def _notice(self, topic: str, message: str, level: str) -> None:
        self.engine.bus.publish(Notice(self._now(), topic, message, level))

    def value(self) -> str | None:
        """The file name of the model playing."""
        return self.current

    async def close(self) -> None:
        """Stop a load under way."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @classmethod
    def schema(cls) -> dict[str, Any]:
        """A plain file name."""
        return {"type": "string", "minLength": 1, "maxLength": MAX_NAME}
