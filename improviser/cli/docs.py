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
    soak_rows_table,
    soak_table,
    synth_table,
    training_table,
)
from improviser.bench.harmony_table import harmony_table
from improviser.bench.lean_table import lean_table
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
    return synth_table(_json(SAMPLES / "sound" / "e2e-synth.json"))


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


BLOCKS: dict[str, tuple[Path, Callable[[], str]]] = {
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
