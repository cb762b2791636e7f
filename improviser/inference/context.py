"""What the model has heard: its state, its prediction, the window of recent notes.

:class:`ModelContext` wraps a :class:`~improviser.inference.StepModel` and keeps, beside
its recurrent state, everything that defines what was heard: the prediction for the next
note, the last ``window`` notes, the time of the last onset and the last duration class.
``generate`` primes it with a seed and continues; the live engine steps it on every
player note, snapshots it before drawing an answer and restores it after, so drawing
never corrupts what was heard.

A model that offers the padded ``step_probs`` (a :class:`ProbsStepModel`: the NumPy and
TensorFlow engines) is stepped through it and notes are drawn from that array with
:meth:`~improviser.music.sampling.Sampler.sample_padded`, with no
:class:`~improviser.music.encoding.Distribution` built in between; anything with
``step`` (the tests' fakes) goes through :meth:`~improviser.music.sampling.Sampler.sample`.
Both draw the same notes from the same generator.

With a :class:`~improviser.music.listener.Listener` (``listener=``), every note heard is
heard by it too, every note looked ahead (:meth:`ModelContext.predict`) becomes its
context, its snapshot travels with the model's state, and :meth:`ModelContext.draw`
reshapes the pitch prediction with it (short-term model, key, register) before drawing.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from improviser.inference.native_draw import NativeDraw
from improviser.inference.native_engine import NativeEngine
from improviser.inference.numpy_engine import WIDTH
from improviser.inference.protocol import Prepares, ProbsStepModel, StepModel
from improviser.music.encoding import DURATION_BEATS, Distribution, Token
from improviser.music.listener import Listener
from improviser.music.rhythm import Expectation
from improviser.music.sampling import Sampler
from improviser.music.stm import StmSnapshot

__all__ = ["Heard", "ModelContext", "Prediction"]

Prediction = Distribution | npt.NDArray[np.float64]
"""What a step returns: a :class:`Distribution`, or a model's padded ``step_probs`` array."""
QUARTER = DURATION_BEATS.index(1.0)
_REHEARSAL = Token(60, 0, QUARTER, 4)


@dataclass(frozen=True, slots=True)
class Heard:
    """A snapshot of a :class:`ModelContext` (see :meth:`ModelContext.snapshot`)."""

    state: object
    prediction: Prediction | None
    window: tuple[Token, ...]
    last_onset: float | None
    last_duration: int
    steps: int
    listened: StmSnapshot | None = None
    """The listener's snapshot (``None`` without a listener)."""


