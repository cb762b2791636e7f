"""Build and compile the harmony model (saving: :mod:`improviser.inference.modelfile`).

Four embedded inputs (``value``, ``role``, ``metre``, ``ioi``: the token fields of
:mod:`improviser.music.voicing`), an LSTM stack that returns sequences (dropout between)
and one softmax head ``next_value`` over the 128 values of the next token. The layer
names follow the melody model's (``emb_<input>``, ``lstm_<i>``, ``next_<output>``), so one
exporter and the same step engines serve both.
"""

from __future__ import annotations

from typing import Any

from improviser.config import HarmonyModelConfig
from improviser.inference.tfload import keras
from improviser.music.voicing import HARMONY_FIELDS, HARMONY_VOCAB

__all__ = ["build_harmony_model", "compile_harmony_model"]


def _embedding_sizes(cfg: HarmonyModelConfig) -> dict[str, int]:
    return {
        "value": cfg.value_embedding,
        "role": cfg.role_embedding,
        "metre": cfg.metre_embedding,
        "ioi": cfg.ioi_embedding,
    }


def build_harmony_model(cfg: HarmonyModelConfig) -> Any:
    """The harmony network (uncompiled)."""
    k = keras()
    inputs = {f: k.Input(shape=(None,), dtype="int32", name=f) for f in HARMONY_FIELDS}
    sizes = _embedding_sizes(cfg)
    embedded = [
        k.layers.Embedding(HARMONY_VOCAB[f], sizes[f], name=f"emb_{f}")(inputs[f])
        for f in HARMONY_FIELDS
    ]
    x = k.layers.Concatenate(name="token")(embedded)
    for i, units in enumerate(cfg.lstm_units):
        x = k.layers.LSTM(units, return_sequences=True, name=f"lstm_{i}")(x)
        if cfg.dropout > 0:
            x = k.layers.Dropout(cfg.dropout, name=f"dropout_{i}")(x)
    head = k.layers.Dense(HARMONY_VOCAB["value"], activation="softmax", name="next_value")(x)
    return k.Model(inputs=inputs, outputs={"next_value": head}, name="harmony")


def compile_harmony_model(model: Any, cfg: HarmonyModelConfig) -> None:
    """Adam and sparse cross-entropy on ``next_value`` (weighted per target by the data)."""
    k = keras()
    model.compile(
        optimizer=k.optimizers.Adam(cfg.learning_rate),
        loss={"next_value": "sparse_categorical_crossentropy"},
        weighted_metrics={"next_value": ["sparse_categorical_accuracy"]},
    )
