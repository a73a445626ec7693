"""Collaboration settings: lease lengths, presence timeout and heartbeat throttling.

Read from the ``AISLE_*`` environment captured in :class:`aisle.settings.Settings`:

=====================================  =======  ==========================================
``AISLE_LOCK_EDIT_LEASE_SECONDS``      ``300``  an edit lock's lease (renew before it ends)
``AISLE_LOCK_VIEW_LEASE_SECONDS``      ``30``   a view lock's lease
``AISLE_PRESENCE_TIMEOUT_SECONDS``     ``30``   a session without heartbeats ends
``AISLE_PRESENCE_BROADCAST_MS``        ``50``   at most one cursor message per session per
                                                interval (the latest always goes out)
``AISLE_PRESENCE_PERSIST_SECONDS``     ``5``    heartbeats reach the database at most this
                                                often per session (selection changes at once)
=====================================  =======  ==========================================
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import msgspec

from aisle.env import env_number

__all__ = ["CollabConfig"]


class CollabConfig(msgspec.Struct, frozen=True, kw_only=True):
    edit_lease: timedelta = timedelta(minutes=5)
    view_lease: timedelta = timedelta(seconds=30)
    presence_timeout: timedelta = timedelta(seconds=30)
    broadcast_interval: timedelta = timedelta(milliseconds=50)
    persist_interval: timedelta = timedelta(seconds=5)

    def lease(self, mode: str) -> timedelta:
        """How long a lock of ``mode`` (``edit`` or ``view``) lasts unless renewed."""
        return self.edit_lease if mode == "edit" else self.view_lease

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> CollabConfig:
        return cls(
            edit_lease=timedelta(seconds=env_number(env, "AISLE_LOCK_EDIT_LEASE_SECONDS", 300.0)),
            view_lease=timedelta(seconds=env_number(env, "AISLE_LOCK_VIEW_LEASE_SECONDS", 30.0)),
            presence_timeout=timedelta(
                seconds=env_number(env, "AISLE_PRESENCE_TIMEOUT_SECONDS", 30.0)
            ),
            broadcast_interval=timedelta(
                milliseconds=env_number(
                    env, "AISLE_PRESENCE_BROADCAST_MS", 50.0, bound="non-negative"
                )
            ),
            persist_interval=timedelta(
                seconds=env_number(env, "AISLE_PRESENCE_PERSIST_SECONDS", 5.0, bound="non-negative")
            ),
        )