class ModelContext:
    """A step model and what it has heard (and a listener that reshapes its predictions)."""

    def __init__(
        self, model: StepModel, window: int = 30, listener: Listener | None = None
    ) -> None:
        if window < 1:
            raise ValueError(f"window must be at least 1, got {window}")
        self.model = model
        self.listener = listener
        self._fast: ProbsStepModel | None = model if isinstance(model, ProbsStepModel) else None
        self._prepares: Prepares | None = model if isinstance(model, Prepares) else None
        self._native_draw = NativeDraw(WIDTH) if isinstance(model, NativeEngine) else None
        self.window: deque[Token] = deque(maxlen=window)
        self.prediction: Prediction | None = None
        """The distribution of the next note (``None`` before the first note)."""
        self.last_onset: float | None = None
        """Clock time of the last heard onset (live), ``None`` when unknown."""
        self.last_duration = QUARTER
        """Duration class of the last heard note (the guess for a note still held)."""
        self.steps = 0
        """Notes heard since the start (the answers that entered the context included)."""
        self.since_reset = 0
        """Notes the model's state has carried since it was last reset."""
        self._revisable: tuple[object, Token, int] | None = None
        self._rehearsal_rng = np.random.default_rng(0)
        model.reset()

    # --- stepping ---------------------------------------------------------------------------
    def _step(self, token: Token) -> Prediction:
        if self._fast is not None:
            return self._fast.step_probs(token)
        return self.model.step(token)

    def predict(self, token: Token) -> Prediction:
        """Step the model on ``token`` and return its prediction, with no bookkeeping.

        For looking ahead (drawing an answer): the listener takes ``token`` as the
        improviser's own note; :meth:`take_back` undoes both. :meth:`hear` is for notes
        that happened.
        """
        if self.listener is not None:
            self.listener.look_ahead(token.pitch)
        return self._step(token)

    def hear(self, token: Token, *, revisable: bool = False, own: bool = False) -> Prediction:
        """A note was heard: step on it and keep it in the window.

        With ``revisable`` the state before it is kept, so :meth:`revise_duration` can redo the
        step with a corrected token (the duration of a note, known at its release). ``own``:
        the improviser's own note (the listener takes it as such, see :meth:`predict`).
        """
        self._revisable = (self.model.snapshot(), token, self.steps) if revisable else None
        if own:
            self.prediction = self.predict(token)
        else:
            if self.listener is not None:
                self.listener.hear(token.pitch)
            self.prediction = self._step(token)
        self.window.append(token)
        self.steps += 1
        self.since_reset += 1
        return self.prediction

    def revise_duration(self, pitch: int, duration: int) -> bool:
        """Redo the last :meth:`hear` with another duration class; whether it was redone.

        Only if that note had ``pitch``, was heard ``revisable`` and nothing was heard
        since (the usual case in a melody: a note's release comes before the next note).
        """
        pending, self._revisable = self._revisable, None
        if pending is None:
            return False
        state, heard, step = pending
        if heard.pitch != pitch or step + 1 != self.steps or heard.duration == duration:
            return False
        self._redo(state, heard._replace(duration=duration))
        return True

    def _redo(self, state: object, token: Token) -> None:
        """Step again from ``state`` (before the last note heard) on ``token`` in its place."""
        self.model.restore(state)
        self.prediction = self._step(token)
        self.window[-1] = token

    @property
    def note_revisable(self) -> bool:
        """Whether :meth:`revise_note` would redo the last note (heard ``revisable``,
        nothing heard since)."""
        pending = self._revisable
        return pending is not None and pending[2] + 1 == self.steps

    def revise_note(self, pitch: int, velocity: int) -> bool:
        """Redo the last :meth:`hear` as another note of the same onset; whether it was redone.

        For a chord struck a few milliseconds before the melody note on top of it: the
        model then hears the melody note in the chord tone's place, one step for the two
        (the listener likewise while the chord tone waits for it; see
        :meth:`Listener.revise`). Only if that note was heard ``revisable`` and nothing was
        heard since; the note's duration can still be revised after it.
        """
        pending = self._revisable
        if pending is None or not self.note_revisable:
            return False
        state, heard, step = pending
        token = heard._replace(pitch=pitch, velocity=velocity)
        if self.listener is not None:
            self.listener.revise(heard.pitch, pitch)
        self._redo(state, token)
        self._revisable = (state, token, step)
        return True

    def forget_revision(self) -> None:
        """The last note is final (e.g. before a re-prime)."""
        self._revisable = None

    def draw(
        self,
        sampler: Sampler,
        rng: np.random.Generator,
        prediction: Prediction | None = None,
    ) -> Token:
        """Draw a note from ``prediction`` (default: the current one)."""
        p = self.prediction if prediction is None else prediction
        if p is None:
            raise ValueError("nothing heard yet: no prediction to draw from")
        listener = self.listener
        if isinstance(p, Distribution):
            if listener is not None:
                p = dataclasses.replace(p, pitch=listener.shape(p.pitch))
            return sampler.sample(p, rng)
        if self._native_draw is not None and p.shape[1] == WIDTH:
            return self._native_draw.draw(p, sampler, listener, rng)
        return sampler.sample_padded(p if listener is None else listener.shape_padded(p), rng)

    # --- snapshots --------------------------------------------------------------------------
    def snapshot(self) -> Heard:
        """Everything that defines what was heard, for :meth:`restore`."""
        return Heard(
            self.model.snapshot(),
            self.prediction,
            tuple(self.window),
            self.last_onset,
            self.last_duration,
            self.steps,
            None if self.listener is None else self.listener.snapshot(),
        )

    def take_back(self, heard: Heard) -> None:
        """Put the model's state and the listener back to ``heard`` after looking ahead."""
        self.model.restore(heard.state)
        if self.listener is not None and heard.listened is not None:
            self.listener.restore(heard.listened)

    def restore(self, heard: Heard) -> None:
        """Return to a :meth:`snapshot`."""
        self.take_back(heard)
        self.prediction = heard.prediction
        self.window = deque(heard.window, maxlen=self.window.maxlen)
        self.last_onset = heard.last_onset
        self.last_duration = heard.last_duration
        self.steps = heard.steps
        self._revisable = None

    def adopt(self, state: object, prediction: Prediction, tokens: Iterable[Token]) -> None:
        """Take notes drawn and played as heard: the model state after them, and them."""
        self.model.restore(state)
        self.prediction = prediction
        count = 0
        for token in tokens:
            if self.listener is not None:
                self.listener.look_ahead(token.pitch)
            self.window.append(token)
            count += 1
        self.steps += count
        self.since_reset += count
        self._revisable = None

    # --- keeping the state healthy ------------------------------------------------------------
    def reprime_if_due(self) -> bool:
        """Re-run the window from a fresh state once the state has seen far more notes.

        The model was trained on sequences of a few dozen notes; a state carried through an
        hour of playing drifts away from anything it saw in training. Whether it re-primed.
        """
        maxlen = self.window.maxlen or 1
        if self.since_reset < 2 * maxlen or not self.window:
            return False
        self.model.reset()
        for token in self.window:
            self.prediction = self._step(token)
        self.since_reset = len(self.window)
        self._revisable = None
        return True

    def rehearse(self, sampler: Sampler) -> None:
        """Step and draw as a note would, then put the model back: keeps the caches warm.

        Nothing heard changes: the state is restored and the draw uses its own generator,
        so a seeded session plays the same notes.
        """
        state = self.model.snapshot()
        token = self.window[-1] if self.window else _REHEARSAL
        try:
            self.draw(sampler, self._rehearsal_rng, self._step(token))
        finally:
            self.model.restore(state)

    def prepare(self) -> None:
        """While idle: let the model do ahead what it can of the next step (see
        :meth:`NumpyEngine.prepare <improviser.inference.numpy_engine.NumpyEngine.prepare>`)."""
        if self._prepares is not None:
            self._prepares.prepare()

    # --- offline --------------------------------------------------------------------------------
    def prime(self, tokens: Iterable[Token], expectation: Expectation | None = None) -> None:
        """Forget everything, then hear ``tokens`` (a seed); each prediction made on the
        way is added to ``expectation`` if given."""
        self.model.reset()
        if self.listener is not None:
            self.listener.reset()
        self.window.clear()
        self.prediction = None
        self.steps = self.since_reset = 0
        for token in tokens:
            prediction = self.hear(token)
            if expectation is not None:
                expectation.add(prediction)
