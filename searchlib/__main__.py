"""``python -m searchlib`` runs the command line."""

from .cli import main

main()
