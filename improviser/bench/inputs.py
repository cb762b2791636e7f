"""Which extra inputs earn their place: held-out bits/note with and without each viewpoint.

:func:`bench_inputs` trains one model per variant (no extra input, each viewpoint alone,
all together) with the harness of :mod:`improviser.bench.variants`: the same content
split, seeds and epochs for each, scored on the test split as ``improviser evaluate``
scores a model. The Keras model is run over whole pieces (an LSTM stepped note by note
from a zero state computes the same thing), because the streaming engines do not take
extra inputs yet.

Reported per variant: pitch bits/note (what ``evaluate`` calls ``bits_per_note``), total
bits/note (pitch + IOI + duration + velocity: the whole note), top-1 pitch accuracy, the
last validation loss, training seconds, and the gain of each over the ``none`` variant
(positive: fewer bits, better).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from improviser.bench.variants import Budget, Variant, pick, run_variants
from improviser.config import Config
from improviser.music.viewpoints import VIEWPOINTS

__all__ = ["DEFAULT_EPOCHS", "VARIANTS", "bench_inputs"]

VARIANTS: dict[str, tuple[str, ...]] = {
    "none": (),
    **{name: (name,) for name in VIEWPOINTS},
    "all": VIEWPOINTS,
}
"""Each variant's extra inputs: none, each viewpoint alone, all together."""
DEFAULT_EPOCHS = 5
"""Epochs per variant (about 2 minutes each on the bundled corpus on the 2-core machine)."""


def bench_inputs(
    data: Sequence[str | Path],
    config: Config,
    *,
    variants: Sequence[str] = tuple(VARIANTS),
    epochs: int = DEFAULT_EPOCHS,
    repeats: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Train and score one model per variant (see the module docstring); JSON-ready."""
    known = {name: Variant({"model": {"extra_inputs": list(v)}}) for name, v in VARIANTS.items()}
    chosen = pick(variants, known)
    result = run_variants(
        data,
        config,
        chosen,
        budget=Budget(epochs),
        repeats=repeats,
        baseline="none",
        progress=progress,
    )
    for name, row in result["variants"].items():
        row["extra_inputs"] = list(VARIANTS[name])
    return result
