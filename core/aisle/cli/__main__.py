"""``python -m aisle.cli``: the same as the ``aisle`` command."""

from aisle.cli.main import main

main()
