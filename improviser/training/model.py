"""Build and compile the Keras models (saving and loading: :mod:`improviser.inference.modelfile`).

Two objectives:

- ``classes`` (default): four embedding inputs (pitch, IOI, duration, velocity; and any
  ``model.extra_inputs``, see :mod:`improviser.music.viewpoints`), the
  notebook's LSTM stack (sizes from config, dropout between layers), and four softmax
  heads. Every layer returns sequences, so a training sequence of n notes gives n
  next-note targets, and one note at a time can be stepped with carried state
  (:class:`~improviser.inference.NumpyEngine`).
- ``regression``: the original notebook, kept to reproduce and compare it: 30 pitches
  scaled to 0..1 by a min-max scaler, ``LSTM(256) → LSTM(128) → LSTM(64) → Dense(1)``,
  MSE, Adam.

"""

from __future__ import annotations

from typing import Any, Literal

from improviser.config import ModelConfig
from improviser.inference.tfload import keras
from improviser.music.encoding import FIELDS, VOCAB_SIZES
from improviser.music.viewpoints import VIEWPOINT_SIZES

__all__ = [
    "EXTRA_EMBEDDING",
    "Cell",
    "build_model",
    "build_regression_model",
    "compile_model",
]

Cell = Literal["lstm", "gru"]
"""The recurrent layer (``model.cell``)."""

EXTRA_EMBEDDING: dict[str, int] = {"interval": 8, "degree": 4, "bar": 4}
"""Embedding size of each extra input (``model.extra_inputs``)."""


def _embedding_sizes(cfg: ModelConfig) -> dict[str, int]:
    return {
        "pitch": cfg.pitch_embedding,
        "ioi": cfg.ioi_embedding,
        "duration": cfg.duration_embedding,
        "velocity": cfg.velocity_embedding,
    }


def build_model(cfg: ModelConfig, cell: Cell | None = None) -> Any:
    """The classes-objective network (uncompiled).

    Each of ``cfg.extra_inputs`` is one more embedded input, concatenated after the four
    tokens' embeddings; with none the network is exactly the four-input one. The recurrent
    layers are ``cfg.cell``'s (``cell`` overrides it), named ``lstm_0``... or ``gru_0``...
    """
    k = keras()
    cell = cell or cfg.cell
    names = [*FIELDS, *cfg.extra_inputs]
    inputs = {f: k.Input(shape=(None,), dtype="int32", name=f) for f in names}
    sizes = {**_embedding_sizes(cfg), **EXTRA_EMBEDDING}
    vocab = {**VOCAB_SIZES, **VIEWPOINT_SIZES}
    embedded = [k.layers.Embedding(vocab[f], sizes[f], name=f"emb_{f}")(inputs[f]) for f in names]
    x = k.layers.Concatenate(name="note")(embedded)
    for i, units in enumerate(cfg.lstm_units):
        layer = k.layers.GRU if cell == "gru" else k.layers.LSTM
        x = layer(units, return_sequences=True, name=f"{cell}_{i}")(x)
        if cfg.dropout > 0:
            x = k.layers.Dropout(cfg.dropout, name=f"dropout_{i}")(x)
    outputs = {
        f"next_{f}": k.layers.Dense(VOCAB_SIZES[f], activation="softmax", name=f"next_{f}")(x)
        for f in FIELDS
    }
    return k.Model(inputs=inputs, outputs=outputs, name="improviser")


def _smoothed_loss(vocab: int, smoothing: float) -> Any:
    """Sparse cross-entropy against targets with ``smoothing`` spread over ``vocab`` classes."""
    k = keras()

    def smoothed_sparse_crossentropy(y_true: Any, y_pred: Any) -> Any:
        target = k.ops.one_hot(k.ops.cast(y_true, "int32"), vocab)
        return k.losses.categorical_crossentropy(target, y_pred, label_smoothing=smoothing)

    return smoothed_sparse_crossentropy


def compile_model(model: Any, cfg: ModelConfig) -> None:
    """Adam and one sparse cross-entropy per head, rhythm and velocity down-weighted;
    ``cfg.label_smoothing`` and ``cfg.weight_average`` where set."""
    k = keras()
    weights = {
        "pitch": 1.0,
        "ioi": cfg.rhythm_loss_weight,
        "duration": cfg.rhythm_loss_weight,
        "velocity": cfg.velocity_loss_weight,
    }
    averaging = {"use_ema": True, "ema_momentum": cfg.weight_average} if cfg.weight_average else {}
    loss: dict[str, Any] = {
        f"next_{f}": _smoothed_loss(VOCAB_SIZES[f], cfg.label_smoothing)
        if cfg.label_smoothing
        else "sparse_categorical_crossentropy"
        for f in FIELDS
    }
    model.compile(
        optimizer=k.optimizers.Adam(cfg.learning_rate, **averaging),
        loss=loss,
        loss_weights={f"next_{f}": weights[f] for f in FIELDS},
        metrics={"next_pitch": ["sparse_categorical_accuracy"]},
    )


def build_regression_model(window: int, cfg: ModelConfig) -> Any:
    """The notebook's model: scaled pitch windows → one scaled pitch, MSE (compiled)."""
    k = keras()
    inp = k.Input(shape=(window, 1), name="pitch_scaled")
    x = inp
    units = cfg.regression_units
    for i, n in enumerate(units):
        x = k.layers.LSTM(n, return_sequences=i < len(units) - 1, name=f"lstm_{i}")(x)
        x = k.layers.Dropout(cfg.dropout, name=f"dropout_{i}")(x)
    out = k.layers.Dense(1, name="next_pitch_scaled")(x)
    model = k.Model(inp, out, name="notebook_regression")
    model.compile(optimizer=k.optimizers.Adam(cfg.learning_rate), loss="mse")
    return model
