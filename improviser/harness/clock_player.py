"""Outside MIDI clock clients: a master that sends a clock, and a listener that times one.

:class:`ClockSender` is a drum machine or a DAW as the improviser sees it: a client with
one output port (``demo-clock:clock``) that sends ``start``, 24 ticks a beat from its own
thread (slept and then waited precisely), ``stop`` and ``continue``, and can change tempo
while it runs. It keeps the time each tick was due (a steady grid, as a hardware drum
machine's; a tick this thread sent late on a busy machine is the follower's noise), so
the beats the improviser should have followed are known.

:class:`ClockListener` is a synth or a drum machine following our ``--clock-out``: one
input port (``demo-clock-in:clock-in``) that keeps the arrival time of every tick, start
and stop, and of every note-on (the improviser's answers, when it is their output).
Arrival times come from RtMidi's delta times, stamped on its MIDI thread, so they measure
what JACK delivered, not when Python's callback got the GIL.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import rtmidi

from improviser.errors import PortError
from improviser.live.io.apis import close_client

__all__ = ["CLOCK_IN_CLIENT", "CLOCK_OUT_CLIENT", "ClockListener", "ClockSender"]

CLOCK_OUT_CLIENT = "demo-clock"
CLOCK_IN_CLIENT = "demo-clock-in"
_PPQN = 24
_NAP = 0.0002


def _precise_sleep_until(due: float) -> None:
    while (remaining := due - time.perf_counter()) > 0:
        time.sleep(remaining - 0.002 if remaining > 0.003 else min(remaining, _NAP))


class ClockSender:
    """A MIDI clock master on its own port, ticking from its own thread."""

    def __init__(self, api: int, name: str = CLOCK_OUT_CLIENT) -> None:
        try:
            self._out: Any = rtmidi.MidiOut(api, name)
            self._out.open_virtual_port("clock")
        except (rtmidi.RtMidiError, RuntimeError) as exc:
            raise PortError(f"cannot create the clock sender's port ({exc})") from exc
        self.bpm = 120.0
        self.ticks: list[float] = []
        """Due time of every tick since the last ``start`` (``continue`` keeps counting)."""
        self.sent: list[float] = []
        """When each of those ticks was sent (later than due on a busy machine)."""
        self._lock = threading.Lock()
        self._running = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, bpm: float | None = None) -> None:
        """Send ``start`` and tick from the top."""
        self.ticks, self.sent = [], []
        self._go(0xFA, bpm)

    def resume(self, bpm: float | None = None) -> None:
        """Send ``continue`` and tick on."""
        self._go(0xFB, bpm)

    def _go(self, status: int, bpm: float | None) -> None:
        self.stop(send=False)
        if bpm is not None:
            self.bpm = bpm
        self._out.send_message([status])
        self._running.set()
        self._thread = threading.Thread(target=self._run, name="demo-clock", daemon=True)
        self._thread.start()

    def stop(self, *, send: bool = True) -> None:
        """Stop ticking (and send ``stop``)."""
        self._running.clear()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if send:
            self._out.send_message([0xFC])

    def _run(self) -> None:
        due = time.perf_counter() + 0.001
        while self._running.is_set():
            _precise_sleep_until(due)
            self._out.send_message([0xF8])
            sent = time.perf_counter()
            with self._lock:
                self.ticks.append(due)
                self.sent.append(sent)
            due += 60.0 / self.bpm / _PPQN

    def times(self) -> tuple[list[float], list[float]]:
        """Copies of :attr:`ticks` and :attr:`sent`, taken together."""
        with self._lock:
            return list(self.ticks), list(self.sent)

    def beats(self, every: int = _PPQN) -> list[float]:
        """Due times of every ``every``-th tick since ``start`` (default: each beat)."""
        with self._lock:
            return self.ticks[::every]

    def close(self) -> None:
        """Stop and close the port."""
        self.stop(send=False)
        time.sleep(0.05)  # let JACK deliver what was sent
        close_client(self._out)


class ClockListener:
    """A clock follower on its own port: arrival times of ticks, start/stop and notes."""

    def __init__(self, api: int, name: str = CLOCK_IN_CLIENT) -> None:
        self.ticks: list[float] = []
        self.starts: list[float] = []
        self.stops: list[float] = []
        self.note_ons: list[float] = []
        self._stream = 0.0
        self._offset = float("inf")
        self._name = name
        try:
            self._in: Any = rtmidi.MidiIn(api, name)
            self._in.ignore_types(sysex=True, timing=False, active_sense=True)
            self._in.set_callback(self._callback)
            self._in.open_virtual_port("clock-in")
        except (rtmidi.RtMidiError, RuntimeError) as exc:
            raise PortError(f"cannot create the clock listener's port ({exc})") from exc

    def _callback(self, event: tuple[list[int], float], _data: object = None) -> None:
        self._stream += event[1]
        self._offset = min(self._offset, time.perf_counter() - self._stream)
        now = self._stream + self._offset
        data = event[0]
        if data[0] == 0xF8:
            self.ticks.append(now)
        elif data[0] == 0xFA:
            self.starts.append(now)
        elif data[0] == 0xFC:
            self.stops.append(now)
        elif len(data) == 3 and data[0] & 0xF0 == 0x90 and data[2] > 0:
            self.note_ons.append(now)

    def close(self) -> None:
        """Close the port."""
        close_client(self._in, self._name)
