"""A journey as stored: its editable draft and its immutable published versions."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from aisle.domain.journey import Graph

__all__ = ["Journey", "JourneyStatus", "JourneyVersion"]

JourneyStatus = Literal["draft", "live", "paused"]
"""``draft``: never published; ``live``: new clients enter ``live_version``;
``paused``: published, but nobody new enters (enrolled clients carry on)."""


class Journey(msgspec.Struct, frozen=True, kw_only=True):
    """A journey: the draft graph (edited, with a revision counter) and which version is live.

    ``revision`` grows by one on every saved draft change; the API uses it as the ETag.
    """

    id: str
    organization_id: str
    name: str
    description: str = ""
    status: JourneyStatus = "draft"
    draft: Graph = Graph()
    revision: int = 0
    live_version: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None


class JourneyVersion(msgspec.Struct, frozen=True, kw_only=True):
    """A frozen, published graph. Enrollments stay on the version they started on.

    ``source_version`` is set when this version republishes an older one (rollback).
    """

    id: str
    organization_id: str
    journey_id: str
    version: int
    graph: Graph
    published_at: datetime
    published_by: str | None = None
    note: str = ""
    source_version: int | None = None
