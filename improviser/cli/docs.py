"""The manual's generated parts: ``python -m improviser.cli.docs [--check]``.

Writes ``docs/reference/mqtt.md`` (the MQTT topics and payloads, from the code) and the
tables of the pages marked ``<!-- generated: NAME ... -->`` / ``<!-- end generated: NAME
-->`` (from the JSON the benchmarks left in ``samples/``). ``--check`` writes nothing and
exits 1 naming what is out of date; ``tests/test_docs.py`` runs the same check.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from improviser.bench.doc_tables import (
    e2e_modes_table,
    evaluation_table,
    finetune_table,
    soak_rows_table,
    soak_table,
    synth_table,
    training_table,
)
from improviser.bench.doc_tables_live import (
    demo_table,
    e2e_table,
    mqtt_table,
    sync_table,
    window_table,
)
from improviser.bench.doc_tables_music import (
    musicality_goals_table,
    musicality_octaves_table,
    musicality_table,
)
from improviser.bench.doc_tables_speed import engines_table, speed_table, startup_table
from improviser.bench.harmony_table import harmony_evaluate_table, harmony_table
from improviser.bench.install_table import install_block
from improviser.bench.lean_table import lean_table
from improviser.bench.model_blocks import (
    arch_block,
    chorale_block,
    converged_block,
    inputs_block,
    inputs_longer_block,
    sizes_block,
    step_block,
)
from improviser.bench.peers_table import peers_table
from improviser.bench.rhythm_table import rhythm_final_block, rhythm_select_block
from improviser.bench.styles_table import styles_block
from improviser.bench.web_table import web_table
from improviser.errors import ImproviserError
from improviser.paths import ROOT
from improviser.telemetry.reference import mqtt_reference

__all__ = ["BLOCKS", "DOCS", "MarkerError", "expected", "main", "stale", "write"]

DOCS = ROOT / "docs"
SAMPLES = ROOT / "samples"
MQTT_PAGE = DOCS / "reference" / "mqtt.md"


class MarkerError(ImproviserError, ValueError):
    """A page lost the markers around one of its generated tables."""


def _json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _evaluation() -> str:
    model = SAMPLES / "model"
    return evaluation_table(
        _json(model / "improviser.evaluate.json"),
        _json(model / "improviser.json"),
        _json(model / "notebook-regression.json"),
    )


def _training() -> str:
    names = ("improviser.json", "notebook-regression.json")
    return training_table({name: _json(SAMPLES / "model" / name) for name in names})


def _soak_runs() -> str:
    runs = {path.name: _json(path) for path in sorted((SAMPLES / "soak").glob("*.json"))}
    return soak_table(dict(sorted(runs.items(), key=lambda item: (len(item[0]), item[0]))))


def _synth() -> str:
    sound = SAMPLES / "sound"
    return "\n\n".join(
        [
            synth_table(_json(sound / "e2e-synth.json")),
            "The same command earlier, on a loaded machine (`e2e-synth-load.json`):",
            synth_table(_json(sound / "e2e-synth-load.json")),
        ]
    )


def _two_hands_e2e() -> str:
    folder = SAMPLES / "two-hands"
    return e2e_modes_table({p.stem: _json(p) for p in sorted(folder.glob("e2e-*.json"))})


def _lean() -> str:
    return lean_table(_json(SAMPLES / "two-hands" / "lean.json"))


def _off_repeat_soaks() -> str:
    folder = SAMPLES / "two-hands"
    return soak_table({p.name: _json(p) for p in sorted(folder.glob("soak-*.json"))})


def _soak_2h() -> str:
    return soak_rows_table(_json(SAMPLES / "soak" / "soak-2h.json"))


def _harmony() -> str:
    return harmony_table(_json(SAMPLES / "model" / "harmony.bench.json"))


def _web() -> str:
    runs = {path.name: _json(path) for path in sorted((SAMPLES / "web").glob("*.json"))}
    return web_table(runs)


def _peers() -> str:
    return peers_table(_json(SAMPLES / "latency" / "latency.json"))


def _demo() -> str:
    return demo_table(_json(SAMPLES / "demo" / "demo.json"))


def _e2e() -> str:
    return e2e_table(_json(SAMPLES / "latency" / "e2e.json"))


def _sync_timing() -> str:
    return sync_table(_json(SAMPLES / "sync" / "sync.json"))


def _window() -> str:
    return window_table(_json(SAMPLES / "latency" / "window.json"))


def _latency() -> dict[str, Any]:
    return _json(SAMPLES / "latency" / "latency.json")


def _at_spacing(name: str) -> bool:
    return "100-500 ms" in name


def _speed() -> str:
    return speed_table(_latency(), keep=lambda name: not _at_spacing(name))


def _startup() -> str:
    return startup_table(_latency())


def _spacing() -> str:
    return speed_table(_latency(), keep=_at_spacing, speedup=False)


def _engines() -> str:
    return engines_table(_latency())


def _mqtt_cost() -> str:
    folder = SAMPLES / "mqtt"
    return mqtt_table({p.name: _json(p) for p in sorted(folder.glob("e2e-mqtt*.json"))})


_ROWS_ALL = ("key", "motif_reuse", "register_p50", "register_p99", "leaps", "degenerate")
_ROWS_RHYTHM = ("grid", "drift", "long_notes")
_ROWS_GUARD: tuple[str, ...] = ("replay", "transposed_replay", "motif_reuse", "grid", "drift")
_ROWS_GUARD += ("key", "long_notes", "leaps", "degenerate")


def _musicality(name: str) -> dict[str, Any]:
    return _json(SAMPLES / "musicality" / name)


def _answers_octave0() -> str:
    result = _musicality("octaves.json")
    columns = ("model-raw", "model", "model+stm", "model+listen", "truth", "repeat", "unigram")
    return musicality_table(
        result,
        (*columns, "walk"),
        _ROWS_ALL + _ROWS_RHYTHM,
        octave=0,
    )


def _answers_octaves() -> str:
    return musicality_octaves_table(
        _musicality("octaves.json"),
        ("model", "model+stm", "model+listen", "truth"),
        _musicality("octaves-before-shifts.json"),
    )


def _sync_rhythm() -> str:
    result = _musicality("octaves.json")
    return musicality_table(
        result,
        ("model", "model-raw", "truth"),
        ("key", *_ROWS_RHYTHM, "rests"),
        octave=0,
    )


def _guard_select() -> str:
    names: tuple[str, ...] = ("off", "penalty:7:0", "penalty:6:0", "penalty:6:0.01")
    names += ("penalty:5:0.01", "discount:5:0.1", "discount:4:0.25")
    columns = {f"generate {n}": n for n in names} | {"truth": "truth"}
    return musicality_table(_musicality("select.json"), columns, _ROWS_GUARD)


def _guard_final() -> str:
    columns = ["generate before", "generate", "live before", "live"]
    for guard in ("stm:6:0", "discount:5:0.1"):
        columns += [f"generate {guard}", f"live {guard}"]
    columns += ["truth", "model-raw", "repeat"]
    return musicality_table(_musicality("final.json"), columns, _ROWS_GUARD)


def _guard_goals() -> str:
    return musicality_goals_table(_musicality("final.json"), ("generate", "live"))


def _finetune() -> str:
    folder = SAMPLES / "finetune"
    return finetune_table(
        {
            "bundled": _json(folder / "finetune.json"),
            "*previous bundled (no octave shifts)*": _json(folder / "finetune-before-shifts.json"),
        }
    )


def _harmony_evaluate() -> str:
    model = SAMPLES / "model"
    return harmony_evaluate_table(
        {
            "harmony model, LSTM 128 (bundled)": _json(model / "harmony.evaluate.json"),
            "harmony model, LSTM 256 (same split, seed, 35 minutes)": _json(
                model / "harmony-lstm256.evaluate.json"
            ),
        }
    )


BLOCKS: dict[str, tuple[Path, Callable[[], str]]] = {
    "harmony-evaluate": (DOCS / "harmony-training.md", _harmony_evaluate),
    "finetune": (DOCS / "training.md", _finetune),
    "demo": (DOCS / "getting-started.md", _demo),
    "e2e": (DOCS / "latency-e2e.md", _e2e),
    "speed": (DOCS / "speed.md", _speed),
    "startup": (DOCS / "speed.md", _startup),
    "spacing": (DOCS / "speed-native.md", _spacing),
    "engines": (DOCS / "speed-native.md", _engines),
    "window": (DOCS / "latency-e2e.md", _window),
    "mqtt-cost": (DOCS / "mqtt.md", _mqtt_cost),
    "answers-octave0": (DOCS / "answers.md", _answers_octave0),
    "answers-octaves": (DOCS / "answers.md", _answers_octaves),
    "sync-timing": (DOCS / "sync.md", _sync_timing),
    "sync-rhythm": (DOCS / "sync.md", _sync_rhythm),
    "guard-select": (DOCS / "musicality.md", _guard_select),
    "guard-final": (DOCS / "musicality.md", _guard_final),
    "guard-goals": (DOCS / "musicality.md", _guard_goals),
    "rhythm-select": (DOCS / "musicality.md", rhythm_select_block),
    "rhythm-final": (DOCS / "musicality.md", rhythm_final_block),
    "evaluation": (DOCS / "evaluation.md", _evaluation),
    "harmony": (DOCS / "harmony.md", _harmony),
    "soak-runs": (DOCS / "soak.md", _soak_runs),
    "soak-2h": (DOCS / "soak.md", _soak_2h),
    "synth": (DOCS / "sound.md", _synth),
    "training": (DOCS / "training.md", _training),
    "two-hands-e2e": (DOCS / "two-hands.md", _two_hands_e2e),
    "lean": (DOCS / "two-hands.md", _lean),
    "off-repeat-soaks": (DOCS / "two-hands.md", _off_repeat_soaks),
    "web": (DOCS / "web.md", _web),
    "styles": (DOCS / "musicality.md", styles_block),
    "peers": (DOCS / "speed.md", _peers),
    "model-arch": (DOCS / "model.md", arch_block),
    "model-sizes": (DOCS / "model.md", sizes_block),
    "model-converged": (DOCS / "model.md", converged_block),
    "model-step": (DOCS / "model.md", step_block),
    "chorale-networks": (DOCS / "styles.md", chorale_block),
    "inputs": (DOCS / "extra-inputs.md", inputs_block),
    "inputs-longer": (DOCS / "extra-inputs.md", inputs_longer_block),
    "install-sizes": (DOCS / "install.md", install_block),
}
"""Each generated table: its page and what writes it."""


def _block(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- generated: {re.escape(name)}\b[^>]*-->\n)(.*?)(<!-- end generated: "
        rf"{re.escape(name)} -->)",
        re.S,
    )


def expected() -> dict[Path, str]:
    """Every generated file as it should read now (a page with its tables filled in)."""
    pages: dict[Path, str] = {MQTT_PAGE: mqtt_reference()}
    for name, (page, make) in BLOCKS.items():
        text = pages.get(page) or page.read_text(encoding="utf-8")
        found = _block(name).search(text)
        if found is None:
            msg = f"{page}: no '<!-- generated: {name} -->' ... '<!-- end generated: {name} -->'"
            raise MarkerError(msg)
        pages[page] = f"{text[: found.end(1)]}\n{make()}\n\n{text[found.start(3) :]}"
    return pages


def stale() -> list[Path]:
    """The generated files whose committed text differs from what the code writes now."""
    return [
        path
        for path, text in expected().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def write() -> list[Path]:
    """Write every generated file that changed; the paths written."""
    changed = stale()
    pages = expected()
    for path in changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(pages[path], encoding="utf-8")
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    """Write (or ``--check``) the manual's generated parts; the exit code."""
    parser = argparse.ArgumentParser(prog="python -m improviser.cli.docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    try:
        return _run(check=args.check)
    except MarkerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(*, check: bool) -> int:
    if check:
        out_of_date = stale()
        for path in out_of_date:
            print(f"out of date: {path.relative_to(ROOT)}", file=sys.stderr)
        return 1 if out_of_date else 0
    for path in write():
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
