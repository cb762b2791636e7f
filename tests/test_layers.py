"""The package's folders are its architecture: imports point one way.

faces (cli, harness, bench) -> live / training -> inference -> music -> config -> errors/paths

The session's companions sit beside the faces: ``telemetry/`` (MQTT) and ``audio/`` (the
built-in synth and offline rendering) may import ``live/``, never the reverse; only the
faces import them.

An AST walk over every module (every ``import``, also those inside functions, which is
where TensorFlow and the faces are imported lazily) checks that no module imports a layer
above its own, that typer and rich stay in ``cli/``, that no MQTT client is imported by
``live/`` (the bridge is composed by the CLI and handed to the session), and that
TensorFlow is imported only through ``inference/tfload.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "improviser"

# What each part of the package may import from the package (besides itself).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "paths": set(),
    "config": {"errors", "paths"},
    "music": {"errors", "paths", "config"},
    "inference": {"errors", "paths", "config", "music"},
    "training": {"errors", "paths", "config", "music", "inference", "__init__"},
    "live": {"errors", "paths", "config", "music", "inference"},
    "telemetry": {"errors", "paths", "config", "music", "inference", "live", "__init__"},
    "harness": {"errors", "paths", "config", "music", "inference", "live"},
    "bench": {
        "errors",
        "paths",
        "config",
        "music",
        "inference",
        "training",
        "live",
        "harness",
        "telemetry",
        "audio",
    },
    "cli": {
        "errors",
        "paths",
        "config",
        "music",
        "inference",
        "training",
        "live",
        "harness",
        "bench",
        "telemetry",
        "audio",
        "web",
    },
    # The studio page: reads the broker and steers through the controls, like watch/set.
    "web": {"errors", "paths", "config", "music", "live", "telemetry"},
    # The built-in synth: a session companion and the offline renderer.
    "audio": {"errors", "paths", "config", "music", "inference", "live"},
    "__init__": {"errors", "music", "inference"},
    "__main__": {"cli"},
}
FACES = {"cli"}
"""Where typer and rich may be imported."""
MQTT_CLIENTS = {"aiomqtt", "paho", "asyncio_mqtt", "gmqtt"}


def _part(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _target(name: str) -> str | None:
    """The part of the package ``name`` lies in (``None``: not ours)."""
    parts = name.split(".")
    if parts[0] != "improviser":
        return None
    if len(parts) == 1:
        return "__init__"
    head = parts[1]
    if (PACKAGE / head).is_dir() or (PACKAGE / f"{head}.py").is_file():
        return head
    return "__init__"  # a name from the package's __init__ (improviser.__version__)


def test_every_part_is_known() -> None:
    parts = {_part(p) for p in _modules()}
    assert parts <= set(ALLOWED), f"new top-level part(s) without a rule: {parts - set(ALLOWED)}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: Path) -> None:
    part = _part(path)
    allowed = ALLOWED[part] | {part}
    wrong = []
    for line, name in _imports(path):
        top = name.split(".")[0]
        target = _target(name)
        if target is not None and target not in allowed:
            wrong.append(f"line {line}: {part} imports {name}")
        if top in {"typer", "rich"} and part not in FACES:
            wrong.append(f"line {line}: {top} outside cli/")
        if top in MQTT_CLIENTS and part == "live":
            wrong.append(f"line {line}: MQTT client {top} inside live/")
        if top in {"tensorflow", "keras"} and path != PACKAGE / "inference" / "tfload.py":
            wrong.append(f"line {line}: {top} imported outside inference/tfload.py")
    assert not wrong, "\n".join(wrong)


def test_the_check_catches_an_upward_import(tmp_path: Path) -> None:
    """The walk sees imports inside functions too (where lazy imports hide)."""
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from improviser.live.session.session import LiveSession\n")
    assert (2, "improviser.live.session.session.LiveSession") in _imports(source)
    assert _target("improviser.live.session.session.LiveSession") == "live"
    assert "live" not in ALLOWED["training"] | ALLOWED["inference"] | ALLOWED["config"]


LIVE = PACKAGE / "live"
LIVE_LAYERS = ("io", "events", "timebase", "engine", "session")
"""The layers inside ``live/``, lowest first: each imports only those before it (and
itself). ``events`` is the vocabulary every layer above speaks through the bus."""


def _live_layer(name: str) -> str | None:
    parts = name.split(".")
    if parts[:2] != ["improviser", "live"] or len(parts) < 3:
        return None
    return parts[2] if parts[2] in LIVE_LAYERS else None


def _live_modules() -> list[Path]:
    return sorted(p for p in LIVE.rglob("*.py") if p.parent != LIVE or p.stem != "__init__")


def test_every_live_module_is_in_a_layer() -> None:
    loose = [
        str(p.relative_to(LIVE))
        for p in _live_modules()
        if p.relative_to(LIVE).parts[0].removesuffix(".py") not in LIVE_LAYERS
    ]
    assert not loose, f"modules of live/ outside its layers {LIVE_LAYERS}: {loose}"


@pytest.mark.parametrize("path", _live_modules(), ids=lambda p: str(p.relative_to(LIVE)))
def test_live_layers_point_down(path: Path) -> None:
    own = path.relative_to(LIVE).parts[0].removesuffix(".py")
    below = set(LIVE_LAYERS[: LIVE_LAYERS.index(own) + 1])
    wrong = [
        f"line {line}: live/{own} imports {name}"
        for line, name in _imports(path)
        if (layer := _live_layer(name)) is not None and layer not in below
    ]
    assert not wrong, "\n".join(wrong)


def test_the_live_check_catches_an_upward_import(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from improviser.live.engine.engine import Improviser\n")
    ((_, name),) = _imports(source)
    assert _live_layer(name) == "engine"
    assert "engine" not in LIVE_LAYERS[: LIVE_LAYERS.index("timebase") + 1]
