"""Node locks: who may edit (or is viewing) a step on the canvas, and until when."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

__all__ = ["LockMode", "NodeLock"]

LockMode = Literal["edit", "view"]


class NodeLock(msgspec.Struct, frozen=True, kw_only=True):
    """A lease on one node. ``fencing_token`` grows with every grant on that node, so
    a write carrying an older token (a holder whose lease lapsed) can be refused."""

    id: str
    organization_id: str
    journey_id: str
    node_id: str
    holder: str
    mode: LockMode = "edit"
    fencing_token: int = 0
    holder_name: str = ""
    acquired_at: datetime | None = None
    expires_at: datetime | None = None
