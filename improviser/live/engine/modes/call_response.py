"""Call and response: the player plays a phrase, the improviser answers it.

A phrase ends after ``phrase_gap`` seconds with no key held (and the sustain pedal up,
unless told otherwise), on pedal-up if asked, or on the ``end_call`` control. The answer
starts where ``answer_start`` says (at once, on the next beat, on the next bar; see
:class:`~improviser.live.timebase.timing.Timing`) and is drawn from the model note by note, its
rhythm tilted towards the call's note values (:class:`~improviser.music.rhythm.
CallRhythm`, ``rhythm_strength``), converted to seconds at the tempo of the clock, the
player or ``bpm``, and scheduled as it is drawn: the first note leaves as soon as it is
due, before the rest is generated. Its onsets are whole note values from a beat, so they
lie on the beat grid; an answer whose room ends within the call's last note value ends
on a note that long. If the player starts again the answer stops and its notes are
released (``interrupt``).

Drawing never corrupts what was heard: the context is snapshotted before and restored
after. With ``context_includes_answer`` (the default) the answer's notes that actually
sounded then enter the context, as in a conversation: the state after the k-th answer
note is kept from drawing and adopted when the answer ends after k notes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import ClassVar

from improviser.inference.answer import AnswerDraw, AnswerLimits
from improviser.inference.context import Heard, Prediction
from improviser.live.engine.modes.answer_plan import AnswerPlan, PlannedNote
from improviser.live.engine.modes.melody_metre import MelodyMetre
from improviser.live.engine.voice import Voice
from improviser.live.events import AnswerEnded, AnswerStarted, PhraseEnded
from improviser.music.chord_lean import ChordLean, chord_under
from improviser.music.chords import Chord
from improviser.music.encoding import DURATION_BEATS, ioi_class, velocity_value
from improviser.music.rhythm import CallRhythm, Expectation
from improviser.music.voicing import VOICES_PLAYED, voicing

__all__ = ["CallResponse"]


class CallResponse:
    """Answers each of the player's phrases."""

    name: ClassVar[str] = "call-response"
    plays_first: ClassVar[bool] = False

    def __init__(self, voice: Voice) -> None:
        self.voice = voice
        self._answer: AnswerPlan | None = None
        self._last: AnswerPlan | None = None
        self._count = 0
        self._expectation = Expectation()
        """What the model expected of the call's note values, note by note."""
        self._expecting = False
        """A call note was heard whose prediction is not in the expectation yet: it goes in
        when the next note is struck or the call ends, after the note's duration is known
        (:meth:`ModelContext.revise_duration`), as ``generate`` takes it from the seed."""
        self._struck: Prediction | None = None
        """That prediction as it was when the last key was struck: it goes in if the key is
        the next melody note (a key of the other hand struck while the melody note is held
        comes before its duration is known)."""
        self._metre = MelodyMetre(voice)
        """The call's melody notes in the bar, for the harmony model."""
        self._call_voices = 0
        """The most voices the call had under its melody (the other hand)."""
        self._call_keys: tuple[int, tuple[int, ...]] | None = None
        """The melody note and the keys held at the call's last onset with a key under it
        (the answer leans on their chord: ``chord_lean``)."""

    @property
    def playing(self) -> bool:
        """Whether an answer is under way."""
        return self._answer is not None

    # --- the player -------------------------------------------------------------------------
    def note_struck(self, at: float) -> None:
        """The player comes in: stop the answer (if ``interrupt``) before the note is heard."""
        if self._expecting:
            self._struck = self.voice.context.prediction
        if self._answer is not None and self.voice.config.interrupt:
            self._finish(at, interrupted=True)
        if self._answer is not None:
            self._answer.player_steps += 1

    def note_heard(self, at: float) -> None:
        """Hear the beat and note what the model expected; answer when the phrase ends."""
        voice = self.voice
        context = voice.context
        if context.window:
            voice.timing.onset(at, velocity_value(context.window[-1].velocity))
        self._expect(self._struck)
        self._struck = None
        self._expecting = context.prediction is not None
        melody = voice.player.melody
        if melody is None:
            return
        self._note_keys(melody[0])
        if voice.harmony is not None:
            voice.harmony.hold(melody[0], *self._metre.onset(at), self._lower(melody[0]))

    def note_revised(self, at: float) -> None:
        """The melody note over the chord tone heard last: the same onset (no new beat,
        nothing more expected of the call); the harmony model hears it in that one's
        place, the chord tone among the voices under it."""
        self._struck = None
        voice = self.voice
        melody = voice.player.melody
        if melody is None:
            return
        self._note_keys(melody[0])
        harmony = voice.harmony
        if harmony is not None:
            lower = self._lower(melody[0])
            if not harmony.revise_hold(melody[0], lower):
                harmony.hold(melody[0], *self._metre.onset(at), lower)

    def _note_keys(self, melody: int) -> None:
        """Keep the melody note and the keys under it, for the answer's ``chord_lean``."""
        player = self.voice.player
        if len(player.held) > 1 and self.voice.config.chord_lean > 1.0:
            others = player.other_hand()
            if others and min(others) < melody:
                self._call_keys = (melody, tuple(others))

    def _lower(self, melody: int) -> tuple[int, int, int]:
        """The other hand's keys under the call's melody note, as voices (counted)."""
        lower = voicing(p for p in self.voice.player.other_hand() if p < melody)
        self._call_voices = max(self._call_voices, sum(1 for p in lower if p))
        return lower

    def _lower_voices(self) -> int:
        """How many voices to play under the answer's line (``answer_voices``)."""
        voice = self.voice
        if voice.harmony is None:
            return 0
        wanted = voice.config.answer_voices
        return self._call_voices if wanted == 0 else wanted - 1

    def _expect(self, prediction: Prediction | None = None) -> None:
        """Add the prediction after the last call note heard, once final (default: the
        context's now), to the expectation."""
        if prediction is None:
            prediction = self.voice.context.prediction
        if self._expecting and prediction is not None:
            self._expectation.add(prediction)
        self._expecting = False

    def _phrase_open(self) -> bool:
        """Every key up, and the pedal too if it holds the phrase."""
        cfg, player = self.voice.config, self.voice.player
        return player.keys_up() and not (player.pedal and cfg.pedal_holds_phrase)

    def next_deadline(self) -> float | None:
        """The end of the answer, or when the phrase's silence will be long enough.

        With every key up (and the pedal, if it holds the phrase): ``phrase_gap`` after
        the last release. With a key or the pedal still down: ``held_phrase_gap`` after the
        last note struck, so a lost note-off cannot keep the improviser silent.
        """
        if self._answer is not None:
            return self._answer.end
        cfg, player = self.voice.config, self.voice.player
        if len(player.call_onsets) < cfg.min_call_notes:
            return None
        release = player.last_release
        if release is not None and self._phrase_open():
            return release + cfg.phrase_gap
        if cfg.held_phrase_gap > 0 and player.last_onset is not None:
            return player.last_onset + cfg.held_phrase_gap
        return None

    def tick(self, now: float) -> None:
        """End a phrase whose silence is long enough; finish (or repeat) an answer."""
        answer = self._answer
        if answer is not None:
            if now >= answer.end and self.voice.scheduler.pending(answer.tag) == 0:
                self._finish(now, interrupted=False)
                voice = self.voice
                if voice.looping and not voice.muted and answer.planned:
                    self._replay(answer, now)
            return
        deadline = self.next_deadline()
        if deadline is not None and now >= deadline:
            self.end_call(deadline)

    def end_call(self, at: float) -> None:
        """The player's phrase is over at ``at``: answer it."""
        voice = self.voice
        onsets, last_release = voice.player.take_call()
        if not onsets:
            return
        voice.publish(PhraseEnded(at, len(onsets)))
        lower, self._call_voices = self._lower_voices(), 0
        keys, self._call_keys = self._call_keys, None
        chord = None if keys is None else chord_under(*keys)
        rhythm = self._call_rhythm(len(onsets))
        if not voice.can_play():
            return
        call_beats = max(((last_release or at) - onsets[0]) / voice.timing.seconds_per_beat, 1.0)
        before = voice.context.snapshot()
        self._answer_from(before, at, call_beats, onsets[0], rhythm, lower, chord)

    def _call_rhythm(self, notes: int) -> CallRhythm | None:
        """The note values of the call's last ``notes`` notes heard (``None``: not followed)."""
        self._expect()
        expectation, self._expectation = self._expectation, Expectation()
        cfg = self.voice.config
        window = self.voice.context.window
        if not window or not (cfg.rhythm_strength or cfg.rhythm_memory or cfg.rhythm_guard < 1):
            return None
        call = list(window)[-min(notes, len(window)) :]
        return CallRhythm.from_tokens(
            call, cfg.rhythm_strength, expectation, cfg.rhythm_memory, cfg.rhythm_guard
        )

    # --- answering --------------------------------------------------------------------------
    def _answer_from(
        self,
        before: Heard,
        cue: float,
        call_beats: float,
        call_start: float,
        rhythm: CallRhythm | None,
        lower: int = 0,
        chord: Chord | None = None,
    ) -> None:
        cfg = self.voice.config
        earliest = max(self.voice.now(), cue) + cfg.answer_delay
        start = self.voice.timing.answer_start(earliest, call_start)
        self._count += 1
        answer = AnswerPlan(
            f"answer-{self._count}",
            cue,
            before,
            [],
            [],
            start,
            call_start,
            rhythm,
            lower=lower,
            chord=chord,
        )
        self._answer = answer
        self.voice.publish(AnswerStarted(self.voice.now(), answer.tag, start))
        phase = self.voice.timing.beat_in_bar(start, call_start)
        lean = ChordLean.of(chord, cfg.chord_lean, phase, cfg.beats_per_bar)
        self._draw(answer, start, AnswerLimits.of(cfg, call_beats), lean)

    def _draw(
        self, answer: AnswerPlan, start: float, limits: AnswerLimits, lean: ChordLean | None = None
    ) -> None:
        """Draw the answer note by note (:class:`~improviser.inference.answer.AnswerDraw`,
        as ``generate`` does), scheduling each as it is drawn."""
        voice, before = self.voice, answer.before
        context = voice.context
        spb = voice.timing.seconds_per_beat
        cap = voice.scheduler.max_note_seconds
        gap = 0.0 if before.last_onset is None else (start - before.last_onset) / spb
        draw = AnswerDraw(limits, answer.rhythm, ioi_class(gap), lean)
        prediction = before.prediction
        harmony = voice.harmony if answer.lower else None
        heard = None if harmony is None else harmony.snapshot()
        metre = MelodyMetre(voice, anchor=answer.call_start, last=before.last_onset)
        try:
            while (drawn := draw.next(context, voice.sampler, voice.rng, prediction)) is not None:
                token = drawn.token
                at = start + drawn.beats * spb
                seconds = min(DURATION_BEATS[token.duration] * spb, cap)
                planned = PlannedNote(token, at, seconds, voice.velocity(token))
                if harmony is not None:
                    voices = harmony.voice(token.pitch, *metre.onset(at))
                    planned.voices = self._under(token.pitch, voices, answer.lower)
                answer.planned.append(planned)
                answer.end = max(answer.end, at + seconds)
                self._schedule(answer, planned, first=len(answer.planned) == 1)
                prediction = context.predict(token)
                answer.after.append((context.model.snapshot(), prediction))
        finally:
            context.take_back(before)
            if harmony is not None:
                harmony.restore(heard)  # the answer's voices were drawn ahead, not heard

    @staticmethod
    def _under(melody: int, voices: Sequence[int], lower: int) -> tuple[int, ...]:
        """The pitches of the ``lower`` voices played under ``melody`` (no unisons)."""
        out: list[int] = []
        for i in VOICES_PLAYED[lower]:
            pitch = int(voices[i])
            if pitch and pitch < melody and pitch not in out:
                out.append(pitch)
        return tuple(out)

    def _schedule(self, answer: AnswerPlan, p: PlannedNote, *, first: bool) -> None:
        voice = self.voice
        voice.play(
            p.token,
            at=p.at,
            seconds=p.seconds,
            tag=answer.tag,
            velocity=p.velocity,
            cue=answer.cue if first else None,
        )
        velocity = max(1, round(p.velocity * voice.config.accompany_velocity))
        for pitch in p.voices:
            voice.scheduler.note(
                voice.out_channel, pitch, velocity, at=p.at, duration=p.seconds, tag=answer.voices
            )

    def _replay(self, answer: AnswerPlan, now: float) -> None:
        """Play an answer planned before again (the ``loop`` control)."""
        shift = now - answer.planned[0].at
        self._count += 1
        again = dataclasses.replace(
            answer,
            tag=f"answer-{self._count}",
            cue=now,
            planned=[dataclasses.replace(p, at=p.at + shift) for p in answer.planned],
            end=answer.end + shift,
            player_steps=0,
            after=[],  # a repeat does not enter the context again
        )
        self._answer = again
        self.voice.publish(AnswerStarted(now, again.tag, now))
        for i, p in enumerate(again.planned):
            self._schedule(again, p, first=i == 0)

    def regenerate(self, at: float) -> None:
        """Answer the last call again, differently (or the new call, if one was played)."""
        last = self._answer or self._last
        if last is None:
            return
        context = self.voice.context
        if self._answer is not None:
            self._finish(at, interrupted=True, keep_context=False)
        elif self.voice.player.call_onsets or context.steps != last.before.steps + len(last.after):
            self.end_call(at)  # the player has moved on: answer that instead
            return
        context.restore(last.before)
        beats = last.beats(self.voice.timing.seconds_per_beat)
        self._answer_from(
            last.before, at, beats, last.call_start, last.rhythm, last.lower, last.chord
        )

    def silence(self, at: float) -> None:
        """Stop the answer, releasing its notes."""
        self._finish(at, interrupted=True)

    def _finish(self, at: float, *, interrupted: bool, keep_context: bool = True) -> None:
        answer, self._answer = self._answer, None
        if answer is None:
            return
        voice = self.voice
        voice.scheduler.cancel(answer.voices)
        played = min(voice.scheduler.cancel(answer.tag), len(answer.planned))
        self._last = answer
        voice.publish(AnswerEnded(at, answer.tag, played, interrupted))
        adopted = min(played, len(answer.after))
        if (
            keep_context
            and voice.config.context_includes_answer
            and adopted
            and answer.player_steps == 0
        ):
            state, prediction = answer.after[adopted - 1]
            context = voice.context
            context.adopt(state, prediction, (p.token for p in answer.planned[:adopted]))
            context.last_onset = answer.planned[adopted - 1].at
            context.last_duration = answer.planned[adopted - 1].token.duration
        if not interrupted:  # else the player is playing: the next pause re-primes (idle)
            voice.context.reprime_if_due()
