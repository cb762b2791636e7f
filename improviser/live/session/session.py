"""A live session: one ``async with`` object that owns every lifetime.

Entering :class:`LiveSession` loads the model, opens the output, starts the recording,
opens the input and starts the tasks (``improviser.engine``, ``improviser.scheduler``,
``improviser.recorder``, ``improviser.ports``, ``improviser.idle``, ``improviser.gc``,
``improviser.stats`` and any companions, e.g. ``improviser.mqtt``) in a
:class:`asyncio.TaskGroup`. Leaving it — normally, on a signal or on an exception —
stops the tasks, closes the input, releases every sounding note (note-offs, then CC
123/120), writes the recording a last time and closes the output: the reverse order.

The session wires its parts together: the engine and the scheduler publish on the
session's :class:`~improviser.live.events.EventBus`, whose observers are the statistics
and the recorder (both parts of the recording come from that one source) and whose
subscribers are whatever watches the session (the demo, benchmarks, the MQTT bridge).
A companion is composed by its caller (the CLI) and handed in: ``live/`` never imports
what watches it.

The input callback (RtMidi's thread) only hands each parsed message to the loop with
``call_soon_threadsafe``; a bounded queue takes it, dropping the oldest (and counting)
when full, so the callback never waits. The interpreter's switch interval is cut to
0.2 ms for the session, so a thread that needs the GIL (the input callback's; the
loop's while the recording is written in a worker thread) gets it within that instead of
within 5 ms; ``improviser.idle`` does in the pauses what a note need not wait for
(:func:`~improviser.live.session.chores.pause_work`); ``improviser.gc`` keeps the cycle
collector's full collections short (:mod:`improviser.live.session.gcpause`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from types import TracebackType

import numpy as np

from improviser.config.live import LiveConfig
from improviser.inference import StepModel
from improviser.live.engine.engine import Improviser
from improviser.live.engine.loading import load_step_model, open_harmony, open_model
from improviser.live.engine.model_swap import ModelControl
from improviser.live.engine.voice import Harmony
from improviser.live.events import EventBus, Notice, StatsReport
from improviser.live.io.inbox import Inbox, Trace
from improviser.live.io.midi import Kind
from improviser.live.io.ports import MidiInput, MidiOutput, api_label, resolve_api
from improviser.live.io.server import ServerWatch
from improviser.live.io.watch import watch_ports
from improviser.live.session.chores import every, pause_work, when_idle
from improviser.live.session.companions import guarded
from improviser.live.session.gcpause import SETTLE_IDLE_SECONDS, SETTLE_SECONDS, settle
from improviser.live.session.recorder import Recorder, default_recording_path
from improviser.live.session.recordings import RecordControl, Recordings
from improviser.live.session.stats import SessionStats
from improviser.live.timebase.clock import CONNECT_SETTLE, ClockOut
from improviser.live.timebase.off_repeat import OffRepeat
from improviser.live.timebase.scheduler import Scheduler

__all__ = ["Companion", "LiveSession"]

_log = logging.getLogger("improviser.live")
SETTLE_AFTER_SECONDS = 0.002
"""How long after a note its queued work (the beat tracker, the listener) waits, if no
message comes first: a JACK cycle and a half at 64 frames, so what the note sent has
left before that work takes the CPU."""
GIL_SWITCH_SECONDS = 0.0002
"""The interpreter's switch interval during a session (the default is 5 ms)."""

Companion = Callable[["LiveSession"], Coroutine[object, object, None]]
"""A task that runs beside the session (given the session once it is running)."""


