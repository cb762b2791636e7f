"""Where tables and results are printed: standard output, wide enough when redirected."""

from __future__ import annotations

import os
import sys

from rich.console import Console

__all__ = ["report"]

PIPE_WIDTH = 200
"""Columns of a table written to a file or a pipe (a log, ``| tee``): Rich's 80 would
squeeze a wide benchmark table into empty columns."""


def report() -> Console:
    """A console on standard output; 200 columns when it is not a terminal and
    ``COLUMNS`` does not say how wide to be."""
    chosen = sys.stdout.isatty() or "COLUMNS" in os.environ
    return Console(width=None if chosen else PIPE_WIDTH)
