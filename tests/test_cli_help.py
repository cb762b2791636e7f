"""Every command's help reads as written: rich takes ``[word]`` for markup and drops it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import typer

from improviser.cli.main import app

# What rich would read as a style tag: "[answer]", "[bench]", "[/]" (an escaped "\[" is kept).
MARKUP = re.compile(r"(?<!\\)\[/?[a-zA-Z][\w .=-]*\]")


def _texts(command: Any, path: str) -> Iterator[tuple[str, str]]:
    yield path, command.help or ""
    for param in command.params:
        yield f"{path} {param.name}", getattr(param, "help", None) or ""
    for name, sub in getattr(command, "commands", {}).items():
        yield from _texts(sub, f"{path} {name}")


def test_no_help_text_loses_a_bracketed_word_to_markup() -> None:
    root = typer.main.get_command(app)
    texts = list(_texts(root, "improviser"))
    assert len(texts) > 100  # every command and option was walked
    lost = [f"{where}: {MARKUP.search(text)[0]}" for where, text in texts if MARKUP.search(text)]
    assert not lost, lost
