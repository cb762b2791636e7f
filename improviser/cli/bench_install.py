"""``improviser bench install``: the installed size of each extra set, in fresh venvs."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from improviser.cli.report import report

__all__ = ["add_commands", "install_cmd", "print_install"]


def install_cmd(
    extra: Annotated[
        list[str] | None,
        typer.Option(
            "--extra",
            help="Extra set to install, 'base' for none (repeatable; default: base, train, dev).",
        ),
    ] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the wheel and venvs (their folder is printed).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Build the wheel of this tree, install it with each extra set in a fresh venv and
    measure each venv on disk and its largest distributions."""
    from improviser.bench.install_size import DEFAULT_EXTRAS, bench_install  # noqa: PLC0415
    from improviser.cli.progress import count_progress  # noqa: PLC0415

    with count_progress("wheel, then each venv: install, measure") as progress:
        result = bench_install(tuple(extra or DEFAULT_EXTRAS), keep=keep, progress=progress)
    if result["kept"]:
        typer.echo(f"kept the wheel and venvs in {result['kept']}", err=True)
    if as_json:
        print(json.dumps(result, indent=2))
        return
    print_install(result)


def print_install(result: dict[str, Any]) -> None:
    """The table of ``bench install``."""
    from improviser.bench.install_table import largest_parts, mb, part_text  # noqa: PLC0415

    load = result["load"]["start"][0]
    table = Table(
        title=f"installed sizes, Python {result['python']}, pip {result['pip']}, "
        f"{result['machine']}, load {load:.2f}"
    )
    for col in ("venv", "du", "distributions", "not in a RECORD", "largest parts"):
        table.add_column(col, justify="right" if col not in ("venv", "largest parts") else "left")
    before = None
    for extra, venv in result["venvs"].items():
        adds, parts = largest_parts(venv, before)
        named = ("+ " if adds else "") + ", ".join(part_text(p) for p in parts)
        table.add_row(
            extra,
            mb(venv["bytes"]),
            str(len(venv["distributions"])),
            mb(venv["unlisted_bytes"]),
            named,
        )
        before = venv
    report().print(table)


def add_commands(app: typer.Typer) -> None:
    """Add ``install`` to the ``bench`` app."""
    app.command("install")(install_cmd)
