"""A live session: one ``async with`` object that owns every lifetime.

Entering :class:`LiveSession` loads the model, opens the output, starts the recording,
opens the input and starts the tasks (``improviser.engine``, ``improviser.scheduler``,
``improviser.recorder``, ``improviser.ports``, ``improviser.warm``) in a
:class:`asyncio.TaskGroup`. Leaving it — normally, on a signal or on an exception — stops
the tasks, closes the input, releases every sounding note (note-offs, then CC 123/120),
writes the recording a last time and closes the output: the reverse order.

The input callback (RtMidi's thread) only hands each parsed message to the loop with
``call_soon_threadsafe``; a bounded queue takes it, dropping the oldest (and counting)
when full, so the callback never waits.

Two things keep a note's answer quick after a rest: ``improviser.warm`` rehearses a model
step every ``keep_warm_ms`` without notes (a step on cold caches costs several times a
warm one), and the interpreter's switch interval is cut to 0.2 ms for the session, so a
thread that needs the GIL (the input callback's; the loop's while the recording is
written in a worker thread) gets it within that instead of within 5 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import numpy as np

from improviser.config.live import LiveConfig
from improviser.errors import ModelError
from improviser.inference import StepModel, make_engine, probe, read_metadata
from improviser.inference.select import PROBE_STEPS
from improviser.live.engine import Improviser
from improviser.live.midi import InMessage
from improviser.live.ports import MidiInput, MidiOutput, api_label, resolve_api
from improviser.live.recorder import Recorder
from improviser.live.scheduler import Scheduler

__all__ = ["LiveSession", "default_recording_path", "describe_engine", "load_step_model"]

_log = logging.getLogger("improviser.live")
GIL_SWITCH_SECONDS = 0.0002
"""The interpreter's switch interval during a session (the default is 5 ms)."""


def load_step_model(
    path: Path,
    engine: str = "numpy",
    device: str = "auto",
    *,
    report: Callable[[str], None] | None = None,
) -> StepModel:
    """The step engine of a model (see :func:`~improviser.inference.make_engine`).

    :class:`ModelError` if the model is missing or cannot play live. The NumPy engine, the
    default, never imports TensorFlow; ``report`` receives the start-up probe's lines.
    """
    needed = path if engine == "tf" else path.with_suffix(".npz")
    if not needed.exists():
        raise ModelError(
            f"{path}: model not found (no {needed.name}); train one with 'improviser train' "
            "or choose one with --model"
        )
    if path.with_suffix(".json").exists():
        objective = read_metadata(path).get("objective")
        if objective not in (None, "classes"):
            raise ModelError(f"{path}: a {objective!r} model cannot play live; use 'classes'")
    return make_engine(path, engine, device, report=report)


def describe_engine(model: StepModel) -> str:
    """``name on device`` of a step engine, for the log (``numpy on cpu``)."""
    name = getattr(model, "name", type(model).__name__)
    device = str(getattr(model, "device", "cpu")).strip("/").lower()
    return f"{name} on {device}"


