"""Drop ``node_locks`` (m0001): collaboration's locks live in ``collab_locks`` (m0002).

The old table kept no fencing counter of its own (a new token was read from the
highest live row, so a token could repeat after a sweep) and nothing reads or writes it
any more. Its rows were short leases, so nothing of value is lost with it.
``presence_sessions`` (m0001) stays: it is the presence table in use.
"""

from __future__ import annotations

__all__ = ["statements"]


def statements(dialect: str) -> list[str]:
    del dialect  # the same DDL on SQLite and PostgreSQL
    # Dropping the table drops its index (ix_node_locks_expiry) with it on both.
    return ["DROP TABLE IF EXISTS node_locks"]
