"""The collaboration services for one API call: the caller's organization, as the caller."""

from __future__ import annotations

from aisle.api.context import ApiCall
from aisle.collab import Collaboration, JourneyStream, LockService, PresenceService
from aisle.services.errors import Refused

__all__ = ["collaboration", "locks_for", "presence_for", "stream_for"]


def collaboration(call: ApiCall) -> Collaboration:
    """The process's collaboration (503 if app start-up did not build it)."""
    collab = call.ctx.collab
    if collab is None:
        raise Refused(503, "collaboration is not running in this process")
    return collab


def locks_for(call: ApiCall) -> LockService:
    return LockService(collaboration(call), call.scope, call.caller)


def presence_for(call: ApiCall) -> PresenceService:
    return PresenceService(collaboration(call), call.scope, call.caller)


def stream_for(call: ApiCall) -> JourneyStream:
    return JourneyStream(collaboration(call), call.scope, call.caller)