def default_recording_path(sessions_dir: Path, prefix: str = "session") -> Path:
    """A fresh timestamped file name in ``sessions_dir``."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return sessions_dir / f"{prefix}-{stamp}.mid"


class LiveSession:
    """Ports, model, scheduler, engine and recorder of one live session."""

    def __init__(
        self,
        config: LiveConfig,
        *,
        model: StepModel | None = None,
        now: Callable[[], float] = time.perf_counter,
        rng: np.random.Generator | None = None,
        record_path: Path | None = None,
        trace: bool = False,
    ) -> None:
        self.config = config
        self._model = model
        self.model: StepModel | None = model
        """The step engine playing (loaded on entering unless one was given)."""
        self.now = now
        self._rng = rng
        self.record_path = record_path
        self.engine: Improviser | None = None
        self.scheduler: Scheduler | None = None
        self.recorder: Recorder | None = None
        self.input: MidiInput | None = None
        self.output: MidiOutput | None = None
        self.api: int | None = None
        self._queue: asyncio.Queue[InMessage] = asyncio.Queue(config.queue_size)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.dropped = 0
        self._last_handled = 0.0
        self.trace: list[tuple[str, float, float]] | None = [] if trace else None
        """With ``trace=True``: ``(stage, message time, clock)`` as each incoming message
        is ``enqueued`` (on the loop), ``dequeued`` (by the engine task) and ``handled``
        (the engine done with it, its answer sent if one was due at once). The message
        time is the input callback's clock, so it names the message."""

    # --- the input hand-off ------------------------------------------------------------------
    def _from_callback(self, message: InMessage) -> None:
        """Called on RtMidi's thread: hand over and return."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closing
                loop.call_soon_threadsafe(self._enqueue, message)

    def _enqueue(self, message: InMessage) -> None:
        if self.trace is not None:
            self.trace.append(("enqueued", message.time, self.now()))
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(message)

    # --- lifetime --------------------------------------------------------------------------------
    async def __aenter__(self) -> LiveSession:
        cfg = self.config
        self._loop = asyncio.get_running_loop()
        stack = contextlib.AsyncExitStack()
        await stack.__aenter__()
        try:
            model = self._model
            if model is None:
                model = load_step_model(
                    cfg.model,
                    cfg.engine,
                    cfg.device,
                    report=lambda line: _log.info("engine probe: %s", line),
                )
                (per_step,) = probe([model])
                _log.info(
                    "engine: %s, %.0f µs/note (median of %d; asked: engine %s, device %s)",
                    describe_engine(model),
                    per_step * 1e6,
                    PROBE_STEPS,
                    cfg.engine,
                    cfg.device,
                )
            self.model = model
            # A thread that wants the GIL (the input callback's, the loop's while the
            # recorder's writer runs in a worker) gets it within this, not within 5 ms.
            switch = sys.getswitchinterval()
            sys.setswitchinterval(GIL_SWITCH_SECONDS)
            stack.callback(sys.setswitchinterval, switch)
            self.api = resolve_api(cfg.api)
            self.output = MidiOutput(self.api, cfg.client_name, cfg.out_port, cfg.virtual)
            self.output.open()
            stack.callback(self.output.close)
            self.scheduler = Scheduler(
                self.output.send,
                self.now,
                max_note_seconds=cfg.max_note_seconds,
                spin_seconds=cfg.spin_ms / 1000,
            )
            if cfg.record:
                path = self.record_path or cfg.record_path
                if path is None:
                    path = default_recording_path(cfg.sessions_dir)
                self.recorder = Recorder(
                    path,
                    start=self.now(),
                    now=self.now,
                    bpm=cfg.recording_bpm,
                    flush_seconds=cfg.flush_seconds,
                )
                self.scheduler.listeners.append(self.recorder)
                stack.push_async_callback(self.recorder.finish)
            self.engine = Improviser(
                cfg, model, self.scheduler, now=self.now, rng=self._rng, recorder=self.recorder
            )
            stack.callback(self.scheduler.panic)
            stack.callback(self.engine.close)
            self.input = MidiInput(
                self.api,
                cfg.client_name,
                cfg.in_port,
                cfg.virtual,
                on_message=self._from_callback,
                clock=self.now,
            )
            self.input.open()
            stack.callback(self.input.close)
            self.engine.start()
            group = await stack.enter_async_context(asyncio.TaskGroup())
            stack.callback(self._cancel_tasks)
            self._tasks = [
                group.create_task(self._engine_loop(), name="improviser.engine"),
                group.create_task(self.scheduler.run(), name="improviser.scheduler"),
                group.create_task(self._watch_ports(), name="improviser.ports"),
            ]
            if cfg.keep_warm_ms > 0:
                self._tasks.append(group.create_task(self._keep_warm(), name="improviser.warm"))
            if self.recorder is not None:
                self._tasks.append(
                    group.create_task(self.recorder.run(), name="improviser.recorder")
                )
                self.recorder.armed = True
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        _log.info(
            "live (%s): in %r, out %r, mode %s",
            api_label(self.api),
            self.input.name,
            self.output.name,
            cfg.mode,
        )
        return self

    def _cancel_tasks(self) -> None:
        for task in self._tasks:
            task.cancel()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        stack, self._stack = self._stack, None
        self._loop = None
        if stack is None:
            return None
        return await stack.__aexit__(exc_type, exc, tb)

    # --- tasks -----------------------------------------------------------------------------------
    async def _engine_loop(self) -> None:
        engine = self.engine
        assert engine is not None
        while True:
            deadline = engine.next_deadline()
            message: InMessage | None = None
            if deadline is None:
                message = await self._queue.get()
            else:
                try:
                    async with asyncio.timeout(max(deadline - self.now(), 0.0)):
                        message = await self._queue.get()
                except TimeoutError:
                    pass
            if message is not None:
                trace = self.trace
                if trace is not None:
                    trace.append(("dequeued", message.time, self.now()))
                engine.handle(message)
                self._last_handled = self.now()
                engine.stats.dropped = self.dropped
                if trace is not None:
                    trace.append(("handled", message.time, self.now()))
            engine.tick(self.now())

    async def _keep_warm(self) -> None:
        engine = self.engine
        assert engine is not None
        period = self.config.keep_warm_ms / 1000
        while True:
            await asyncio.sleep(period)
            if self.now() - self._last_handled >= period:
                engine.rehearse()

    async def _watch_ports(self) -> None:
        engine, inp, out = self.engine, self.input, self.output
        assert engine is not None and inp is not None and out is not None
        ports = {"input": inp, "output": out}
        while True:
            await asyncio.sleep(self.config.port_poll_seconds)
            for which, port in ports.items():
                if which not in engine.ports_missing:
                    # Listing ports is a round trip to the MIDI server (0.3 ms, at times
                    # over 1 ms, on JACK): a worker thread waits for it, not the loop.
                    if not await asyncio.to_thread(port.present):
                        _log.warning(
                            "%s port %r vanished: notes released, waiting for %r to come back",
                            which,
                            port.name,
                            port.pattern,
                        )
                        engine.port_lost(which, self.now())
                elif port.reconnect():
                    _log.warning("%s port back: reconnected to %r", which, port.name)
                    engine.port_back(which)

    async def run_until(self, stop: asyncio.Event) -> None:
        """Play until ``stop`` is set."""
        await stop.wait()
