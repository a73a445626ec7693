"""Real-time collaboration: node and edge locks with fencing tokens, presence, live stream.

- :class:`Collaboration` — what one process holds: :class:`LockService`,
  :class:`PresenceService` and the :class:`LiveHub`;
- :mod:`aisle.collab.events` — the live stream's messages;
- :func:`sweep` — the scheduler's periodic expiry of leases and silent sessions.

The atomic lock and presence rules live in :mod:`aisle.storage.collab_locks` and
:mod:`aisle.storage.collab_presence`; the HTTP and WebSocket surface in
:mod:`aisle.api.collab`.
"""

from aisle.collab.config import CollabConfig
from aisle.collab.events import LiveEvent, decode_event, encode_event
from aisle.collab.hub import HubUnavailable, LiveHub, Subscription, channel_for
from aisle.collab.locks import Holder, LockService
from aisle.collab.presence import PresenceService
from aisle.collab.service import Collaboration, SweepReport, flow_log_events, sweep
from aisle.storage.collab_locks import (
    Acquired,
    FenceRefused,
    Lock,
    LockConflict,
    LockMode,
    LockNotHeld,
    LockTarget,
    Refusal,
    Renewed,
)

__all__ = [
    "Acquired",
    "CollabConfig",
    "Collaboration",
    "FenceRefused",
    "Holder",
    "HubUnavailable",
    "LiveEvent",
    "LiveHub",
    "Lock",
    "LockConflict",
    "LockMode",
    "LockNotHeld",
    "LockService",
    "LockTarget",
    "PresenceService",
    "Refusal",
    "Renewed",
    "Subscription",
    "SweepReport",
    "channel_for",
    "decode_event",
    "encode_event",
    "flow_log_events",
    "sweep",
]
