"""Real-time collaboration: node and edge locks with fencing tokens, presence, live stream.

- :class:`Collaboration` — what one process holds: the store, the :class:`LiveHub`
  and the :class:`PresenceBoard` (heartbeat throttling);
- the services every entry point calls, for one organization (an ``OrgScope``) and
  one acting user: :class:`LockService`, :class:`PresenceService`,
  :class:`JourneyStream` (the live stream of a journey) and :class:`CanvasLink` (what
  the canvas service asks of collaboration: fences, announcements, lock annotations).
  They check roles, own their transactions and refuse with ``Refused``;
- :mod:`aisle.collab.events` — the live stream's messages;
- :func:`sweep` — the scheduler's periodic expiry of leases and silent sessions.

The atomic lock and presence rules live in :mod:`aisle.storage.collab_locks` and
:mod:`aisle.storage.collab_presence`; parsing and answering HTTP and WebSocket
requests in :mod:`aisle.api.collab`.
"""

from aisle.collab.canvas_link import CanvasLink
from aisle.collab.config import CollabConfig
from aisle.collab.events import LiveEvent, decode_event, encode_event
from aisle.collab.holders import Holder, Participant, holder_id
from aisle.collab.hub import HubUnavailable, LiveHub, Subscription, channel_for
from aisle.collab.locks import LockService
from aisle.collab.presence import PresenceService
from aisle.collab.presence_board import PresenceBoard
from aisle.collab.service import Collaboration, SweepReport, flow_log_events, sweep
from aisle.collab.stream import JourneyStream
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
    "CanvasLink",
    "CollabConfig",
    "Collaboration",
    "FenceRefused",
    "Holder",
    "HubUnavailable",
    "JourneyStream",
    "LiveEvent",
    "LiveHub",
    "Lock",
    "LockConflict",
    "LockMode",
    "LockNotHeld",
    "LockService",
    "LockTarget",
    "Participant",
    "PresenceBoard",
    "PresenceService",
    "Refusal",
    "Renewed",
    "Subscription",
    "SweepReport",
    "channel_for",
    "decode_event",
    "encode_event",
    "flow_log_events",
    "holder_id",
    "sweep",
]
