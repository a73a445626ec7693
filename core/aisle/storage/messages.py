"""Messages of one organization: what its email and SMS runs captured or sent.

Backs ``ActionServices.record_message`` (idempotent per action run and key) and the
Messages API. A captured message was kept instead of sent because the deployment has
no provider for its channel (``AISLE_CAPTURE_MESSAGES``); a sent one was accepted by
the provider.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec
from piccolo.columns import JSON, Text, Timestamptz
from piccolo.table import Table

from aisle.storage.database import register_tables
from aisle.storage.errors import NotFound
from aisle.storage.ids import new_id
from aisle.storage.rows import dump, from_row
from aisle.storage.scoped import Scoped

__all__ = ["Message", "MessageRepository", "MessageStatus", "MessageTable"]

MessageStatus = Literal["captured", "sent"]


class MessageTable(Table, tablename="messages"):
    id = Text(primary_key=True)
    organization_id = Text()
    channel = Text()
    status = Text()
    executor = Text()
    action_run_id = Text()
    key = Text()
    contact_id = Text(null=True, default=None)
    enrollment_id = Text(null=True, default=None)
    journey_id = Text(null=True, default=None)
    step_id = Text(null=True, default=None)
    recipients = JSON()
    sender = Text(null=True, default=None)
    subject = Text()
    text = Text()
    html = Text()
    detail = JSON()
    created_at = Timestamptz(default=None)


register_tables(MessageTable)

T = MessageTable


class Message(msgspec.Struct, frozen=True, kw_only=True):
    """A stored message, with the run and journey step it came from."""

    id: str
    channel: str
    status: MessageStatus
    executor: str
    action_run_id: str
    key: str
    to: list[str]
    sender: str | None
    subject: str
    text: str
    html: str
    detail: dict[str, Any]
    created_at: datetime
    contact_id: str | None = None
    enrollment_id: str | None = None
    journey_id: str | None = None
    step_id: str | None = None


def _message(row: dict[str, Any]) -> Message:
    return from_row(Message, T, row, rename={"recipients": "to"})


class MessageRepository(Scoped):
    table = T
    kind = "message"

    async def record(
        self,
        *,
        channel: str,
        status: MessageStatus,
        to: list[str],
        key: str = "main",
        sender: str | None = None,
        subject: str = "",
        text: str = "",
        html: str = "",
        detail: dict[str, Any] | None = None,
        executor: str,
        action_run_id: str,
        contact_id: str | None = None,
        enrollment_id: str | None = None,
        journey_id: str | None = None,
        step_id: str | None = None,
    ) -> tuple[Message, bool]:
        """Store a message; a repeat for the same run and ``key`` returns the first one
        (``False``: it was already there)."""
        rows = await (
            T.insert(
                self._row(
                    id=new_id(),
                    channel=channel,
                    status=status,
                    executor=executor,
                    action_run_id=action_run_id,
                    key=key,
                    contact_id=contact_id,
                    enrollment_id=enrollment_id,
                    journey_id=journey_id,
                    step_id=step_id,
                    recipients=dump(to),
                    sender=sender,
                    subject=subject,
                    text=text,
                    html=html,
                    detail=dump(detail or {}),
                    created_at=self.clock.now(),
                )
            )
            .on_conflict(target=(T.organization_id, T.action_run_id, T.key), action="DO NOTHING")
            .returning(*T.all_columns())
        )
        if rows:
            return _message(rows[0]), True
        row = await self._first(T.action_run_id == action_run_id, T.key == key)
        assert row is not None
        return _message(row), False

    async def get(self, message_id: str) -> Message:
        row = await self._first(T.id == message_id)
        if row is None:
            raise NotFound("message", message_id)
        return _message(row)

    async def list(
        self,
        *,
        contact_id: str | None = None,
        journey_id: str | None = None,
        channel: str | None = None,
        status: str | None = None,
        action_run_id: str | None = None,
        limit: int = 50,
        before: str | None = None,
    ) -> list[Message]:
        """Newest first; ``before`` is the id of the last message of the previous page."""
        rows = (
            await self._select(
                T.contact_id == contact_id if contact_id else None,
                T.journey_id == journey_id if journey_id else None,
                T.channel == channel if channel else None,
                T.status == status if status else None,
                T.action_run_id == action_run_id if action_run_id else None,
                T.id < before if before else None,
            )
            .order_by(T.id, ascending=False)
            .limit(limit)
        )
        return [_message(r) for r in rows]
