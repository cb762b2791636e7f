"""The live engine: hears the player, keeps the model's context, dispatches to a mode.

:class:`Improviser` is a synchronous state machine: :meth:`~Improviser.handle` takes one
parsed incoming message, :meth:`~Improviser.tick` is called at the time
:meth:`~Improviser.next_deadline` asks for. It takes its clock, its model (any
:class:`~improviser.inference.StepModel`), its scheduler and its random generator by
injection, so unit tests run it on a fake clock with no sleeps;
:mod:`improviser.live.session.session` drives it from asyncio.

The engine owns what is common to every mode: the channel filter, the feedback guard,
the player's keys and pedal, thru, the model's context and the controls. It hears two
hands: the melody model steps on the top line only (:meth:`PlayerState.is_top`), and a
:class:`~improviser.live.engine.chord_watch.ChordWatch` hears every key and publishes the
chord off the note path. What to play, and when, is the mode's
(:mod:`improviser.live.engine.modes`); what happened goes to the bus as events.

The model is stepped on every player note, at its ``note_on``, so a prediction is always
ready. The note's duration is not known yet then: the step uses the player's previous
duration, and is redone with the real one at the ``note_off`` if no other note was
stepped in between (the usual case in a melody).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from improviser.config.live import LiveConfig
from improviser.inference import StepModel
from improviser.inference.context import ModelContext
from improviser.live.engine.chord_watch import ChordWatch
from improviser.live.engine.controls import Controls
from improviser.live.engine.deferred_harmony import DeferredHarmony
from improviser.live.engine.modes import AnswerMode, make_mode
from improviser.live.engine.player import CHORD_SPREAD, PlayerState
from improviser.live.engine.steering import Steering
from improviser.live.engine.voice import Harmony, Voice
from improviser.live.events import (
    AnswerEnded,
    AnswerFeed,
    AnswerStarted,
    Event,
    EventBus,
    KeyChanged,
    Notice,
    PlayerControl,
    PlayerNote,
    Status,
    StatusChanged,
)
from improviser.live.io.guard import FeedbackGuard
from improviser.live.io.midi import (
    ALL_NOTES_OFF,
    ALL_SOUND_OFF,
    SUSTAIN,
    InMessage,
    Kind,
    program_change,
)
from improviser.live.timebase.scheduler import THRU, Scheduler
from improviser.live.timebase.timing import Timing
from improviser.music.encoding import Token, duration_class, velocity_class
from improviser.music.listener import Listener, ListenParams
from improviser.music.sampling import SamplingParams

__all__ = ["Improviser"]

_log = logging.getLogger("improviser.live")


class Improviser(Steering):
    """Listens to the player and answers, in the configured mode, through a scheduler."""

    def __init__(
        self,
        config: LiveConfig,
        model: StepModel,
        scheduler: Scheduler,
        *,
        now: Callable[[], float],
        rng: np.random.Generator | None = None,
        bus: EventBus | None = None,
        harmony: Harmony | None = None,
    ) -> None:
        self.config = config
        self.scheduler = scheduler
        self.now = now
        self.bus = bus if bus is not None else EventBus()
        self.guard = FeedbackGuard(config.feedback_window)
        # What leaves the output is known to the feedback guard and published as events.
        scheduler.listeners += [self.guard, AnswerFeed(self.bus)]
        self.player = PlayerState(config.buried_key_notes)
        self.ear = ChordWatch(config.chord_window, self.bus.publish)
        """Every key the player holds, both hands: the chord heard."""
        self.listener = Listener(ListenParams.from_config(config))
        self.context = ModelContext(model, config.window, self.listener)
        self._key: str | None = None
        self.voice = Voice(
            config=config,
            context=self.context,
            scheduler=scheduler,
            timing=Timing(config, self._publish),
            player=self.player,
            publish=self._publish,
            now=now,
            rng=rng if rng is not None else np.random.default_rng(config.sampling.seed),
            harmony=None if harmony is None else DeferredHarmony(harmony),
        )
        self.mode: AnswerMode = make_mode(config.mode, self.voice)
        self.controls = Controls(self)
        self._status = self.status
        self._state_cc_sent: bool | None = None

    # --- what it is doing ---------------------------------------------------------------------
    @property
    def status(self) -> str:
        """``listening``, ``answering``, ``muted`` or ``waiting for port``."""
        if self.voice.waiting_for_port:
            return Status.WAITING
        if self.mode.playing:
            return Status.ANSWERING
        return Status.MUTED if self.voice.muted else Status.LISTENING

    @property
    def chord(self) -> str | None:
        """The chord the player plays, as last published (``None``: no chord)."""
        return self.ear.name

    @property
    def params(self) -> SamplingParams:
        """How notes are drawn now (controls change it)."""
        return self.voice.params

    def _publish(self, event: Event) -> None:
        self.bus.publish(event)
        if isinstance(event, AnswerStarted | AnswerEnded):
            self._update_status()  # the state CC goes out before the answer's first note

    def _update_status(self) -> None:
        status = self.status
        if status != self._status:
            self._status = status
            self.bus.publish(StatusChanged(self.now(), status))
        self._send_state()

    def _send_state(self, force: bool = False) -> None:
        cc = self.config.state_cc
        answering = self.mode.playing
        if cc is not None and (force or answering != self._state_cc_sent):
            self.scheduler.send_control(self.voice.out_channel, cc, 127 if answering else 0)
            self._state_cc_sent = answering

    def start(self) -> None:
        """Send what the output needs at the start (program change, state CC)."""
        channel = self.voice.out_channel
        if self.config.program is not None:
            self.scheduler.send_raw(program_change(channel, self.config.program - 1), channel)
        self._send_state(force=True)
        self.bus.publish(StatusChanged(self.now(), self.status))

    # --- input -------------------------------------------------------------------------------
    def handle(self, msg: InMessage) -> None:
        """Take one incoming message."""
        cfg = self.config
        if msg.kind == Kind.SYNC:
            self.voice.timing.clock_message(msg.data1, msg.data2, msg.time)
            return
        if cfg.in_channel is not None and msg.channel != cfg.in_channel - 1:
            return
        if msg.kind == Kind.CONTROL:
            self._control(msg)
        elif msg.kind == Kind.NOTE_ON:
            if not self.guard.is_echo_on(msg.channel, msg.data1, msg.time):
                self._note_on(msg)
        elif not self.guard.is_echo_off(msg.channel, msg.data1):
            self._note_off(msg)
        self._update_status()

    def _note_on(self, msg: InMessage) -> None:
        t, channel, pitch, velocity = msg.time, msg.channel, msg.data1, msg.data2
        self.bus.publish(PlayerNote(t, channel, pitch, velocity))
        self.mode.note_struck(t)
        if self.config.thru:
            self.scheduler.play_now(channel, pitch, velocity, THRU)
        self.player.press(channel, pitch, t)
        self.ear.press(pitch, t)
        if self.config.melody_line == "all" or self.player.is_top(pitch, t, self._forget_after):
            under = self._struck_under(pitch, t)
            if under is not None:  # the chord tone's key is the other hand's from now on
                keys = self.player.melody_keys
                self.player.melody_keys = {key for key in keys if key[1] != under[0]}
            self.player.melody = (pitch, velocity, t if under is None else under[1])
            self.player.heard_as_melody(channel, pitch)
            over = under is not None and self.context.note_revisable
            tell = self.mode.note_revised if over else self.mode.note_heard
            if self.mode.plays_first:
                tell(t)
                self._hear(pitch, velocity, t, over)
            else:
                self._hear(pitch, velocity, t, over)
                tell(t)

    def _struck_under(self, pitch: int, t: float) -> tuple[int, float] | None:
        """The melody note (pitch, onset) this key was struck with, a few milliseconds
        after it and above it: that note was a chord tone under this one, struck first
        (``None``: this key is a melody note of its own)."""
        melody = self.player.melody
        if self.config.melody_line == "all" or melody is None:
            return None
        held, _, onset = melody
        if pitch <= held or t - onset > CHORD_SPREAD:
            return None
        if not any(key[1] == held for key in self.player.melody_keys):
            return None
        return held, onset

    @property
    def _forget_after(self) -> float:
        """Seconds after which a held key no longer keeps a lower one off the top line."""
        return self.config.held_phrase_gap or self.config.held_key_seconds

    def _hear(self, pitch: int, velocity: int, t: float, over_chord: bool = False) -> None:
        """The model hears a melody note; ``over_chord``: in place of the chord tone it was
        struck with (one step for the two, at the chord tone's onset)."""
        context = self.context
        if over_chord and context.revise_note(pitch, velocity_class(velocity)):
            return
        last = context.last_onset
        ioi = 0 if last is None else self.voice.timing.ioi_class(t - last)
        token = Token(pitch, ioi, context.last_duration, velocity_class(velocity))
        context.hear(token, revisable=True)
        context.last_onset = t

    def _publish_key(self, at: float) -> None:
        """Publish the key the answers keep to when it changes."""
        found = self.listener.key
        key = None if found is None else found.name
        if key != self._key:
            self._key = key
            self.bus.publish(KeyChanged(at, key))

    def _note_off(self, msg: InMessage) -> None:
        t, channel, pitch = msg.time, msg.channel, msg.data1
        onset = self.player.release(channel, pitch, t)
        if onset is None:
            return
        self.ear.release(pitch, t)
        self.bus.publish(PlayerNote(t, channel, pitch, 0))
        if self.config.thru:
            self.scheduler.release(channel, pitch, THRU)
        if (channel, pitch) not in self.player.melody_keys:
            return  # the other hand: its note values are not the melody's
        self.player.melody_keys.discard((channel, pitch))
        duration = duration_class((t - onset) / self.voice.timing.seconds_per_beat)
        self.context.last_duration = duration
        self.context.revise_duration(pitch, duration)

    def _control(self, msg: InMessage) -> None:
        number, value, t = msg.data1, msg.data2, msg.time
        if self.controls.from_cc(number, value, t):
            return
        self.bus.publish(PlayerControl(t, msg.channel, number, value))  # the synth's pedal
        if number == SUSTAIN:
            lifted = self.player.set_pedal(value >= 64, t)
            if lifted and self.config.end_on_pedal_up:
                self.mode.end_call(t)
        elif number in (ALL_NOTES_OFF, ALL_SOUND_OFF):
            self._release_held(t)  # the player's own panic: no key is held any more

    def _release_held(self, at: float) -> None:
        """Every key held is taken as released now (recorded so, and the call may end)."""
        for channel, pitch in list(self.player.held):
            self.bus.publish(PlayerNote(at, channel, pitch, 0))
        self.player.release_all(at)
        self.ear.release_all(at)

    def next_deadline(self) -> float | None:
        """When :meth:`tick` must next be called (``None``: only on input)."""
        deadlines = [self.mode.next_deadline(), self.voice.timing.next_deadline()]
        oldest = self.player.oldest_hold()
        if oldest is not None:
            deadlines.append(oldest + self.config.held_key_seconds)
        return min((d for d in deadlines if d is not None), default=None)

    def tick(self, now: float) -> None:
        """Advance to ``now``: expire lost releases; the mode ends phrases and answers."""
        self._expire_holds(now)
        self.voice.timing.check(now)
        self.mode.tick(now)
        self._update_status()

    def _expire_holds(self, now: float) -> None:
        """Keys and a pedal held past ``held_key_seconds`` lost their release: let go."""
        keys, pedal = self.player.stale(now, self.config.held_key_seconds)
        if not keys and not pedal:
            return
        for channel, pitch in keys:
            self.player.release(channel, pitch, now)
            self.ear.release(pitch, now)
            self.player.melody_keys.discard((channel, pitch))
            self.bus.publish(PlayerNote(now, channel, pitch, 0))
            if self.config.thru:
                self.scheduler.release(channel, pitch, THRU)
        if pedal:
            self.player.set_pedal(False, now)
        what = f"{len(keys)} key(s)" + (" and the sustain pedal" if pedal else "")
        message = f"{what} held over {self.config.held_key_seconds:g} s: taken as released"
        _log.warning("%s", message)
        self.bus.publish(Notice(now, "stale_keys", message, count=len(keys) + pedal))

    def settle(self) -> None:
        """Take in what the notes so far queued: the beat tracker's onsets (a few hundred
        µs of grid scoring each) and the listener's notes. The session calls it right
        after a note when no message waits, so the next note, even one a few milliseconds
        later (before any pause work), does not pay for this one."""
        self.voice.timing.settle()
        self.listener.settle()
        if self.voice.harmony is not None:
            self.voice.harmony.settle()
        self.ear.publish_change(self.now(), self.voice.timing.seconds_per_beat)

    def idle(self, *, keep_warm: bool = True) -> None:
        """In a pause (the session calls it): the beat tracker and the listener take in
        what they queued, the key is published, a drifted state re-primed; ``keep_warm``:
        the model rehearses a step and prepares the next, so a note costs only its step."""
        self.settle()
        self._publish_key(self.now())
        self.listener.prepare()
        context = self.context
        if not self.mode.playing and len(self.player.held) <= 1:
            context.reprime_if_due()  # the state's drift reset off the note path
        if keep_warm:
            context.rehearse(self.voice.sampler)
            context.prepare()

    def close(self) -> None:
        """End any answer; the session then releases everything."""
        self.mode.silence(self.now())
