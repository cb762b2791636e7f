"""The improviser's musical logic: listen, keep the model's state, answer.

:class:`Improviser` is a synchronous state machine: :meth:`~Improviser.handle` takes one
parsed incoming message, :meth:`~Improviser.tick` is called at the time
:meth:`~Improviser.next_deadline` asks for (the end of the player's phrase, the end of an
answer). It takes its clock, its model (any :class:`~improviser.inference.StepModel`),
its scheduler and its random generator by injection, so unit tests run it on a fake
clock with no sleeps; :mod:`improviser.live.session` drives it from asyncio.

The model is stepped on every player note, at its ``note_on``, so a prediction is always
ready. The note's duration is not known yet then: the step uses the player's previous
duration, and is redone with the real one at the ``note_off`` if no other note was
stepped in between (the usual case in a melody).

A model that offers the padded ``step_probs`` (a
:class:`~improviser.inference.ProbsStepModel`: the NumPy and TensorFlow engines) is
stepped through it, and notes are drawn from that array by
:meth:`~improviser.music.sampling.Sampler.sample_padded`, with no
:class:`~improviser.music.encoding.Distribution` built in between; anything with ``step`` (the
tests' fakes) goes through :meth:`~improviser.music.sampling.Sampler.sample`. Both draw the
same notes from the same generator.

Modes:

- ``call-response``: a phrase ends after ``phrase_gap`` seconds with no key held (and the
  sustain pedal up, unless told otherwise), on pedal-up if asked, or on the ``end_call``
  control. The answer is sampled from the model with its own rhythm, converted to
  seconds at the player's tempo, and scheduled. If the player starts again the answer
  stops and its notes are released (``interrupt``).
- ``follow``: each player note triggers the predicted next note after ``follow_delay``.

Generating never corrupts the listening state: the state is snapshotted before and
restored after. With ``context_includes_answer`` (the default) the answer's notes that
actually sounded then enter the context, as in a conversation: the state after the
k-th answer note is kept from generation and restored when the answer ends after k
notes. Follow-mode notes never enter the context (the player's notes are the context).
"""

from __future__ import annotations

import dataclasses
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from improviser.config.live import LiveConfig
from improviser.inference import ProbsStepModel, StepModel
from improviser.live.guard import FeedbackGuard
from improviser.live.midi import SUSTAIN, InMessage, Kind, program_change
from improviser.live.recorder import Recorder
from improviser.live.scheduler import THRU, Scheduler
from improviser.live.tempo import TempoEstimator
from improviser.music.encoding import (
    DURATION_BEATS,
    IOI_BEATS,
    Distribution,
    Token,
    duration_class,
    ioi_class,
    velocity_class,
    velocity_value,
)
from improviser.music.sampling import Sampler, SamplingParams

__all__ = ["EngineStats", "Improviser", "Status"]

_log = logging.getLogger("improviser.live")
_FOLLOW = "follow"
_QUARTER = DURATION_BEATS.index(1.0)

_REHEARSAL = Token(60, 0, _QUARTER, 4)
Prediction = Distribution | npt.NDArray[np.float64]
"""What a step returns: a :class:`Distribution`, or a model's padded ``step_probs`` array."""


class Status:
    """The engine's states, as published (e.g. on MQTT)."""

    LISTENING = "listening"
    ANSWERING = "answering"
    MUTED = "muted"
    WAITING = "waiting for port"


@dataclass(slots=True)
class EngineStats:
    """Counters of a session."""

    notes_in: int = 0
    phrases: int = 0
    answers: int = 0
    interrupted: int = 0
    dropped: int = 0
    """Incoming messages dropped because the queue was full."""
    response_times: list[float] = field(default_factory=list)
    """Seconds from the end of a phrase (or a followed note) to the first note sent."""
    phrase_ends: list[float] = field(default_factory=list)
    """Clock time at which each phrase was taken to be over."""
    reconnects: int = 0


@dataclass(slots=True)
class _Context:
    """Everything that defines what the model has heard."""

    state: object
    dist: Prediction | None
    window: tuple[Token, ...]
    last_onset: float | None
    last_duration: int
    steps: int


@dataclass(slots=True)
class _Planned:
    token: Token
    at: float
    duration: float
    velocity: int


@dataclass(slots=True)
class _Answer:
    tag: str
    phrase_end: float
    before: _Context
    planned: list[_Planned]
    after: list[tuple[object, Prediction]]
    """Model state and prediction after each planned note."""
    end: float
    first_sent: bool = False
    player_steps: int = 0
    """Player notes stepped while it played (then its notes do not enter the context)."""


