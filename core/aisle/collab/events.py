"""The messages of a journey's live stream, as JSON objects tagged by ``type``.

Canvas clients (WebSocket) and the dashboard (SSE) receive the same messages:

- ``hello`` — first message after connecting: the draft revision, live sessions, locks;
- ``ops.applied`` — operations merged into the draft, with the revision they produced
  (apply them if you are at ``revision - 1``; refetch on a gap);
- ``flow.replaced`` — the whole draft was replaced: refetch the flow;
- ``conflict`` — someone's operations were refused as conflicts (kept as records);
- ``journey.published`` — a new version went live;
- ``presence.joined`` / ``presence.updated`` / ``presence.left``;
- ``lock.granted`` / ``lock.renewed`` / ``lock.released`` / ``lock.expired``;
- ``refetch`` — the server cannot replay what you missed: read the flow again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

from aisle.domain.presence import PresenceSession
from aisle.storage.collab_locks import Lock

__all__ = [
    "ConflictRaised",
    "FlowReplaced",
    "Hello",
    "JourneyPublished",
    "LiveEvent",
    "LockExpired",
    "LockGranted",
    "LockReleased",
    "LockRenewed",
    "OpsApplied",
    "PresenceJoined",
    "PresenceLeft",
    "PresenceUpdated",
    "Refetch",
    "decode_event",
    "encode_event",
]


class _Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    journey_id: str
    at: datetime


class Hello(_Event, tag="hello", frozen=True):
    """Sent once on connect, after the stream is subscribed (nothing can be missed
    between this message and the next)."""

    revision: int
    sessions: list[PresenceSession] = []
    locks: list[Lock] = []
    since: int | None = None
    """The revision the client said it had (``?since=``), echoed back."""


class Refetch(_Event, tag="refetch", frozen=True):
    """The client is too far behind (or ahead) to catch up from the op log."""

    revision: int
    reason: str


class OpsApplied(_Event, tag="ops.applied", frozen=True):
    """Operations merged into the draft; ``revision`` is the draft's after them.

    ``ops`` are the operations as ``POST …/flow/ops`` accepted them (op ids included,
    so a client recognises its own); ``changes`` the property changes they made.
    """

    revision: int
    ops: list[dict[str, Any]]
    changes: list[dict[str, Any]] = []
    actor: str = ""
    replayed: bool = False
    """True when the message is replayed from the op log to a reconnecting client."""


class FlowReplaced(_Event, tag="flow.replaced", frozen=True):
    """The draft was saved whole (``PUT …/flow``): read the flow again."""

    revision: int
    actor: str = ""


class ConflictRaised(_Event, tag="conflict", frozen=True):
    """Operations were refused because someone changed the same property first."""

    revision: int
    conflicts: list[dict[str, Any]]
    actor: str = ""


class JourneyPublished(_Event, tag="journey.published", frozen=True):
    version: int
    actor: str = ""
    source_version: int | None = None
    """Set when the version republishes an older one (a rollback)."""


class PresenceJoined(_Event, tag="presence.joined", frozen=True):
    session: PresenceSession


class PresenceUpdated(_Event, tag="presence.updated", frozen=True):
    """A heartbeat: where someone's cursor, viewport and selection are now."""

    session_id: str
    user_id: str
    color: str
    cursor: dict[str, Any] | None = None
    viewport: dict[str, Any] | None = None
    selection: list[str] = []


class PresenceLeft(_Event, tag="presence.left", frozen=True):
    session_id: str
    user_id: str
    reason: Literal["left", "timeout"] = "left"


class LockGranted(_Event, tag="lock.granted", frozen=True):
    locks: list[Lock]


class LockRenewed(_Event, tag="lock.renewed", frozen=True):
    locks: list[Lock]


class LockReleased(_Event, tag="lock.released", frozen=True):
    locks: list[Lock]
    forced_by: str | None = None
    """The admin who force-released the locks, when it was not their holder."""


class LockExpired(_Event, tag="lock.expired", frozen=True):
    locks: list[Lock]


LiveEvent = (
    Hello
    | Refetch
    | OpsApplied
    | FlowReplaced
    | ConflictRaised
    | JourneyPublished
    | PresenceJoined
    | PresenceUpdated
    | PresenceLeft
    | LockGranted
    | LockRenewed
    | LockReleased
    | LockExpired
)
"""Any message of the live stream."""

_encoder = msgspec.json.Encoder()
_decoder: msgspec.json.Decoder[LiveEvent] = msgspec.json.Decoder(LiveEvent)


def encode_event(event: LiveEvent) -> bytes:
    """The JSON form sent to clients."""
    return _encoder.encode(event)


def decode_event(data: bytes | str) -> LiveEvent:
    """Parse a stream message (clients written in Python, and the tests)."""
    return _decoder.decode(data)