class LiveSession:
    """Ports, model, scheduler, engine, recorder and events of one live session."""

    def __init__(
        self,
        config: LiveConfig,
        *,
        model: StepModel | None = None,
        now: Callable[[], float] = time.perf_counter,
        rng: np.random.Generator | None = None,
        record_path: Path | None = None,
        trace: bool = False,
        companions: Mapping[str, Companion] | None = None,
        harmony: Harmony | None = None,
    ) -> None:
        self.config = config
        self._model = model
        self.model: StepModel | None = model
        """The step engine playing (loaded on entering unless one was given)."""
        self._harmony = harmony
        self.harmony: Harmony | None = harmony
        """The harmony model (loaded on entering unless one was given; ``None``: none)."""
        self.now = now
        self._rng = rng
        self.record_path = record_path
        self.bus = EventBus()
        """Every event of the session (see :mod:`improviser.live.events`)."""
        self.stats = SessionStats()
        self.bus.observe(self.stats.observe)
        self.companions = dict(companions or {})
        self.started = now()
        self.engine: Improviser | None = None
        self.scheduler: Scheduler | None = None
        self.recordings = Recordings(
            config, now=now, publish=self.bus.publish, on_error=self._recording_error
        )
        """The recording (started, stopped and rotated by the ``record`` control)."""
        self.bus.observe(self.recordings.observe)
        self.input: MidiInput | None = None
        self.clock_input: MidiInput | None = None
        """The port the MIDI clock comes from, when it is not the input (``clock_port``)."""
        self.output: MidiOutput | None = None
        self.api: int | None = None
        self.server: ServerWatch | None = None
        """Watches the JACK server (a JACK session only)."""
        self._stack: contextlib.AsyncExitStack | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.last_handled = 0.0
        self.trace: Trace | None = [] if trace else None
        """With ``trace=True``: ``(stage, message time, clock)`` as each incoming message
        is ``enqueued`` (on the loop), ``dequeued`` (by the engine task) and ``handled``
        (the engine done with it, its answer sent if one was due at once). The message
        time is the input callback's clock, so it names the message."""
        self.inbox = Inbox(config.queue_size, now, self._dropped_one, self.trace)

    @property
    def recorder(self) -> Recorder | None:
        """The recording being made now (``None``: not recording)."""
        return self.recordings.recorder

    @property
    def dropped(self) -> int:
        """Incoming messages dropped because the engine's queue was full."""
        return self.stats.dropped

    @property
    def queue_depth(self) -> int:
        """Incoming messages waiting for the engine now."""
        return self.inbox.depth

    def _dropped_one(self) -> None:
        self.stats.dropped += 1

    # --- lifetime --------------------------------------------------------------------------------
    async def __aenter__(self) -> LiveSession:
        self.inbox.bind(asyncio.get_running_loop())
        stack = contextlib.AsyncExitStack()
        await stack.__aenter__()
        try:
            engine_lines = self._load_model()
            switch = sys.getswitchinterval()
            sys.setswitchinterval(GIL_SWITCH_SECONDS)
            stack.callback(sys.setswitchinterval, switch)
            self._open(stack)
            await self._start_tasks(stack)
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        assert self.input is not None and self.output is not None and self.api is not None
        for line in engine_lines:
            _log.info("%s", line)
        _log.info(
            "live (%s): in %r, out %r, mode %s",
            api_label(self.api),
            self.input.name,
            self.output.name,
            self.config.mode,
        )
        return self

    def _load_model(self) -> list[str]:
        """Load the models not given; the lines to log once the session has started."""
        lines = []
        if self._harmony is None:
            self.harmony, harmony_line = open_harmony(self.config)
            lines.append(harmony_line)
        if self._model is None:
            self.model, line = open_model(self.config)
            lines.insert(0, line)
        else:
            self.model = self._model
        return lines

    def _open(self, stack: contextlib.AsyncExitStack) -> None:
        """Open the output, the recording, the engine and the input, in that order."""
        cfg, model = self.config, self.model
        assert model is not None
        self.api = resolve_api(cfg.api)
        if api_label(self.api) == "jack":
            self.server = ServerWatch(cfg.client_name)
            self.server.start()
            stack.callback(self.server.close)
        self.output = MidiOutput(self.api, cfg.client_name, cfg.out_port, cfg.virtual)
        self._list_through_server(self.output)
        self.output.open()
        stack.callback(self.output.close)
        self.scheduler = Scheduler(
            self.output.send,
            self.now,
            max_note_seconds=cfg.max_note_seconds,
            spin_seconds=cfg.spin_ms / 1000,
        )
        if cfg.note_off_repeat > 0:
            repeat = OffRepeat(self.scheduler, cfg.note_off_repeat)
            self.scheduler.listeners.append(repeat)
            self.scheduler.add_timer(repeat)
        if cfg.record:
            path = self.record_path or cfg.record_path or default_recording_path(cfg.sessions_dir)
            self.recordings.open(path, armed=False)
        stack.push_async_callback(self.recordings.close)
        self.engine = Improviser(
            cfg,
            model,
            self.scheduler,
            now=self.now,
            rng=self._rng,
            bus=self.bus,
            harmony=self.harmony,
        )
        self._register_controls(self.engine, stack)
        stack.callback(self.scheduler.panic)
        stack.callback(self.engine.close)
        self.input = MidiInput(
            self.api,
            cfg.client_name,
            cfg.in_port,
            cfg.virtual,
            on_message=self.inbox.from_callback,
            clock=self.now,
            timing=cfg.sync == "clock" and cfg.clock_port is None,
            c_input=cfg.jack_input == "auto",
        )
        self._list_through_server(self.input)
        self.input.open()
        stack.callback(self.input.close)
        self._open_clock(stack)
        self.engine.start()
        settle()  # what lives all session is never walked by a full collection (gcpause)

    def _list_through_server(self, port: MidiInput | MidiOutput) -> None:
        """With JACK, the server watch lists the ports: no watcher client of our own."""
        if self.server is not None:
            port.lister = self.server.port_names
            if isinstance(port, MidiInput):
                port.quieter = self.server.quiet

    def _register_controls(self, engine: Improviser, stack: contextlib.AsyncExitStack) -> None:
        """The session's own controls: ``record`` and ``model``."""
        cfg = self.config
        engine.controls.register(RecordControl(self.recordings))
        models = ModelControl(
            cfg,
            engine,
            load=lambda path: load_step_model(path, cfg.engine, cfg.device),
            now=self.now,
            on_swap=self._model_swapped,
        )
        engine.controls.register(models)
        stack.push_async_callback(models.close)

    def _model_swapped(self, model: StepModel) -> None:
        self.model = model

    def _open_clock(self, stack: contextlib.AsyncExitStack) -> None:
        """The clock port we follow (``clock_port``), or the clock we send (``clock_out``)."""
        cfg, engine, scheduler, output = self.config, self.engine, self.scheduler, self.output
        assert engine is not None and scheduler is not None and output is not None
        assert self.api is not None
        if cfg.sync == "clock" and cfg.clock_port is not None:
            self.clock_input = MidiInput(
                self.api, f"{cfg.client_name}-clock", cfg.clock_port, False,
                on_message=self.inbox.from_callback, clock=self.now, timing=True,
                c_input=cfg.jack_input == "auto",
            )  # fmt: skip
            self._list_through_server(self.clock_input)
            self.clock_input.open()
            stack.callback(self.clock_input.close)
        if cfg.clock_out:
            clock_out = ClockOut(output.send, lambda: engine.voice.timing.bpm)
            scheduler.add_timer(clock_out)
            clock_out.start(self.now() + CONNECT_SETTLE)
            stack.callback(clock_out.stop)

    async def _start_tasks(self, stack: contextlib.AsyncExitStack) -> None:
        cfg, engine, scheduler = self.config, self.engine, self.scheduler
        assert engine is not None and scheduler is not None
        assert self.input is not None and self.output is not None
        group = await stack.enter_async_context(asyncio.TaskGroup())
        stack.callback(self._cancel_tasks)
        watched: dict[str, MidiInput | MidiOutput] = {"input": self.input, "output": self.output}
        if self.clock_input is not None:
            watched["clock"] = self.clock_input
        tasks = {
            "improviser.engine": self._engine_loop(engine),
            "improviser.scheduler": scheduler.run(),
            "improviser.ports": watch_ports(
                engine,
                watched,
                cfg.port_poll_seconds,
                self.server,
                exit_on_server_loss=cfg.on_server_loss == "exit",
            ),
            "improviser.stats": every(cfg.stats_seconds, self._publish_stats),
            "improviser.gc": when_idle(
                SETTLE_SECONDS, SETTLE_IDLE_SECONDS, self._last_handled, self.now, settle
            ),
        }
        tasks["improviser.idle"] = pause_work(engine, cfg, self._last_handled, self.now)
        tasks["improviser.recorder"] = self.recordings.run()
        if self.recorder is not None:
            self.recorder.armed = True
        for name, companion in self.companions.items():
            tasks[name] = guarded(name, companion(self))
        self._tasks = [group.create_task(coro, name=name) for name, coro in tasks.items()]

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
        self.inbox.bind(None)
        if stack is None:
            return None
        return await stack.__aexit__(exc_type, exc, tb)

    # --- tasks -----------------------------------------------------------------------------------
    async def _engine_loop(self, engine: Improviser) -> None:
        settle_at: float | None = None
        while True:
            deadline = engine.next_deadline()
            if settle_at is not None:
                deadline = settle_at if deadline is None else min(deadline, settle_at)
            message = await self.inbox.next(deadline)
            if message is not None:
                began = self.now()
                engine.handle(message)
                self.last_handled = self.now()
                if message.kind == Kind.NOTE_ON:
                    self.stats.engine_times.append(self.last_handled - began)
                if self.trace is not None:
                    self.trace.append(("handled", message.time, self.last_handled))
                if message.kind == Kind.NOTE_ON and not self.inbox.depth:
                    # This note's work is done before the next note, not on it; but not at
                    # once: the notes just sent leave in the next JACK cycle, which needs
                    # the CPU (on 2 cores the beat tracker's search right after the send
                    # put the accompaniment's p99 two cycles late at the synth).
                    settle_at = self.last_handled + SETTLE_AFTER_SECONDS
            elif settle_at is not None and self.now() >= settle_at:
                settle_at = None
                engine.settle()
            engine.tick(self.now())

    def _last_handled(self) -> float:
        return self.last_handled

    def _publish_stats(self) -> None:
        self.bus.publish(StatsReport(self.now(), self.stats_values()))

    def stats_values(self) -> dict[str, float | int | None]:
        """The session's counters now, as published every ``stats_seconds``."""
        return {
            **self.stats.summary(),
            "queue_depth": self.queue_depth,
            "events_dropped": self.bus.dropped,
            "uptime_s": round(self.now() - self.started, 3),
        }

    def _recording_error(self, message: str | None) -> None:
        if message is None:
            self.bus.publish(Notice(self.now(), "recording", "recording written again", "info"))
        else:
            self.bus.publish(Notice(self.now(), "recording", message, "error"))

    async def run_until(self, stop: asyncio.Event) -> None:
        """Play until ``stop`` is set."""
        await stop.wait()
