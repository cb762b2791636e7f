"""The model page's generated tables (``docs/model.md``, ``docs/extra-inputs.md``), each
from the JSON that ``bench arch``, ``bench inputs``, ``evaluate`` and the step-cost script
left in ``samples/model/`` (``python -m improviser.cli.docs`` puts them in the pages)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from improviser.bench.doc_tables import networks_table, step_cost_table
from improviser.bench.variants_table import variants_table
from improviser.paths import ROOT

__all__ = [
    "arch_block",
    "chorale_block",
    "converged_block",
    "inputs_block",
    "inputs_longer_block",
    "sizes_block",
    "step_block",
]

MODEL = ROOT / "samples" / "model"
ARCH = MODEL / "arch"
INPUTS = MODEL / "inputs"

_ARCH_LABELS = {
    "baseline": "LSTM 128 → 64 (the default)",
    "wide-first": "LSTM 152 → 32: wider first layer, smaller second",
    "gru": "GRU 148 → 74",
    "label-smoothing": "label smoothing 0.1",
    "weight-average": "moving average of the weights (0.999)",
}
_SIZE_LABELS = {
    "size-256-128-64": "LSTM 256 → 128 → 64 (the notebook's)",
    "size-128-64": "**LSTM 128 → 64** (the default)",
    "size-384-192": "LSTM 384 → 192",
}
_INPUT_LABELS = {
    "none": "none (the four tokens)",
    "interval": "+ interval",
    "degree": "+ degree",
    "bar": "+ bar",
    "all": "+ interval, degree, bar",
}


def _json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def arch_block() -> str:
    """One change at a time against the LSTM 128 → 64, same budget (``bench arch``)."""
    return variants_table(_json(ARCH / "changes.json"), _ARCH_LABELS, cost=True)


def sizes_block() -> str:
    """Network sizes at the same budget, with their step cost (``bench arch``)."""
    return variants_table(_json(ARCH / "sizes.json"), _SIZE_LABELS, cost=True)


def converged_block() -> str:
    """The bundled model against the ones it replaced (``evaluate --json`` of each)."""
    return networks_table(
        {
            "the bundled model until now": _json(ARCH / "lstm-28min.evaluate.json"),
            "the same, trained on to epoch 89": _json(ARCH / "lstm-89.evaluate.json"),
            "the GRU below at epoch 35 (a checkpoint)": _json(ARCH / "gru-35.evaluate.json"),
            "**the bundled model**, trained to convergence": _json(
                MODEL / "improviser.evaluate.json"
            ),
        }
    )


def chorale_block() -> str:
    """The chorale style's melody model against the one it replaced (``evaluate --json``)."""
    return networks_table(
        {
            "the chorale model until now (40 min)": _json(
                ARCH / "chorale-lstm-40min.evaluate.json"
            ),
            "the same, trained on for 16 more minutes": _json(
                ARCH / "chorale-lstm-963.evaluate.json"
            ),
            "**the chorale model**": _json(MODEL / "chorale.evaluate.json"),
        }
    )


def step_block() -> str:
    """The GRU's step against the LSTM's, one interleaved run (``step_cost.py``)."""
    return step_cost_table(_json(ARCH / "step-cost.json"))


def _inputs(name: str) -> str:
    result = _json(INPUTS / name)
    labels = {k: v for k, v in _INPUT_LABELS.items() if k in result["variants"]}
    return variants_table(result, labels, first="inputs")


def inputs_block() -> str:
    """Every extra input alone and all together, 5 epochs (``bench inputs``)."""
    return _inputs("inputs-5.json")


def inputs_longer_block() -> str:
    """The candidates again, 12 epochs (``bench inputs --variant ...``)."""
    return _inputs("inputs-12.json")
