"""``python -m improviser.live live|ports|demo``: the live commands on their own.

The same commands are part of the ``improviser`` CLI; this entry point runs them without
it (and is what the subprocess tests start). A user's error is one line and exit code 2.
"""

from __future__ import annotations

import sys

import typer

from improviser.errors import ImproviserError
from improviser.live.cli import register

app = typer.Typer(add_completion=False, no_args_is_help=True)
register(app)


def main() -> None:
    """Run the app; an :class:`ImproviserError` becomes one line on stderr and exit 2."""
    try:
        app(standalone_mode=False)
    except ImproviserError as exc:
        print(f"improviser: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
