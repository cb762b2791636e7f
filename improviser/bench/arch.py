"""Which network: held-out bits/note of architecture and training changes, one at a time.

:func:`bench_arch` trains the default network and each change to it (see
:data:`VARIANTS`) with the harness of :mod:`improviser.bench.variants`: the same content
split, seeds and budget for each, scored on the test split as ``improviser evaluate``
scores a model. Beside the bits, each row has the network's cost per live note: the
multiply-adds of one step, and for an LSTM stack the compiled engine's step time
(p50/p99), measured in the same run on weights of that shape (a step costs the same
whatever the weights' values).

The changes keep the per-note cost of the default network (about 160 k multiply-adds)
unless their name says otherwise (the ``size-*`` rows, which compare stack sizes for the
same training time: ``--minutes``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from improviser.bench.latency import cpu_engines, melodic_tokens, time_steps
from improviser.bench.stats import summarize
from improviser.bench.variants import Budget, Variant, pick, run_variants
from improviser.config import Config
from improviser.inference.weights import random_weights
from improviser.music.encoding import FIELDS, VOCAB_SIZES

__all__ = ["DEFAULT_VARIANTS", "SIZE_VARIANTS", "VARIANTS", "bench_arch", "multiply_adds"]

VARIANTS: dict[str, Variant] = {
    "baseline": Variant(note="LSTM 128 → 64, the default"),
    "wide-first": Variant(
        {"model": {"lstm_units": [152, 32]}},
        note="LSTM 152 → 32: wider first layer, smaller second",
    ),
    "gru": Variant({"model": {"lstm_units": [148, 74]}}, cell="gru", note="GRU 148 → 74"),
    "label-smoothing": Variant({"model": {"label_smoothing": 0.1}}, note="label smoothing 0.1"),
    "weight-average": Variant(
        {"model": {"weight_average": 0.999}}, note="moving average of the weights, momentum 0.999"
    ),
    "size-256-128-64": Variant(
        {"model": {"lstm_units": [256, 128, 64]}}, note="LSTM 256 → 128 → 64, the notebook's"
    ),
    "size-128-64": Variant(note="LSTM 128 → 64, the default"),
    "size-384-192": Variant({"model": {"lstm_units": [384, 192]}}, note="LSTM 384 → 192"),
}
"""Every variant ``bench arch`` knows."""
DEFAULT_VARIANTS = ("baseline", "wide-first", "gru", "label-smoothing", "weight-average")
"""One change at a time against the default network, at its cost per note."""
SIZE_VARIANTS = ("size-256-128-64", "size-128-64", "size-384-192")
"""Stack sizes, compared for the same training minutes."""
_STEP_NOTES = 3000


def multiply_adds(width: int, units: Sequence[int], cell: str = "lstm") -> int:
    """Multiply-adds of one note through the stack and the four heads."""
    gates = 3 if cell == "gru" else 4
    total = 0
    for n in units:
        total += gates * (width + n) * n
        width = n
    return total + width * sum(VOCAB_SIZES[f] for f in FIELDS)


def _step_cost(units: Sequence[int], width: int, cell: str) -> dict[str, Any]:
    """The compiled (or NumPy) engine's step time on weights of this stack's shape."""
    weights = random_weights(units, embedding=max(1, width // len(FIELDS)), cell=cell)
    name, engine = list(cpu_engines(weights).items())[-1]
    tokens = melodic_tokens(_STEP_NOTES)
    engine.reset()
    return {"engine": name, **summarize(time_steps(engine.step, tokens, warmup=100))}


def bench_arch(
    data: Sequence[str | Path],
    config: Config,
    *,
    variants: Sequence[str] = DEFAULT_VARIANTS,
    budget: Budget,
    repeats: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Train and score each variant, and time its step; a JSON-ready dict."""
    chosen = pick(variants, VARIANTS)
    baseline = next((v for v in chosen if v in ("baseline", "size-128-64")), None)
    result = run_variants(
        data,
        config,
        chosen,
        budget=budget,
        repeats=repeats,
        baseline=baseline,
        progress=progress,
    )
    m = config.model
    width = m.pitch_embedding + m.ioi_embedding + m.duration_embedding + m.velocity_embedding
    for row in result["variants"].values():
        row["multiply_adds"] = multiply_adds(width, row["lstm_units"], row["cell"])
        row["step"] = _step_cost(row["lstm_units"], width, row["cell"])
    return result
