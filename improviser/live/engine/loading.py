"""The model a live session plays: found, checked, loaded and timed once at start."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from improviser.config.live import LiveConfig
from improviser.errors import ModelError
from improviser.inference import (
    StepModel,
    make_engine,
    probe,
    read_metadata,
    refuse_extra_inputs,
)
from improviser.inference.harmonizer import Harmonizer, HarmonyParams
from improviser.inference.select import PROBE_STEPS
from improviser.live.engine.voice import Harmony

__all__ = ["describe_engine", "load_step_model", "open_harmony", "open_model"]

_log = logging.getLogger("improviser.live")


def load_step_model(
    path: Path,
    engine: str = "numpy",
    device: str = "auto",
    *,
    report: Callable[[str], None] | None = None,
) -> StepModel:
    """The step engine of a model (see :func:`~improviser.inference.make_engine`).

    :class:`ModelError` if the model is missing or cannot play live. The NumPy engine, the
    default, never imports TensorFlow; ``report`` receives the start-up probe's lines.
    """
    needed = path if engine == "tf" else path.with_suffix(".npz")
    if not needed.exists():
        raise ModelError(
            f"{path}: model not found (no {needed.name}); train one with 'improviser train' "
            "or choose one with --model"
        )
    if path.with_suffix(".json").exists():
        meta = read_metadata(path)
        objective = meta.get("objective")
        if objective not in (None, "classes"):
            raise ModelError(f"{path}: a {objective!r} model cannot play live; use 'classes'")
        refuse_extra_inputs(meta, path)
    return make_engine(path, engine, device, report=report)


def describe_engine(model: StepModel) -> str:
    """``name on device`` of a step engine, for the log (``numpy on cpu``)."""
    name = getattr(model, "name", type(model).__name__)
    device = str(getattr(model, "device", "cpu")).strip("/").lower()
    return f"{name} on {device}"


def open_model(config: LiveConfig) -> tuple[StepModel, str]:
    """Load ``config.model`` with the configured engine; the model and a line for the log."""
    model = load_step_model(
        config.model,
        config.engine,
        config.device,
        report=lambda line: _log.debug("engine probe: %s", line),
    )
    (per_step,) = probe([model])
    line = (
        f"engine: {describe_engine(model)}, {per_step * 1e6:.0f} µs/note (median of "
        f"{PROBE_STEPS}; asked: engine {config.engine}, device {config.device})"
    )
    return model, line


def open_harmony(config: LiveConfig) -> tuple[Harmony | None, str]:
    """The harmonizer of ``config.harmony_model`` and a line for the log.

    ``None`` when there is no such model and the mode does not need one (an answer then
    has no lower voices); :class:`ModelError` when ``accompany`` is asked for without one.
    A harmony model steps on the CPU engines only (NumPy or compiled): TensorFlow's is
    never taken for it.
    """
    path = config.harmony_model
    if not path.with_suffix(".npz").exists():
        if config.mode == "accompany":
            raise ModelError(
                f"{path}: harmony model not found (no {path.with_suffix('.npz').name}); train "
                "one with 'improviser train --kind harmony' or choose one with --harmony-model"
            )
        return None, f"harmony: none ({path.name} not found): answers are lines"
    engine = config.engine if config.engine in ("numpy", "native") else "auto"
    params = HarmonyParams(temperature=config.harmony_temperature, top_p=config.harmony_top_p)
    harmonizer = Harmonizer.from_file(path, engine, params, config.sampling.seed)
    return harmonizer, f"harmony: {path.name} on {describe_engine(harmonizer.engine)}"
