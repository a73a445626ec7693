"""Schema migrations: forward-only modules named ``m<NNNN>_<what>.py``, applied in order.

Each module defines ``statements(dialect) -> list[str]`` (``dialect`` is ``sqlite`` or
``postgres``). The runner in :mod:`aisle.storage.migrate` discovers every module here,
applies the ones the database has not recorded, and records each in
``aisle_migrations`` within the same transaction as its DDL.

To add tables (any area, e.g. collaboration), add the next-numbered module here, add
matching piccolo ``Table`` classes, and never edit a migration that has shipped.
"""
