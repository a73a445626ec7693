"""The ``aisle`` command line."""
