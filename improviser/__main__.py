"""``python -m improviser`` runs the command line."""

from improviser.cli import main

main()
