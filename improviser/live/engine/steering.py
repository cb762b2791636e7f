"""How the live engine is steered from outside: controls, ports coming and going, a new model.

:class:`Steering` is the part of :class:`~improviser.live.engine.engine.Improviser` that
answers the world rather than the player: the
:class:`~improviser.live.engine.controls.Controllable` calls a control makes (a setting,
mute and loop, panic, end the call, regenerate), a MIDI port lost and back, and the swap to
another model between phrases. It reads and changes the engine's own parts, declared here.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable

from improviser.config.live import LiveConfig
from improviser.inference import StepModel
from improviser.inference.context import ModelContext
from improviser.live.engine.chord_watch import ChordWatch
from improviser.live.engine.controls import LISTEN_CONTROLS, Controls
from improviser.live.engine.modes import AnswerMode, make_mode
from improviser.live.engine.player import PlayerState
from improviser.live.engine.voice import Voice
from improviser.live.events import EventBus, Notice
from improviser.live.timebase.scheduler import Scheduler
from improviser.music.listener import Listener, ListenParams
from improviser.music.sampling import SamplingParams

__all__ = ["Steering"]

_log = logging.getLogger("improviser.live")


class Steering(ABC):
    """Controls, ports and model swaps for the engine (a part of :class:`Improviser`, which
    gives the abstract methods)."""

    config: LiveConfig
    scheduler: Scheduler
    now: Callable[[], float]
    bus: EventBus
    player: PlayerState
    ear: ChordWatch
    listener: Listener
    context: ModelContext
    voice: Voice
    mode: AnswerMode
    controls: Controls

    @abstractmethod
    def _update_status(self) -> None:
        """Publish the status if it changed (the engine's)."""

    @abstractmethod
    def _publish_key(self, at: float) -> None:
        """Publish the key the answers keep to if it changed (the engine's)."""

    @abstractmethod
    def _release_held(self, at: float) -> None:
        """Take every key as released (the engine's)."""

    @abstractmethod
    def start(self) -> None:
        """Send what the output needs at the start."""

    # --- controls.Controllable ---------------------------------------------------------------
    def setting_changed(self, key: str, at: float) -> None:
        """Follow a setting a control changed."""
        if key in ("temperature", "top_p", "top_k"):
            self.voice.params = SamplingParams.from_config(self.config.sampling)
        elif key in LISTEN_CONTROLS:
            self.listener.params = ListenParams.from_config(self.config)
            self._publish_key(at)
        elif key == "mode" and self.config.mode != self.mode.name:
            self.mode.silence(at)
            self.mode = make_mode(self.config.mode, self.voice)
        _log.info("control %s = %r", key, self.controls.values().get(key))
        self._update_status()

    def switch(self, key: str, on: bool, at: float) -> None:
        """Mute or loop."""
        if key == "mute":
            self.voice.muted = on
            if on:
                self.mode.silence(at)
        elif key == "loop":
            self.voice.looping = on
        _log.info("control %s = %s", key, on)
        self._update_status()

    def switched(self, key: str) -> bool:
        """Whether mute or loop is on."""
        return self.voice.muted if key == "mute" else self.voice.looping

    def act(self, key: str, at: float) -> None:
        """Panic, end the call, or regenerate the last answer."""
        if key == "panic":
            self.mode.silence(at)
            self._release_held(at)
            self.scheduler.panic()
        elif key == "end_call":
            self.mode.end_call(at)
        elif key == "regenerate":
            self.mode.regenerate(at)
        _log.info("control %s", key)
        self._update_status()

    # --- ports -------------------------------------------------------------------------------
    def port_lost(self, which: str, at: float) -> None:
        """A port vanished: release what sounds, forget the half-played phrase (a lost
        clock port stops nothing: its ticks stop and the tempo falls back)."""
        self.voice.ports_missing.add(which)
        if which != "clock":
            self.mode.silence(at)
            self.scheduler.release_all()
        if which == "input":
            self._release_held(at)
            self.player.forget()
            self.ear.forget()
            self.context.forget_revision()
        self.bus.publish(Notice(at, "port_lost", f"{which} port lost"))
        self._update_status()

    def port_back(self, which: str) -> None:
        """A port is back: make the synth quiet and set up, carry on."""
        self.voice.ports_missing.discard(which)
        if which == "output":
            self.scheduler.panic()
            self.start()
        self.bus.publish(Notice(self.now(), "port_back", f"{which} port back", level="info"))
        self._update_status()

    # --- changing the model --------------------------------------------------------------------
    def between_phrases(self, now: float) -> bool:
        """No answer playing, no key held, and the player's last phrase is over."""
        if self.mode.playing or self.player.held:
            return False
        last = self.context.last_onset
        return last is None or now - last >= self.config.phrase_gap

    def swap_model(self, model: StepModel, at: float) -> None:
        """Play with ``model`` from now on: it hears the recent notes again, the mode restarts.

        Call it :meth:`between_phrases`: the mode's memory of the last call (kept in the
        old model's state) is dropped with it.
        """
        old = self.context
        context = ModelContext(model, self.config.window)
        context.prime(old.window)
        context.listener = self.listener  # what the session taught it stays (primed without)
        context.last_onset, context.last_duration = old.last_onset, old.last_duration
        self.mode.silence(at)
        self.context = self.voice.context = context
        self.mode = make_mode(self.config.mode, self.voice)
        self._update_status()
