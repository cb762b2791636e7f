"""The manual's tables of the answers' note values (docs/musicality.md, "Note values"), from
the JSON that ``improviser bench musicality --json`` and ``samples/musicality/
rhythm_cost.py`` left in ``samples/musicality/`` (the commands are in the page)."""

from __future__ import annotations

import json
from typing import Any

from improviser.bench.doc_tables_music import musicality_goals_table, musicality_table
from improviser.paths import ROOT

__all__ = ["rhythm_final_block", "rhythm_select_block"]

FOLDER = ROOT / "samples" / "musicality"
_ROWS = ("drift", "grid", "long_notes", "rests", "motif_reuse", "replay", "key", "leaps")
_FINAL = {
    "rhythm_memory=0,rhythm_guard=1": "neither (before)",
    "rhythm_memory=0.7,rhythm_guard=1": "memory 0.7 alone",
    "rhythm_memory=0,rhythm_guard=0.2": "guard 0.2 alone",
}


def _json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FOLDER / name).read_text(encoding="utf-8"))
    return data


def rhythm_select_block() -> str:
    """The choice, on the ``generate`` path: the memory's weight, then the guard with it
    (runs made while the defaults were memory 0 and guard 1: ``generate`` is neither)."""
    memory = _json("rhythm-select-memory.json")
    columns = {"generate": "neither"}
    columns |= {f"generate rhythm_memory={w}": f"memory {w}" for w in ("0.3", "0.5", "0.7")}
    columns |= {"truth": "truth"}
    both = _json("rhythm-select-guard.json")
    pairs = {"0.7": "memory 0.7", "0.7,rhythm_guard=0.2": "memory 0.7 + guard 0.2"}
    pairs |= {"0.5,rhythm_guard=0.2": "memory 0.5 + guard 0.2"}
    pairs |= {"0.7,rhythm_guard=0.5": "memory 0.7 + guard 0.5"}
    guarded = {"generate": "neither"} | {f"generate rhythm_memory={k}": v for k, v in pairs.items()}
    guarded |= {"generate rhythm_guard=0": "guard 0 alone", "truth": "truth"}
    rows = (*_ROWS[:3], "motif_reuse")
    return f"{musicality_table(memory, columns, rows)}\n\n{musicality_table(both, guarded, rows)}"


def rhythm_final_block() -> str:
    """Each path with the defaults (memory 0.5, guard 0.2) and the variants; the goals of
    the defaults; the cost a note."""
    result = _json("rhythm-final.json")
    columns: dict[str, str] = {}
    for path in ("generate", "live"):
        columns[path] = f"{path}: memory 0.5 + guard 0.2"
        columns |= {f"{path} {spec}": f"{path}: {label}" for spec, label in _FINAL.items()}
    columns |= {"truth": "truth", "model-raw": "model-raw"}
    table = musicality_table(result, columns, _ROWS)
    goals = musicality_goals_table(result, ("generate", "live"))
    cost = _json("rhythm-cost.json")
    lines = ["| per answer note (µs, CPU time) | p50 | p99 | mean |", "| --- |" + " ---: |" * 3]
    for name, row in cost.items():
        if isinstance(row, dict):
            lines.append(
                f"| {name} | {row['p50_us']:.1f} | {row['p99_us']:.1f} | {row['mean_us']:.1f} |"
            )
    notes = next(r["notes"] for r in cost.values() if isinstance(r, dict))
    lines += ["", f"{notes:,} notes an arm, load average {cost['loadavg_1min']:.2f}."]
    return f"{table}\n\nAgainst the goals, with the defaults:\n\n{goals}\n\n" + "\n".join(lines)
