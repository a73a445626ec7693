"""Persistence: piccolo tables, migrations and organization-scoped data access.

Start with :class:`Store` (``await Store.open(settings)``), then
``store.for_org(org_id)`` for one organization's repositories. ``aisle migrate`` calls
:func:`migrate`.
"""

from aisle.storage.database import Database, connect, register_tables
from aisle.storage.errors import Conflict, NotFound, RevisionConflict, StorageError
from aisle.storage.ids import new_id
from aisle.storage.migrate import MigrationError, migrate, run_migrations
from aisle.storage.store import OrgScope, Store

__all__ = [
    "Conflict",
    "Database",
    "MigrationError",
    "NotFound",
    "OrgScope",
    "RevisionConflict",
    "StorageError",
    "Store",
    "connect",
    "migrate",
    "new_id",
    "register_tables",
    "run_migrations",
]
