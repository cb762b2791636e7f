"""Options of ``improviser live`` (the ``[live]`` section of the config).

Channels and programs are numbered as musicians and DAWs show them: channels 1..16,
programs 1..128 (General MIDI numbering). Every option has a default and is validated
up front, so a wrong value is one line naming the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import Field, field_validator, model_validator

from improviser import paths
from improviser.config.answer import AnswerConfig
from improviser.config.sampling import LIVE_PITCH_RANGE, SamplingConfig
from improviser.config.styles import STYLES, get_style

__all__ = [
    "CONTROL_ACTIONS",
    "DEFAULT_HARMONY_MODEL",
    "DEFAULT_MODEL",
    "MODES",
    "LiveConfig",
    "Mode",
]

DEFAULT_MODEL = paths.DEFAULT_MODEL
"""The bundled default model (weights in ``.npz`` beside it)."""
DEFAULT_HARMONY_MODEL = paths.HARMONY_MODEL
"""The bundled harmony model (lower voices under a melody)."""
CONTROL_ACTIONS = ("end_call", "panic", "temperature", "mute", "regenerate", "loop")
"""Hands-on controls that a CC of the keyboard can drive (``cc_<action>``)."""

Mode = Literal["call-response", "follow", "accompany"]
"""How the improviser answers; each name is a class in :mod:`improviser.live.engine.modes`."""
MODES: tuple[str, ...] = get_args(Mode)
Api = Literal["auto", "jack", "alsa", "coremidi", "winmm"]
Channel = int
Cc = int | None


class LiveConfig(AnswerConfig):
    """How the live engine listens and answers (what it shares with ``generate``:
    :class:`AnswerConfig`, the ``[answer]`` section)."""

    # --- ports -----------------------------------------------------------------------
    api: Api = "auto"
    """MIDI API: ``auto`` tries ALSA then JACK on Linux, CoreMIDI on macOS, WinMM on Windows."""
    in_port: str | None = None
    """Open the first input port whose name contains this (case-blind)."""
    out_port: str | None = None
    """Open the first output port whose name contains this (case-blind)."""
    virtual: bool = False
    """Create ports ``improviser in`` / ``improviser out`` instead of opening others' ports."""
    client_name: str = Field("improviser", min_length=1, max_length=64)
    port_poll_seconds: float = Field(0.5, ge=0.05, le=10.0)
    """How often a vanished port is looked for (and a present one checked)."""
    on_server_loss: Literal["recover", "exit"] = "recover"
    """When the JACK server goes: wait for one and reopen the ports, or end the session
    with one line and exit code 2 (for a service manager to restart it)."""
    jack_input: Literal["auto", "rtmidi"] = "auto"
    """How a JACK input is read: ``auto`` by the C client built with the package (no
    Python on JACK's thread; see :mod:`improviser.live.io.jack_input`), where it was built;
    ``rtmidi``: RtMidi's callback on JACK's thread, as before it."""
    queue_size: int = Field(1024, ge=16, le=1_000_000)
    """Incoming messages waiting for the engine; when full the oldest is dropped."""
    stats_seconds: float = Field(5.0, ge=0.1, le=3600.0)
    """How often the session's counters are published (a ``stats`` event)."""

    # --- model and sampling --------------------------------------------------------------
    model: Path = DEFAULT_MODEL
    style: str | None = None
    """A bundled style (:mod:`improviser.config.styles`: ``folk``, ``chorale``): its melody
    and harmony models, where ``model`` / ``harmony_model`` name no model of their own."""
    engine: Literal["auto", "numpy", "native", "tf"] = "auto"
    """Step engine: ``numpy`` (no TensorFlow), ``native`` (the NumPy engine's step
    compiled, where it was built), ``tf``, or ``auto``: the fastest in a start-up probe of
    the CPU engine (native where built, else NumPy) and, only if device is ``gpu``,
    TensorFlow's engines."""
    device: Literal["auto", "cpu", "gpu"] = "auto"
    """Where the engine runs; ``gpu`` takes TensorFlow (engine ``tf`` or ``auto``)."""
    mode: Mode = "call-response"
    """``call-response``: answer each phrase; ``follow``: one predicted note per note played;
    ``accompany``: lower voices under the player's melody (the harmony model)."""
    melody_line: Literal["top", "all"] = "top"
    """Which of the player's notes the melody model hears: ``top``, the highest key down
    when a note is struck (a left hand's chords under a melody are heard as harmony, not as
    melody); ``all``: every note, as one line."""
    window: int = Field(30, ge=2, le=1024)
    """Notes of context kept; the model is re-primed from them now and then."""
    sampling: SamplingConfig = Field(
        default_factory=lambda: SamplingConfig.for_range(LIVE_PITCH_RANGE)
    )
    """How answer notes are drawn (``[live.sampling]``)."""
    context_includes_answer: bool = True
    """The answer's notes that actually sounded enter the model's context (a dialogue)."""

    # --- call and response -------------------------------------------------------------
    phrase_gap: float = Field(0.7, ge=0.05, le=30.0)
    """Seconds of silence (no key held) that end the player's phrase."""
    pedal_holds_phrase: bool = True
    """While the sustain pedal is down the phrase is not over."""
    end_on_pedal_up: bool = False
    """Lifting the sustain pedal ends the phrase at once."""
    min_call_notes: int = Field(1, ge=1, le=1024)
    held_phrase_gap: float = Field(4.0, ge=0.0, le=60.0)
    """With a key still down (or the pedal), a phrase ends after this many seconds with no
    new note: a lost note-off never keeps the improviser silent (0 = only when all is up)."""
    held_key_seconds: float = Field(30.0, ge=1.0, le=3600.0)
    """A key or sustain pedal held this long is taken as released (its release was lost)."""
    buried_key_notes: int = Field(4, ge=0, le=1024)
    """A key held while this many notes were struck after it no longer holds the phrase
    open: the phrase may end ``phrase_gap`` after the last of those is released (a lost
    note-off then costs one phrase, not ``held_key_seconds`` of phrases joined; a drone
    under a melody is answered when the melody rests). 0: every held key holds it."""
    interrupt: bool = True
    """The answer stops (its notes released) when the player starts again."""

    # --- follow ------------------------------------------------------------------------
    follow_delay: float = Field(0.0, ge=0.0, le=10.0)
    """Seconds from a player's note to the predicted next note (0 = at once)."""

    note_off_repeat: float = Field(0.025, ge=0.0, le=1.0)
    """Seconds after each of our note-offs that it is sent once more, and again ten times
    that after it (unless the pitch sounds again by then), so a note-off the transport lost
    never leaves a note sounding at the synth (0: off)."""

    # --- accompany ----------------------------------------------------------------------
    harmony_model: Path = DEFAULT_HARMONY_MODEL
    """The harmony model (lower voices under a melody): ``accompany`` plays with it."""
    harmony_temperature: float = Field(0.8, gt=0.0, le=10.0)
    """Sampling temperature of the lower voices (as ``improviser harmonize --temperature``;
    the default is the harmonizer's, chosen by ``bench harmony``)."""
    harmony_top_p: float = Field(0.9, gt=0.0, le=1.0)
    """Nucleus sampling mass of the lower voices (as ``harmonize --top-p``)."""
    accompany_voices: int = Field(3, ge=1, le=3)
    """Voices under the melody: 1 = bass, 2 = bass and alto, 3 = bass, tenor and alto."""
    accompany_rhythm: Literal["melody", "beat", "bar"] = "melody"
    """When the voices move: at each melody onset; also struck again on each beat the
    melody holds; or only on the first melody onset of each bar (held between)."""
    accompany_velocity: float = Field(0.75, ge=0.05, le=1.0)
    """The voices' velocity as a share of the melody note's (they sound under it)."""
    accompany_release: float = Field(0.3, ge=0.0, le=10.0)
    """Seconds after the player's last key (and the pedal) came up that the voices are
    released: they sustain through a detached melody, and stop when the player stops."""
    answer_voices: int = Field(0, ge=0, le=4)
    """Voices of an answer in call and response: 1 = its line alone, 2 = with a bass, 3 =
    with bass and alto, 4 = four parts; 0 = as the call: a one-hand call gets a line, a
    call with the other hand under its melody gets as many voices as it had."""
    chord_window: float = Field(1.0, ge=0.0, le=8.0)
    """Beats a released note still counts towards the chord heard (a broken chord)."""

    # --- time --------------------------------------------------------------------------
    sync: Literal["clock", "player", "fixed"] = "player"
    """Where tempo and beat come from: an incoming MIDI clock (falling back to the player
    when it stops or drops out), the player's notes (a beat tracker), or ``bpm``."""
    clock_port: str | None = None
    """With sync ``clock``: read the clock from the first input port whose name contains
    this (``None``: from the input port)."""
    clock_timeout: float = Field(0.5, ge=0.05, le=10.0)
    """Seconds without a clock tick after which the clock has dropped out."""
    clock_out: bool = False
    """Send MIDI clock (start, 24 ticks a beat, stop) on the output, at the tempo played."""
    bpm: float | None = Field(None, gt=0.0, le=400.0)
    """A fixed tempo (sync ``fixed``; with sync ``player`` it fixes the tempo too)."""
    initial_bpm: float = Field(100.0, ge=20.0, le=400.0)
    min_bpm: float = Field(60.0, ge=20.0, le=400.0)
    max_bpm: float = Field(180.0, ge=20.0, le=400.0)
    max_note_seconds: float = Field(4.0, gt=0.0, le=60.0)
    """No improviser note sounds longer than this."""
    spin_ms: float = Field(1.5, ge=0.0, le=20.0)
    """The scheduler sleeps until this long before a note is due, then waits precisely."""
    keep_warm_ms: float = Field(1.0, ge=0.0, le=1000.0)
    """With no note for this long, the engine does its idle work and rehearses a step (and
    puts its state back) so the model stays in the CPU's caches: the next note is
    answered as fast as one in a run (0 = no rehearsal). Measured with ``improviser
    bench latency``: on a shared 2-core VM caches go cold within a few ms of a pause."""
    keep_warm_seconds: float = Field(10.0, ge=0.0, le=86400.0)
    """For this long after the last message the rehearsal runs every ``keep_warm_ms``;
    then every 50 ms (a resting player costs next to no CPU)."""

    # --- output ------------------------------------------------------------------------
    in_channel: Channel | None = Field(None, ge=1, le=16)
    """Listen to this channel only (``None``: all)."""
    out_channel: Channel = Field(1, ge=1, le=16)
    program: int | None = Field(None, ge=1, le=128)
    """Program change sent on the output channel at start (``None``: none)."""
    velocity_scale: float = Field(1.0, ge=0.0, le=4.0)
    thru: bool = False
    """Echo the player's notes to the output (on the player's channel)."""
    state_cc: Cc = Field(None, ge=0, le=127)
    """Send the engine's state on this CC of the output channel: 127 answering, 0 listening."""
    feedback_window: float = Field(0.05, ge=0.0, le=1.0)
    """Incoming notes that repeat one we sent within this many seconds are echoes (0 = off)."""

    # --- hands-on controls (CC numbers on the input; None = off) ----------------------------
    cc_end_call: Cc = Field(None, ge=0, le=127)
    cc_panic: Cc = Field(None, ge=0, le=127)
    cc_temperature: Cc = Field(None, ge=0, le=127)
    cc_mute: Cc = Field(None, ge=0, le=127)
    cc_regenerate: Cc = Field(None, ge=0, le=127)
    cc_loop: Cc = Field(None, ge=0, le=127)
    temperature_min: float = Field(0.3, gt=0.0, le=10.0)
    temperature_max: float = Field(2.0, gt=0.0, le=10.0)

    # --- recording -----------------------------------------------------------------------
    record: bool = True
    record_path: Path | None = None
    """Where the session is recorded (``None``: a timestamped file in ``sessions_dir``)."""
    sessions_dir: Path = Path("sessions")
    """Folder of the timestamped recordings, and the only one the ``record`` control writes to."""
    models_dir: Path | None = None
    """The only folder the ``model`` control loads from (``None``: that control is off)."""
    recording_bpm: float = Field(120.0, ge=20.0, le=400.0)
    """The tempo of the recording's tick grid (real timestamps are kept)."""
    flush_seconds: float = Field(1.0, ge=0.1, le=60.0)
    """The recording is rewritten this often, so a crash loses at most this much."""

    @field_validator("style")
    @classmethod
    def _known_style(cls, value: str | None) -> str | None:
        return None if value is None else get_style(value).name

    @model_validator(mode="before")
    @classmethod
    def _style_models(cls, data: Any) -> Any:
        """``style``'s models in place of a bundled (or no) ``model`` / ``harmony_model``."""
        if not isinstance(data, dict) or data.get("style") not in STYLES:
            return data  # no style, or a wrong one: the field's check names it
        chosen = STYLES[data["style"]]
        data = dict(data)
        for key, field in (("model", "melody_model"), ("harmony_model", "harmony_model")):
            bundled = {getattr(s, field).resolve() for s in STYLES.values()}
            if data.get(key) is None or Path(data[key]).resolve() in bundled:
                data[key] = getattr(chosen, field)
        return data

    @model_validator(mode="after")
    def _consistent(self) -> LiveConfig:
        if self.max_bpm < 2 * self.min_bpm:
            raise ValueError(
                f"max_bpm must be at least twice min_bpm, got {self.min_bpm}..{self.max_bpm}"
            )
        if self.temperature_min > self.temperature_max:
            raise ValueError(
                f"temperature_min must not exceed temperature_max, got "
                f"{self.temperature_min} > {self.temperature_max}"
            )
        if self.clock_out and self.sync == "clock":
            raise ValueError(
                "clock_out needs sync 'player' or 'fixed' (we cannot be master and follow)"
            )
        if self.engine in ("numpy", "native") and self.device == "gpu":
            raise ValueError(
                f"device 'gpu' needs engine 'tf' or 'auto' ({self.engine} runs on the CPU)"
            )
        ccs = [(a, getattr(self, f"cc_{a}")) for a in CONTROL_ACTIONS]
        used = [c for _, c in ccs if c is not None]
        if len(used) != len(set(used)):
            raise ValueError(f"each control needs its own CC, got {dict(ccs)}")
        return self

    def control_map(self) -> dict[int, str]:
        """CC number -> action, for the controls that are bound."""
        out: dict[int, str] = {}
        for action in CONTROL_ACTIONS:
            cc = getattr(self, f"cc_{action}")
            if cc is not None:
                out[cc] = action
        return out
