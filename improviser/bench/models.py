"""The models a live benchmark plays: the bundled ones, or random weights of their size
(``--untrained``, or where none is bundled), so a bench runs on a fresh clone."""

from __future__ import annotations

from pathlib import Path

from improviser.config import ModelConfig
from improviser.config.live import LiveConfig
from improviser.config.training import HarmonyModelConfig
from improviser.inference import StepModel, random_weights
from improviser.inference.harmonizer import HARMONY, Harmonizer
from improviser.inference.select import cpu_engine_type
from improviser.live.engine.voice import Harmony
from improviser.music.encoding import PITCHES
from improviser.music.voicing import HARMONY_VOCAB
from improviser.paths import DEFAULT_MODEL

__all__ = ["choose_harmony", "choose_model"]


def choose_harmony(untrained: bool, seed: int, engine: str) -> tuple[Harmony | None, str]:
    """The harmony model of an ``accompany`` run: ``None`` (the session loads the bundled
    one) or random weights of its size where asked or where none is bundled; a label."""
    path = LiveConfig().harmony_model
    if not untrained and path.with_suffix(".npz").exists():
        return None, str(path)
    why = "--untrained" if untrained else f"no bundled harmony model at {path}"
    units = tuple(HarmonyModelConfig().lstm_units)
    weights = random_weights(units, 16, seed, inputs=HARMONY_VOCAB, outputs={"value": PITCHES},
                             kind=HARMONY)  # fmt: skip
    engine = engine if engine in ("numpy", "native") else "auto"
    label = f"random weights, LSTM {'-'.join(map(str, units))} ({why})"
    return Harmonizer(cpu_engine_type(engine)(weights), seed=seed), label


def choose_model(
    model: Path | None, *, untrained: bool = False, seed: int = 0, engine: str = "auto"
) -> tuple[StepModel | None, Path, str]:
    """The injected model (random weights, on the engine a session would choose for
    ``engine``) or ``None`` (the session loads ``path``), and a label: ``model`` (default:
    the bundled one if present, else random weights)."""
    path = model or DEFAULT_MODEL
    if untrained or (model is None and not path.with_suffix(".npz").exists()):
        why = "--untrained" if untrained else f"no bundled model at {path}"
        units = tuple(ModelConfig().lstm_units)  # the default model's size, so its cost
        weights = random_weights(units, embedding=16, seed=seed)
        label = f"random weights, LSTM {'-'.join(map(str, units))} ({why})"
        return cpu_engine_type(engine)(weights), path, label
    return None, path, str(path)