class Improviser:
    """Listens to the player and answers through a :class:`Scheduler`."""

    def __init__(
        self,
        config: LiveConfig,
        model: StepModel,
        scheduler: Scheduler,
        *,
        now: Callable[[], float],
        rng: np.random.Generator | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        self.config = config
        self.model = model
        self.scheduler = scheduler
        self.recorder = recorder
        self.now = now
        self.rng = rng if rng is not None else np.random.default_rng(config.sampling.seed)
        self.stats = EngineStats()
        self.guard = FeedbackGuard(config.feedback_window)
        scheduler.listeners.append(self.guard)
        scheduler.listeners.append(self)
        self.tempo = TempoEstimator(
            config.initial_bpm, config.min_bpm, config.max_bpm, fixed_bpm=config.bpm
        )
        self._rehearsal_rng = np.random.default_rng(0)
        self._fast: ProbsStepModel | None = model if isinstance(model, ProbsStepModel) else None
        """The model, when it offers the padded ``step_probs`` the sampler draws from directly."""
        self.params = SamplingParams.from_config(config.sampling)
        self.out_channel = config.out_channel - 1
        self._controls = config.control_map()
        self._control_values: dict[int, int] = {}
        self.muted = False
        self.looping = False
        self.ports_missing: set[str] = set()
        # What the model has heard.
        self.model.reset()
        self._dist: Prediction | None = None
        self.window: deque[Token] = deque(maxlen=config.window)
        self._last_onset: float | None = None
        self._last_duration = _QUARTER
        self._steps = 0
        self._steps_since_reset = 0
        self._provisional: tuple[object, Token, float, int, int] | None = None
        # The player's current phrase.
        self._held: dict[tuple[int, int], float] = {}
        self._pedal = False
        self._call_onsets: list[float] = []
        self._last_release: float | None = None
        # Answers.
        self._answer: _Answer | None = None
        self._last_answer: _Answer | None = None
        self._answer_count = 0
        self._follow_triggers: deque[float] = deque()
        self._state_sent: str | None = None

    @property
    def params(self) -> SamplingParams:
        """How answers are drawn (the temperature control changes it)."""
        return self._sampler.params

    @params.setter
    def params(self, params: SamplingParams) -> None:
        self._sampler = Sampler(params)

    def _predict(self, token: Token) -> Prediction:
        """Step the model; the padded array if it offers one (no Distribution copy)."""
        if self._fast is not None:
            return self._fast.step_probs(token)
        return self.model.step(token)

    def _draw(self, prediction: Prediction, rng: np.random.Generator | None = None) -> Token:
        """Draw a note from a prediction of :meth:`_predict`."""
        rng = rng or self.rng
        if isinstance(prediction, Distribution):
            return self._sampler.sample(prediction, rng)
        return self._sampler.sample_padded(prediction, rng)

    def rehearse(self) -> None:
        """Step and draw as a note would, then put the model back: keeps the caches warm.

        Nothing the session has heard or will play changes: the state is restored and
        the draw uses its own generator, so a seeded session plays the same notes.
        """
        state = self.model.snapshot()
        token = self.window[-1] if self.window else _REHEARSAL
        try:
            self._draw(self._predict(token), self._rehearsal_rng)
        finally:
            self.model.restore(state)

    # --- status ------------------------------------------------------------------------------
    @property
    def status(self) -> str:
        """``listening``, ``answering``, ``muted`` or ``waiting for port``."""
        if self.ports_missing:
            return Status.WAITING
        if self._answer is not None:
            return Status.ANSWERING
        return Status.MUTED if self.muted else Status.LISTENING

    def start(self) -> None:
        """Send what the output needs at the start (program change, state CC)."""
        if self.config.program is not None:
            self.scheduler.send_raw(
                program_change(self.out_channel, self.config.program - 1), self.out_channel
            )
        self._send_state(force=True)

    def _send_state(self, force: bool = False) -> None:
        cc = self.config.state_cc
        if cc is None:
            return
        state = Status.ANSWERING if self._answer is not None else Status.LISTENING
        if force or state != self._state_sent:
            self.scheduler.send_control(self.out_channel, cc, 127 if self._answer else 0)
            self._state_sent = state

    # --- input ---------------------------------------------------------------------------------
    def handle(self, msg: InMessage) -> None:
        """Take one incoming message."""
        cfg = self.config
        if cfg.in_channel is not None and msg.channel != cfg.in_channel - 1:
            return
        if msg.kind == Kind.CONTROL:
            self._control(msg)
        elif msg.kind == Kind.NOTE_ON:
            if self.guard.is_echo_on(msg.channel, msg.data1, msg.time):
                return
            self._note_on(msg)
        elif not self.guard.is_echo_off(msg.channel, msg.data1):
            self._note_off(msg)

    def _note_on(self, msg: InMessage) -> None:
        t = msg.time
        self.stats.notes_in += 1
        if self._answer is not None and self.config.interrupt:
            self._finish_answer(t, interrupted=True)
        if self._answer is not None:
            self._answer.player_steps += 1
        if self.recorder is not None:
            self.recorder.note_on("player", msg.channel, msg.data1, msg.data2, t)
        if self.config.thru:
            self.scheduler.play_now(msg.channel, msg.data1, msg.data2, THRU)
        self._held[(msg.channel, msg.data1)] = t
        self._call_onsets.append(t)
        self._step_player(msg.data1, msg.data2, t)
        if self.config.mode == "follow":
            self._follow(t)

    def _note_off(self, msg: InMessage) -> None:
        t = msg.time
        onset = self._held.pop((msg.channel, msg.data1), None)
        if onset is None:
            return
        if self.recorder is not None:
            self.recorder.note_off("player", msg.channel, msg.data1, t)
        if self.config.thru:
            self.scheduler.release(msg.channel, msg.data1, THRU)
        self._correct_duration(msg.data1, t - onset)
        if not self._held:
            self._last_release = t

    def _control(self, msg: InMessage) -> None:
        number, value = msg.data1, msg.data2
        action = self._controls.get(number)
        if action is not None:
            previous = self._control_values.get(number, 0)
            self._control_values[number] = value
            self.apply_control(action, value, rising=value >= 64 > previous, at=msg.time)
            return
        if number == SUSTAIN:
            was_down, self._pedal = self._pedal, value >= 64
            if not self._pedal and not self._held:
                self._last_release = msg.time
            if was_down and not self._pedal and self.config.end_on_pedal_up:
                self._end_call(msg.time)

    def apply_control(self, action: str, value: int, *, rising: bool, at: float) -> None:
        """Act on a hands-on control (also reachable from MQTT later)."""
        cfg = self.config
        if action == "temperature":
            span = cfg.temperature_max - cfg.temperature_min
            temperature = cfg.temperature_min + span * value / 127
            self.params = dataclasses.replace(self.params, temperature=temperature)
        elif action == "mute":
            self.muted = value >= 64
            if self.muted:
                self._silence(at)
        elif action == "loop":
            self.looping = value >= 64
        elif not rising:
            return
        elif action == "end_call":
            self._held.clear()
            self._end_call(at)
        elif action == "panic":
            self._silence(at)
            self.scheduler.panic()
        elif action == "regenerate":
            self._regenerate(at)
        _log.info("control %s = %d", action, value)

    def _silence(self, at: float) -> None:
        if self._answer is not None:
            self._finish_answer(at, interrupted=True)
        self.scheduler.cancel(_FOLLOW)
        self._follow_triggers.clear()

    # --- the model's context -----------------------------------------------------------------
    def _step(self, token: Token) -> None:
        self._dist = self._predict(token)
        self.window.append(token)
        self._steps += 1
        self._steps_since_reset += 1

    def _step_player(self, pitch: int, velocity: int, t: float) -> None:
        spb = self.tempo.seconds_per_beat
        ioi = 0.0 if self._last_onset is None else (t - self._last_onset) / spb
        token = Token(pitch, ioi_class(ioi), self._last_duration, velocity_class(velocity))
        self._provisional = (self.model.snapshot(), token, t, pitch, self._steps)
        self._step(token)
        self._last_onset = t

    def _correct_duration(self, pitch: int, seconds: float) -> None:
        actual = duration_class(seconds / self.tempo.seconds_per_beat)
        self._last_duration = actual
        pending, self._provisional = self._provisional, None
        if pending is None:
            return
        state, token, _, p, step = pending
        if p != pitch or step + 1 != self._steps or token.duration == actual:
            return
        self.model.restore(state)
        self._dist = self._predict(token._replace(duration=actual))
        self.window[-1] = token._replace(duration=actual)

    def _save(self) -> _Context:
        return _Context(
            self.model.snapshot(),
            self._dist,
            tuple(self.window),
            self._last_onset,
            self._last_duration,
            self._steps,
        )

    def _load(self, ctx: _Context) -> None:
        self.model.restore(ctx.state)
        self._dist = ctx.dist
        self.window = deque(ctx.window, maxlen=self.config.window)
        self._last_onset = ctx.last_onset
        self._last_duration = ctx.last_duration
        self._steps = ctx.steps

    def _maybe_reprime(self) -> None:
        """Re-run the window from a fresh state once the state has seen far more notes.

        The model was trained on windows of a few dozen notes; a state carried through an
        hour of playing drifts away from anything it saw in training.
        """
        if self._steps_since_reset < 2 * self.config.window or not self.window:
            return
        self.model.reset()
        for token in self.window:
            self._dist = self._predict(token)
        self._steps_since_reset = len(self.window)

    # --- call and response ---------------------------------------------------------------------
    def next_deadline(self) -> float | None:
        """When :meth:`tick` must next be called (``None``: only on input)."""
        if self._answer is not None:
            return self._answer.end
        if self._phrase_open() and self._last_release is not None:
            return self._last_release + self.config.phrase_gap
        return None

    def _phrase_open(self) -> bool:
        return (
            self.config.mode == "call-response"
            and len(self._call_onsets) >= self.config.min_call_notes
            and not self._held
            and not (self._pedal and self.config.pedal_holds_phrase)
        )

    def tick(self, now: float) -> None:
        """Advance to ``now``: end a phrase whose silence is long enough, end answers."""
        answer = self._answer
        if answer is not None:
            if now >= answer.end and self.scheduler.pending(answer.tag) == 0:
                self._finish_answer(now, interrupted=False)
                if self.looping and not self.muted and answer.planned:
                    self._replay(answer, now)
            return
        deadline = self.next_deadline()
        if deadline is not None and now >= deadline:
            self._end_call(deadline)

    def _end_call(self, at: float) -> None:
        """The player's phrase is over at ``at``: answer it."""
        onsets, self._call_onsets = self._call_onsets, []
        last_release, self._last_release = self._last_release, None
        if not onsets or self.config.mode != "call-response":
            return
        self.stats.phrases += 1
        self.stats.phrase_ends.append(at)
        self.tempo.update(onsets)
        if self.muted or self._dist is None or self.ports_missing:
            return
        spb = self.tempo.seconds_per_beat
        call_beats = max(((last_release or at) - onsets[0]) / spb, 1.0)
        self._answer_from(self._save(), at, call_beats)

    def _answer_from(self, before: _Context, phrase_end: float, call_beats: float) -> None:
        cfg = self.config
        if cfg.answer_length == "notes":
            max_notes, max_beats = cfg.answer_notes, float("inf")
        else:
            max_notes = cfg.max_answer_notes
            max_beats = cfg.answer_beats if cfg.answer_length == "beats" else call_beats
        start = max(self.now(), phrase_end) + cfg.answer_delay
        self._answer_count += 1
        answer = _Answer(
            tag=f"answer-{self._answer_count}",
            phrase_end=phrase_end,
            before=before,
            planned=[],
            after=[],
            end=start,
        )
        self._begin(answer)
        self._generate(answer, start, max_notes, max_beats)
        self.scheduler.process_due(self.now())

    def _generate(self, answer: _Answer, start: float, max_notes: int, max_beats: float) -> None:
        """Draw the answer note by note, scheduling each as it is drawn.

        The first note is due at once (at the end of the phrase, unless ``answer_delay``):
        it leaves as soon as it is drawn, before the rest of the answer is generated.
        """
        before = answer.before
        assert before.dist is not None
        spb = self.tempo.seconds_per_beat
        cap = self.scheduler.max_note_seconds
        dist, at, beats = before.dist, start, 0.0
        try:
            for i in range(max_notes):
                token = self._draw(dist)
                if i == 0:
                    gap = 0.0 if before.last_onset is None else (at - before.last_onset) / spb
                    token = token._replace(ioi=ioi_class(gap))
                else:
                    step = IOI_BEATS[token.ioi]
                    if beats + step >= max_beats:
                        break
                    beats += step
                    at += step * spb
                velocity = round(velocity_value(token.velocity) * self.config.velocity_scale)
                duration = min(DURATION_BEATS[token.duration] * spb, cap)
                planned = _Planned(token, at, duration, min(max(velocity, 1), 127))
                answer.planned.append(planned)
                answer.end = max(answer.end, at + duration)
                self._schedule(answer.tag, planned)
                if i == 0:
                    self.scheduler.process_due(self.now())
                dist = self._predict(token)
                answer.after.append((self.model.snapshot(), dist))
        finally:
            self.model.restore(before.state)

    def _schedule(self, tag: str, p: _Planned) -> None:
        self.scheduler.note(
            self.out_channel, p.token.pitch, p.velocity, at=p.at, duration=p.duration, tag=tag
        )

    def _begin(self, answer: _Answer) -> None:
        """``answer`` is the one playing now."""
        self._answer = answer
        self.stats.answers += 1
        self._send_state()

    def _play(self, answer: _Answer) -> None:
        """Play an answer planned before (a repeat)."""
        self._begin(answer)
        for p in answer.planned:
            self._schedule(answer.tag, p)
        # A note due now leaves at once rather than when the scheduler task wakes.
        self.scheduler.process_due(self.now())

    def _replay(self, answer: _Answer, now: float) -> None:
        shift = now - answer.planned[0].at
        self._answer_count += 1
        again = dataclasses.replace(
            answer,
            tag=f"answer-{self._answer_count}",
            phrase_end=now,
            planned=[dataclasses.replace(p, at=p.at + shift) for p in answer.planned],
            end=answer.end + shift,
            first_sent=False,
            player_steps=0,
            after=[],  # a repeat does not enter the context again
        )
        self._play(again)

    def _regenerate(self, at: float) -> None:
        last = self._answer or self._last_answer
        if last is None:
            return
        if self._answer is not None:
            self._finish_answer(at, interrupted=True, keep_context=False)
        elif self._call_onsets or self._steps != last.before.steps + len(last.after):
            self._end_call(at)  # the player has moved on: answer that instead
            return
        self._load(last.before)
        self._answer_from(last.before, at, _beats(last, self.tempo.seconds_per_beat))

    def _finish_answer(self, at: float, *, interrupted: bool, keep_context: bool = True) -> None:
        answer, self._answer = self._answer, None
        if answer is None:
            return
        played = self.scheduler.sent_by_tag.pop(answer.tag, 0)
        self.scheduler.cancel(answer.tag)
        if interrupted:
            self.stats.interrupted += 1
        self._last_answer = answer
        played = min(played, len(answer.after))
        if (
            keep_context
            and self.config.context_includes_answer
            and played
            and answer.player_steps == 0
        ):
            state, dist = answer.after[played - 1]
            self.model.restore(state)
            self._dist = dist
            for p in answer.planned[:played]:
                self.window.append(p.token)
            self._steps += played
            self._steps_since_reset += played
            self._last_onset = answer.planned[played - 1].at
            self._last_duration = answer.planned[played - 1].token.duration
        self._send_state()
        self._maybe_reprime()

    # --- follow ----------------------------------------------------------------------------------
    def _follow(self, t: float) -> None:
        if self.muted or self._dist is None or self.ports_missing:
            return
        token = self._draw(self._dist)
        spb = self.tempo.seconds_per_beat
        velocity = round(velocity_value(token.velocity) * self.config.velocity_scale)
        at = t + self.config.follow_delay
        self._follow_triggers.append(t)
        self.scheduler.note(
            self.out_channel,
            token.pitch,
            min(max(velocity, 1), 127),
            at=at,
            duration=DURATION_BEATS[token.duration] * spb,
            tag=_FOLLOW,
        )
        self.scheduler.process_due(self.now())
        if self._steps_since_reset >= 2 * self.config.window and len(self._held) <= 1:
            self._provisional = None
            self._maybe_reprime()

    # --- scheduler.NoteListener ------------------------------------------------------------------
    def note_sent(self, channel: int, pitch: int, velocity: int, tag: str, at: float) -> None:
        """Measure response times from what actually left."""
        answer = self._answer
        if answer is not None and tag == answer.tag and not answer.first_sent:
            answer.first_sent = True
            self.stats.response_times.append(at - answer.phrase_end)
        elif tag == _FOLLOW and self._follow_triggers:
            self.stats.response_times.append(at - self._follow_triggers.popleft())

    def note_released(self, channel: int, pitch: int, tag: str, at: float) -> None:
        """Releases need no bookkeeping here."""

    # --- ports ------------------------------------------------------------------------------------
    def port_lost(self, which: str, at: float) -> None:
        """A port vanished: release what sounds, forget the half-played phrase."""
        self.ports_missing.add(which)
        self._silence(at)
        self.scheduler.release_all()
        if which == "input":
            if self.recorder is not None:
                self.recorder.end_part("player", at)
            self._held.clear()
            self._pedal = False
            self._call_onsets = []
            self._last_release = None
            self._provisional = None

    def port_back(self, which: str) -> None:
        """A port is back: make the synth quiet and set up, carry on."""
        self.ports_missing.discard(which)
        self.stats.reconnects += 1
        if which == "output":
            self.scheduler.panic()
            self.start()

    def close(self) -> None:
        """End any answer; the session then releases everything."""
        self._silence(self.now())


def _beats(answer: _Answer, spb: float) -> float:
    if not answer.planned:
        return 1.0
    return max((answer.end - answer.planned[0].at) / spb, 1.0)
