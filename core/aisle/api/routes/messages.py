"""Messages: the email and SMS a studio's journeys captured (not sent) or sent.

A message is ``captured`` when the deployment has no provider for its channel (no SMTP
host, no SMS account) and ``AISLE_CAPTURE_MESSAGES`` keeps it instead of failing: it
is stored exactly as it would have been sent and never left the machine. ``sent``
messages were accepted by the provider. Any role may read them, as it may read the
contacts they were rendered for.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec
from litestar import Controller, get
from litestar.params import FromPath, FromQuery

from aisle.api.deps import Call
from aisle.api.pages import Cursor, Limit, QueryId, page_of
from aisle.storage.messages import Message, MessageStatus

__all__ = ["MessageController"]

Channel = Literal["email", "sms"]

_NOTES = {
    "captured": "captured, not sent: no provider is configured for this channel "
    "(AISLE_CAPTURE_MESSAGES); nobody received it",
    "sent": "sent: the provider accepted it",
}


class MessageSummary(msgspec.Struct, kw_only=True):
    id: str
    channel: str
    """``email`` or ``sms`` (or another messaging executor's channel)."""
    status: MessageStatus
    """``captured``: kept instead of sent, nobody received it; ``sent``: accepted by
    the provider."""
    note: str
    """What ``status`` means, in words."""
    to: list[str]
    sender: str | None
    subject: str
    """Empty for SMS."""
    created_at: datetime
    action_run_id: str
    contact_id: str | None
    enrollment_id: str | None
    journey_id: str | None
    step_id: str | None


class MessageOut(MessageSummary, kw_only=True):
    text: str
    """The text part (for HTML-only mail, generated from the HTML); an SMS's body."""
    html: str
    """The HTML part, as rendered (empty for SMS and text-only mail)."""
    detail: dict[str, Any]
    """Channel specifics: cc, bcc, reply_to and the Message-ID of mail; an SMS's length."""


class MessagePage(msgspec.Struct, kw_only=True):
    items: list[MessageSummary]
    next_cursor: str | None


def _summary_fields(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "channel": message.channel,
        "status": message.status,
        "note": _NOTES.get(message.status, ""),
        "to": message.to,
        "sender": message.sender,
        "subject": message.subject,
        "created_at": message.created_at,
        "action_run_id": message.action_run_id,
        "contact_id": message.contact_id,
        "enrollment_id": message.enrollment_id,
        "journey_id": message.journey_id,
        "step_id": message.step_id,
    }


class MessageController(Controller):
    path = "/messages"
    tags = ["messages"]

    @get("/", summary="List captured and sent messages (newest first)")
    async def list_messages(
        self,
        call: Call,
        limit: Limit = 50,
        cursor: Cursor = None,
        contact_id: QueryId = None,
        journey_id: QueryId = None,
        action_run_id: QueryId = None,
        channel: FromQuery[Channel | None] = None,
        status: FromQuery[MessageStatus | None] = None,
    ) -> MessagePage:
        found = await call.scope.messages.list(
            contact_id=contact_id,
            journey_id=journey_id,
            action_run_id=action_run_id,
            channel=channel,
            status=status,
            limit=limit + 1,
            before=cursor,
        )
        page, next_cursor = page_of(found, limit, lambda m: m.id)
        return MessagePage(
            items=[MessageSummary(**_summary_fields(m)) for m in page], next_cursor=next_cursor
        )

    @get("/{message_id:str}", summary="Read a message, rendered (text and HTML)")
    async def get_message(self, call: Call, message_id: FromPath[str]) -> MessageOut:
        message = await call.scope.messages.get(message_id)
        return MessageOut(
            **_summary_fields(message),
            text=message.text,
            html=message.html,
            detail=message.detail,
        )
