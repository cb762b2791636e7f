"""The rows of ``bench soak`` as a picture: memory, latency and engine cost over time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from improviser.training.plot import _pyplot, _save

__all__ = ["plot_soak"]

_PANELS = (
    ("own anonymous memory, MB", ("anon_mb",)),
    ("answer latency, ms", ("latency_p50_ms", "latency_p99_ms")),
    ("engine per note-on, ms", ("engine_p50_ms", "engine_p99_ms")),
)


def plot_soak(result: dict[str, Any], out: str | Path) -> Path:
    """Three panels over the run's minutes, saved as PNG."""
    rows = result["rows"]
    minutes = [r["t_s"] / 60 for r in rows]
    plt = _pyplot()
    fig, axes = plt.subplots(len(_PANELS), 1, figsize=(9, 8), dpi=100, sharex=True)
    for ax, (title, keys) in zip(axes, _PANELS, strict=True):
        for key in keys:
            ax.plot(minutes, [r[key] for r in rows], marker=".", label=key)
        ax.set_title(title)
        ax.legend(loc="upper left", fontsize="small")
    axes[-1].set_xlabel("minutes")
    return _save(plt, fig, out)
