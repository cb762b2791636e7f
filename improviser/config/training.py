"""The ``[data]``, ``[model]`` and ``[train]`` sections: how a model is trained."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from improviser.config.base import Section

__all__ = [
    "DEFAULT_EPOCHS",
    "EXTRA_INPUTS",
    "DataConfig",
    "ExtraInput",
    "HarmonyModelConfig",
    "ModelConfig",
    "TrainConfig",
]

ExtraInput = Literal["interval", "degree", "bar"]
EXTRA_INPUTS: tuple[ExtraInput, ...] = ("interval", "degree", "bar")
"""The viewpoints a model may hear besides its four tokens (``music.viewpoints``'s order)."""


class DataConfig(Section):
    """How files become training examples."""

    @property
    def transpose_range(self) -> tuple[int, int]:
        """The semitones a training sequence may be shifted by (octaves included)."""
        octaves = 12 * self.transpose_octaves
        return self.transpose_min - octaves, self.transpose_max + octaves

    window: int = Field(30, ge=2, le=1024)
    seq_len: int = Field(64, ge=2, le=4096)
    stride: int = Field(16, ge=1)
    melody: Literal["skyline", "all"] = "skyline"
    channel: int | None = Field(None, ge=0, le=15)
    track: int | None = Field(None, ge=0)
    part: str | None = None
    """Read only the track named this (e.g. ``player`` in a session recording); a file
    with no track of that name is read whole (a folder of the player's own files)."""
    transpose_min: int = Field(-5, ge=-24, le=0)
    transpose_max: int = Field(6, ge=0, le=24)
    transpose_octaves: int = Field(0, ge=0, le=10)
    """Widen the transposition by this many octaves each way (kept inside 0..127): 0 keeps
    the corpus's register; 3 or more spreads training over the whole keyboard, so a call
    in any octave is in distribution (for the next retrain; the bundled model used 0)."""
    val_fraction: float = Field(0.1, ge=0.0, lt=0.5)
    test_fraction: float = Field(0.1, ge=0.0, lt=0.5)
    split_by: Literal["content", "tune"] = "content"
    """What keeps copies of a tune in one split: ``content`` the exact interval and IOI
    sequence; ``tune`` the first 16 pitch intervals, repeated notes merged, rhythm aside
    (the harmony corpus's key: other settings of a chorale tune share it)."""
    seed: int = 1234
    min_notes: int = Field(8, ge=2)


class ModelConfig(Section):
    """The network and its objective."""

    objective: Literal["classes", "regression"] = "classes"
    cell: Literal["lstm", "gru"] = "lstm"
    """The recurrent layer of the classes objective: LSTM or GRU (``lstm_units`` sizes)."""
    lstm_units: list[int] = Field(default_factory=lambda: [128, 64], min_length=1)
    regression_units: list[int] = Field(default_factory=lambda: [256, 128, 64], min_length=1)
    """The LSTM stack of ``objective = "regression"``: the notebook's own."""
    dropout: float = Field(0.5, ge=0.0, lt=1.0)
    pitch_embedding: int = Field(48, ge=1)
    ioi_embedding: int = Field(8, ge=1)
    duration_embedding: int = Field(8, ge=1)
    velocity_embedding: int = Field(4, ge=1)
    learning_rate: float = Field(1e-3, gt=0.0, lt=1.0)
    rhythm_loss_weight: float = Field(0.5, ge=0.0)
    velocity_loss_weight: float = Field(0.25, ge=0.0)
    label_smoothing: float = Field(0.0, ge=0.0, lt=1.0)
    """Share of each target spread evenly over its head's classes in the loss (0 = off)."""
    weight_average: float = Field(0.0, ge=0.0, lt=1.0)
    """Momentum of an exponential moving average of the weights kept during training and
    written at its end (0 = off, the last step's weights)."""
    extra_inputs: list[ExtraInput] = Field(default_factory=list)
    """Viewpoints the model also hears (:mod:`improviser.music.viewpoints`), each once,
    kept in the order ``interval, degree, bar``; the live engines do not take them yet."""

    @model_validator(mode="after")
    def _units_positive(self) -> ModelConfig:
        if any(u <= 0 for u in [*self.lstm_units, *self.regression_units]):
            raise ValueError(
                f"every LSTM size must be positive, got {self.lstm_units} / {self.regression_units}"
            )
        return self

    @model_validator(mode="after")
    def _extra_inputs_once(self) -> ModelConfig:
        if len(set(self.extra_inputs)) != len(self.extra_inputs):
            raise ValueError(f"extra_inputs lists an input twice: {self.extra_inputs}")
        order = {name: i for i, name in enumerate(EXTRA_INPUTS)}
        self.extra_inputs.sort(key=order.__getitem__)
        if self.extra_inputs and self.objective != "classes":
            raise ValueError('extra_inputs need objective = "classes"')
        if self.cell != "lstm" and self.objective != "classes":
            raise ValueError('cell = "gru" needs objective = "classes" (the notebook\'s is LSTM)')
        return self


DEFAULT_EPOCHS = 1000
"""A ceiling, not a budget: training stops on validation loss (``patience``) or time.

The bundled model stopped at a 30-epoch cap with its validation loss still falling."""


class TrainConfig(Section):
    """The training loop: stops on validation loss, the time limit, or the epoch ceiling."""

    epochs: int = Field(DEFAULT_EPOCHS, gt=0)
    batch_size: int = Field(64, gt=0)
    checkpoint_every: int = Field(5, gt=0)
    patience: int = Field(5, ge=0)
    """Epochs without an improvement of validation loss before stopping (0 = never)."""
    min_delta: float = Field(0.001, ge=0.0)
    """An improvement of validation loss smaller than this does not count."""
    strategy: Literal["auto", "default", "mirrored", "multi-worker"] = "auto"
    max_minutes: float = Field(0.0, ge=0.0)
    """Stop after this many minutes of training (0 = no limit)."""


class HarmonyModelConfig(Section):
    """The harmony model (``train --kind harmony``): its data, network and objective.

    The training loop's options (epochs, batch size, patience, time limit, checkpoints)
    are ``[train]``'s, and the split's fractions and seed are ``[data]``'s, shared with
    the melody model.
    """

    lstm_units: list[int] = Field(default_factory=lambda: [128], min_length=1)
    dropout: float = Field(0.3, ge=0.0, lt=1.0)
    value_embedding: int = Field(48, ge=1)
    role_embedding: int = Field(4, ge=1)
    metre_embedding: int = Field(4, ge=1)
    ioi_embedding: int = Field(8, ge=1)
    learning_rate: float = Field(1e-3, gt=0.0, lt=1.0)
    seq_events: int = Field(32, ge=1, le=1024)
    """Melody onsets per training sequence (four tokens each)."""
    stride_events: int = Field(16, ge=1)
    """Melody onsets between the starts of two training sequences of one piece."""
    transpose_min: int = Field(-5, ge=-11, le=0)
    transpose_max: int = Field(6, ge=0, le=11)
    pitch_low: int = Field(24, ge=1, le=127)
    pitch_high: int = Field(100, ge=1, le=127)
    """A transposition is used only where every sounding pitch of the piece stays in
    ``pitch_low..pitch_high``."""
    min_events: int = Field(8, ge=1)

    @model_validator(mode="after")
    def _check(self) -> HarmonyModelConfig:
        if any(u <= 0 for u in self.lstm_units):
            raise ValueError(f"every LSTM size must be positive, got {self.lstm_units}")
        if self.pitch_low > self.pitch_high:
            raise ValueError(
                f"pitch_low must not be above pitch_high, got {self.pitch_low} > {self.pitch_high}"
            )
        return self
