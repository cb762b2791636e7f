"""The manual's table of ``improviser bench install`` (``docs/install.md``, block
``install-sizes``), from the JSON it left in ``samples/install/``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from improviser.paths import ROOT

__all__ = [
    "INSTALL_RESULT",
    "LARGEST",
    "install_block",
    "install_table",
    "largest_parts",
    "mb",
    "part_text",
    "venv_label",
]

INSTALL_RESULT = ROOT / "samples" / "install" / "sizes.json"
"""Where ``improviser bench install --json`` was kept."""
LARGEST = 5
"""Parts named per venv."""
COMPANION_MIN = 5_000_000
"""A part's companions shown beside it from this many bytes (at most :data:`COMPANIONS`)."""
COMPANIONS = 3
SMALL = 1_000_000
"""Companions that add less than this, none of them shown, are not mentioned."""


def mb(size: int) -> str:
    """Bytes in decimal units: ``1.92 GB``, ``1,340 MB``, ``5.6 MB``."""
    if size >= 1_000_000_000:
        return f"{size / 1e9:.2f} GB"
    return f"{size / 1e6:,.0f} MB" if size >= 10_000_000 else f"{size / 1e6:.1f} MB"


def part_text(part: Mapping[str, Any]) -> str:
    """``matplotlib 103 MB (38 MB its own; fonttools 37 MB, pillow 22 MB, …)``: a part's
    bytes, and where it has companions (the dependencies only it brought) its own and the
    largest of theirs."""
    text = f"{part['name']} {mb(part['bytes'])}"
    if not part["with"]:
        return text
    largest = sorted(part["with"].items(), key=lambda kv: -kv[1])
    shown = [f"{name} {mb(size)}" for name, size in largest if size >= COMPANION_MIN]
    more = ", …" if len(shown) > COMPANIONS or len(shown) < len(largest) else ""
    if not shown and part["bytes"] - part["own"] < SMALL:
        return text
    named = f"; {', '.join(shown[:COMPANIONS])}{more}" if shown else ""
    return f"{text} ({mb(part['own'])} its own{named})"


def venv_label(extra: str) -> str:
    """How a venv reads: the install command's argument."""
    return "improviser" if extra == "base" else f"improviser[{extra}]"


def largest_parts(
    venv: Mapping[str, Any], before: Mapping[str, Any] | None, count: int = LARGEST
) -> tuple[bool, list[Mapping[str, Any]]]:
    """The venv's largest parts; where ``before`` (the previous venv) holds nothing this
    one lacks, only the parts it adds, and ``True``."""
    parts: list[Mapping[str, Any]] = venv["parts"]
    if before is not None and set(before["distributions"]) <= set(venv["distributions"]):
        old = set(before["distributions"])
        return True, [p for p in parts if p["name"] not in old][:count]
    return False, parts[:count]


def install_table(result: Mapping[str, Any]) -> str:
    """One row per venv of a ``bench install --json`` result, and how it was measured."""
    lines = [
        "| venv | installed (`du`) | distributions | largest parts |",
        "| --- | ---: | ---: | --- |",
    ]
    before: tuple[str, Mapping[str, Any]] | None = None
    for extra, venv in result["venvs"].items():
        adds, parts = largest_parts(venv, before[1] if before else None)
        named = ", ".join(part_text(p) for p in parts)
        if adds and before is not None:
            named = f"`{venv_label(before[0])}`, and: {named}"
        lines.append(
            f"| `{venv_label(extra)}` | {mb(venv['bytes'])} | {len(venv['distributions'])} "
            f"| {named} |"
        )
        before = (extra, venv)
    load = result["load"]
    unlisted = " / ".join(mb(venv["unlisted_bytes"]) for venv in result["venvs"].values())
    lines += [
        "",
        f"Measured {result['date'][:10]} on {result['platform']}: Python {result['python']}, "
        f"pip {result['pip']}, the wheel `{result['wheel']['name']}` "
        f"({mb(result['wheel']['bytes'])}); MB and GB are 10⁶ and 10⁹ bytes. Of each venv, "
        f"{unlisted} are in no distribution's `RECORD`: the folders themselves (a block each) "
        f"and the venv's own activate scripts and links. Load average "
        f"{load['start'][0]:.1f} when the run began, {load['end'][0]:.1f} at its end "
        "(sizes do not depend on it).",
    ]
    return "\n".join(lines)


def install_block(path: Path = INSTALL_RESULT) -> str:
    """The ``install-sizes`` block of ``docs/install.md``."""
    result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return install_table(result)
