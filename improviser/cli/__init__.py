"""The command line (typer): every face of the package, and its one error boundary."""

from improviser.cli.main import app, main

__all__ = ["app", "main"]
