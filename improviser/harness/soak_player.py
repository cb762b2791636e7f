"""The outside client of ``bench soak`` and ``bench flood``: a keyboard and a synth.

Runs as ``python -m improviser.harness.soak_player`` (see :class:`PlayerProcess`) on the
JACK server ``JACK_DEFAULT_SERVER`` names, with the line protocol of
:func:`~improviser.harness.e2e_player.serve`. Its clients: ``soak-keys`` (output port
``keys``, which the improviser's input opens) and ``soak-synth`` (input port ``synth``,
which its output opens; every message heard is stamped with ``time.perf_counter()``,
``CLOCK_MONOTONIC``, the clock of every process).

Commands:

- ``play`` (``seconds``, ``seed``, ``rules``): play :func:`soak_script` in a thread and
  answer at once with the start time;
- ``report``: what the synth heard and the phrases finished since the last report;
- ``flood`` (``rate``, ``seconds``, ``seed``): send :func:`flood_messages` at ``rate``
  messages a second, then release every key; answer with the count of each kind sent;
- ``phrase`` (``pitches``, ``step``): one legato phrase;
- ``quit``: stop playing, release every key, close.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

import rtmidi

from improviser.harness.e2e_player import API, Stamps, clock, serve, wait_until
from improviser.harness.soak_script import ScriptRules, flood_messages, soak_script
from improviser.live.io.apis import close_client

__all__ = ["KEYS_CLIENT", "MODULE", "SYNTH_CLIENT", "SoakPlayer", "main"]

KEYS_CLIENT = "soak-keys"
SYNTH_CLIENT = "soak-synth"
MODULE = "improviser.harness.soak_player"
"""What :meth:`PlayerProcess.start` runs for this player."""


class SoakPlayer:
    """The keyboard and the synth (see the module docstring)."""

    def __init__(self) -> None:
        self.keys = rtmidi.MidiOut(API, KEYS_CLIENT)
        self.keys.open_virtual_port("keys")
        self.synth = Stamps()
        self._synth = rtmidi.MidiIn(API, SYNTH_CLIENT)
        self._synth.ignore_types(sysex=True, timing=True, active_sense=True)
        self._synth.set_callback(self.synth.callback)
        self._synth.open_virtual_port("synth")
        self._lock = threading.Lock()
        self._down: set[tuple[int, int]] = set()
        self._phrases: list[list[float]] = []
        self._sent = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def send(self, data: tuple[int, ...] | list[int]) -> None:
        """Send one message, keeping track of the keys down (for :meth:`close`)."""
        self.keys.send_message(list(data))
        if len(data) == 3 and data[0] & 0xE0 == 0x80:  # note-on or note-off
            key = (data[0] & 0x0F, data[1])
            with self._lock:
                if data[0] & 0xF0 == 0x90 and data[2]:
                    self._down.add(key)
                else:
                    self._down.discard(key)

    def play(
        self, seconds: float, seed: int = 0, rules: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Start playing the script in a thread."""
        script = soak_script(seconds, seed, ScriptRules(**(rules or {})))
        start = clock() + 0.05
        self._stop.clear()
        self._thread = threading.Thread(target=self._play, args=(script, start), daemon=True)
        self._thread.start()
        return {"started": start, "phrases": len(script)}

    def _play(self, script: list[Any], start: float) -> None:
        for phrase in script:
            for step in phrase.steps:
                wait_until(start + step.at)
                if self._stop.is_set():
                    return
                self.send(step.data)
                self._sent += 1
            with self._lock:
                offs = sum(1 for step in phrase.steps if step.data[0] & 0xF0 == 0x80)
                self._phrases.append(
                    [start + phrase.start, clock(), phrase.dropped, phrase.burst, phrase.pedal,
                     offs]
                )  # fmt: skip

    def report(self) -> dict[str, Any]:
        """Heard and finished since the last report; whether the script is still playing."""
        with self._lock:
            phrases, self._phrases = self._phrases, []
        playing = self._thread is not None and self._thread.is_alive()
        return {
            "heard": self.synth.take(),
            "phrases": phrases,
            "sent": self._sent,
            "playing": playing,
        }

    def flood(self, rate: float, seconds: float, seed: int = 0) -> dict[str, Any]:
        """Send ``rate`` messages a second for ``seconds``; the count of each kind sent."""
        messages = flood_messages(round(rate * seconds), seed)
        sent: Counter[str] = Counter()
        start = clock()
        done = 0
        while done < len(messages):
            due = min(len(messages), int((clock() - start) * rate) + 1)
            for kind, data in messages[done:due]:
                self.send(data)
                sent[kind] += 1
            done = due
            time.sleep(0.0005)
        elapsed = clock() - start
        released = self.release_all()
        return {"sent": dict(sent), "seconds": elapsed, "released": released, "end": clock()}

    def phrase(self, pitches: list[int], step: float) -> dict[str, Any]:
        """Play a legato phrase, ``step`` seconds a note; the time of its last release."""
        start = clock()
        for i, pitch in enumerate(pitches):
            wait_until(start + i * step)
            self.send((0x90, pitch, 90))
            wait_until(start + (i + 0.8) * step)
            self.send((0x80, pitch, 0))
        return {"end": clock()}

    def release_all(self) -> int:
        """Send a note-off for every key down; how many."""
        with self._lock:
            down = sorted(self._down)
        for channel, pitch in down:
            self.send((0x80 | channel, pitch, 0))
        return len(down)

    def close(self) -> None:
        """Stop playing, release every key, give JACK a few cycles, close both ports."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.release_all()
        time.sleep(0.05)
        close_client(self._synth, SYNTH_CLIENT)
        close_client(self.keys)


def main() -> None:
    """Serve commands on stdin until ``quit`` or end of input."""
    player = SoakPlayer()
    serve(
        {
            "play": player.play,
            "report": player.report,
            "flood": player.flood,
            "phrase": player.phrase,
        },
        player.close,
    )


if __name__ == "__main__":
    main()
