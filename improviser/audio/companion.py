"""The synth inside a live session: a companion that plays what the session plays.

:class:`SynthCompanion` is opened before the session starts (so a missing library,
SoundFont or audio output is one line and exit 2, before any port is opened), then runs
as one of the session's companion tasks (``companions={"improviser.synth": synth}``).
It reads the session's :class:`~improviser.live.events.EventBus` through a bounded
subscription, the way the MQTT bridge does:

- :class:`~improviser.live.events.PlayerNote`: the player's part (as the notes arrive;
  a stale key the session lets go of arrives as its release);
- :class:`~improviser.live.events.PlayerControl`: the player's pedals (sustain,
  sostenuto, soft: :data:`~improviser.audio.fluid.PEDALS`) on the player's part, so a
  note the pedal holds sounds on past its release, as on the player's own instrument;
- :class:`~improviser.live.events.AnswerNote`: the improviser's part, as its notes left
  the MIDI output (the player's notes echoed by ``thru`` are skipped: already heard).

The MIDI path does not wait for it: the bus hands an event to the subscription and
goes on; this task plays it when the loop next runs it, and FluidSynth renders on its
own audio thread. Leaving releases every note and closes the audio output (a file is
complete then).
"""

from __future__ import annotations

import logging
from types import TracebackType

from improviser.audio.fluid import IMPROVISER_CHANNEL, PEDALS, PLAYER_CHANNEL, FluidSynth
from improviser.audio.output import AudioOutput, choose_output
from improviser.config.synth import SynthConfig
from improviser.live.events import THRU, AnswerNote, Event, PlayerControl, PlayerNote
from improviser.live.session.session import LiveSession

__all__ = ["QUEUE_SIZE", "SynthCompanion"]

_log = logging.getLogger("improviser.synth")
QUEUE_SIZE = 4096
"""Events kept for the synth while the loop is busy; beyond it the oldest are dropped."""


class SynthCompanion:
    """FluidSynth playing a session's two parts, each on its own program."""

    def __init__(self, config: SynthConfig, *, jack_session: bool) -> None:
        self.config = config
        self.output: AudioOutput = choose_output(config, jack_session=jack_session)
        self.synth: FluidSynth | None = None
        self.played = 0
        """Note-ons played so far (both parts)."""
        self.dropped = 0
        """Events the synth's queue lost while the loop was behind."""

    def __repr__(self) -> str:
        return f"SynthCompanion({self.describe()})"

    def describe(self) -> str:
        """``synth: TimGM6mb.sf2, programs 0/11, JACK as improviser-synth``."""
        cfg = self.config
        font = cfg.soundfont.name if cfg.soundfont is not None else "Debian's GM SoundFont"
        if self.synth is not None:
            font = self.synth.soundfont.name
        programs = f"programs {cfg.player_program}/{cfg.improviser_program}"
        return f"synth: {font}, {programs}, {self.output.describe()}"

    def open(self) -> None:
        """Load FluidSynth and the SoundFont, start the audio output (SynthError if not)."""
        if self.synth is not None:
            return
        synth = FluidSynth(self.config)
        try:
            synth.start_audio(self.output.driver, self.output.settings)
        except BaseException:
            synth.close()
            raise
        self.synth = synth

    def close(self) -> None:
        """Release every note and close the output (a second call does nothing)."""
        synth, self.synth = self.synth, None
        if synth is not None:
            synth.release_all()
            synth.close()

    def __enter__(self) -> SynthCompanion:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def play(self, event: Event) -> None:
        """Sound one of the session's events, if it is a note or a pedal of the player's."""
        synth = self.synth
        if synth is None:
            return
        if isinstance(event, PlayerControl):
            if event.number in PEDALS:
                synth.control_change(PLAYER_CHANNEL, event.number, event.value)
            return
        if isinstance(event, PlayerNote):
            channel = PLAYER_CHANNEL
        elif isinstance(event, AnswerNote) and event.tag != THRU:
            channel = IMPROVISER_CHANNEL
        else:
            return
        synth.note_on(channel, event.pitch, event.velocity)
        if event.velocity:
            self.played += 1

    async def __call__(self, session: LiveSession) -> None:
        """Play the session's notes until cancelled (the session's companion task)."""
        self.open()
        events = session.bus.subscribe(QUEUE_SIZE)
        try:
            while True:
                self.play(await events.get())
                for event in events.drain():
                    self.play(event)
                if events.dropped != self.dropped:
                    self.dropped = events.dropped
                    _log.warning("synth: %d events dropped (the loop was behind)", self.dropped)
        finally:
            events.close()
            if self.synth is not None:
                self.synth.release_all()
