"""Built-in node types: the steps of a wedding client journey.

Actions: ``email``, ``sms``, ``vendor_action`` and ``client_action`` (to-dos),
``payment`` (a payment request), ``webhook``, ``crm_update``. Flow: ``decision``,
``wait``, ``end``. Action nodes request their action and stay; their outgoing edges
decide when the client moves on.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec

from aisle.builtins.due import Due, due_at
from aisle.builtins.recipients import Recipient, resolve
from aisle.builtins.triggers import Amount, Currency
from aisle.contracts.nodes import (
    ActionRequest,
    Advance,
    Complete,
    Fail,
    NodeContext,
    NodeOutcome,
    NodeType,
    Stay,
)

__all__ = [
    "CLIENT_ACTION",
    "CRM_UPDATE",
    "DECISION",
    "EMAIL",
    "END",
    "NODE_TYPES",
    "PAYMENT",
    "SMS",
    "VENDOR_ACTION",
    "WAIT",
    "WEBHOOK",
    "WEBHOOK_RESERVED_HEADERS",
    "ClientActionConfig",
    "CrmUpdateConfig",
    "DecisionConfig",
    "EmailConfig",
    "EndConfig",
    "PaymentConfig",
    "SmsConfig",
    "VendorActionConfig",
    "WaitConfig",
    "WebhookConfig",
    "webhook_header_problem",
]

_Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
_Text = Annotated[str, msgspec.Meta(max_length=20_000)]

VendorType = Literal[
    "photographer", "planner", "venue", "florist", "caterer", "videographer", "dj", "other"
]
Priority = Literal["low", "normal", "high", "critical"]


def _task(
    ctx: NodeContext,
    *,
    title: str,
    assignee: Literal["vendor", "client"],
    due: Due | None,
    required_approvals: int,
    details: dict[str, Any],
) -> ActionRequest:
    """A ``task`` action: what ``ActionServices.create_task`` needs, plus its details."""
    when = due_at(due, ctx.contact, ctx.now, ctx.studio_timezone)
    return ActionRequest(
        executor="task",
        config={
            "title": title,
            "assignee": assignee,
            "due_at": when.isoformat() if when else None,
            "required_approvals": required_approvals,
            "details": details,
        },
    )


# -- vendor_action --------------------------------------------------------------------


class VendorActionConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A to-do for a vendor (the photographer, planner, florist …)."""

    vendor_type: Annotated[VendorType, msgspec.Meta(description="Which vendor does it.")]
    title: _Title
    instructions: _Text = ""
    due: Due | None = None
    priority: Priority = "normal"


def _vendor_action(ctx: NodeContext) -> NodeOutcome:
    config: VendorActionConfig = ctx.config
    task = _task(
        ctx,
        title=config.title,
        assignee="vendor",
        due=config.due,
        required_approvals=1,
        details={
            "kind": "vendor_action",
            "vendor_type": config.vendor_type,
            "instructions": config.instructions,
            "priority": config.priority,
        },
    )
    return Stay(actions=[task])


VENDOR_ACTION = NodeType(
    name="vendor_action",
    label="Vendor to-do",
    description="Give a vendor a to-do with a due date; move on when it is done.",
    on_enter=_vendor_action,
    config=VendorActionConfig,
    icon="clipboard-check",
    category="task",
    context_fields=("vendor_type", "priority", "due"),
)


# -- client_action --------------------------------------------------------------------


class ClientActionConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A to-do for the couple; with ``partner_approval_required`` both must approve."""

    title: _Title
    instructions: _Text = ""
    form_id: Annotated[str, msgspec.Meta(description="The form the couple fills in.")] | None = None
    partner_approval_required: Annotated[
        bool, msgspec.Meta(description="Both partners must approve before it counts as done.")
    ] = False
    due: Due | None = None


def _client_action(ctx: NodeContext) -> NodeOutcome:
    config: ClientActionConfig = ctx.config
    task = _task(
        ctx,
        title=config.title,
        assignee="client",
        due=config.due,
        required_approvals=2 if config.partner_approval_required else 1,
        details={
            "kind": "client_action",
            "instructions": config.instructions,
            "form_id": config.form_id,
            "partner_approval_required": config.partner_approval_required,
        },
    )
    return Stay(actions=[task])


CLIENT_ACTION = NodeType(
    name="client_action",
    label="Couple to-do",
    description="Ask the couple to do something (fill a form, approve a proposal).",
    on_enter=_client_action,
    config=ClientActionConfig,
    icon="heart-handshake",
    category="task",
    context_fields=("partner_approval_required", "form_id", "due"),
)


# -- decision -------------------------------------------------------------------------


class DecisionConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A branch point: each outgoing ``condition`` edge is one branch."""

    question: str = ""


def _decision(ctx: NodeContext) -> NodeOutcome:
    if not ctx.outgoing:
        return Stay()  # the engine ends a step without edges as a dead end
    for edge in ctx.outgoing:
        if edge.trigger == "condition":
            expression = edge.config.get("expression")
            if isinstance(expression, str) and ctx.evaluate(expression):
                return Advance(edge_id=edge.id)
    for edge in ctx.outgoing:
        if edge.trigger == "otherwise" or edge.source_handle == "otherwise":
            return Advance(edge_id=edge.id)
    return Fail(
        reason=f"decision {ctx.node_id!r}: no condition matched and there is no 'otherwise' edge"
    )


DECISION = NodeType(
    name="decision",
    label="Decision",
    description=(
        "Follow the first branch (by priority) whose condition is true, else the "
        "'otherwise' branch."
    ),
    on_enter=_decision,
    config=DecisionConfig,
    icon="git-branch",
    category="logic",
    handles=("otherwise",),
    dynamic_handles=True,
)


# -- email ----------------------------------------------------------------------------


class EmailConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """An email; ``subject``/``text``/``html`` are templates, or name a ``template_id``."""

    to: Annotated[
        Recipient, msgspec.Meta(description="Both partners, one of them, or a vendor.")
    ] = "couple"
    subject: Annotated[str, msgspec.Meta(max_length=500)] = ""
    text: _Text = ""
    html: Annotated[str, msgspec.Meta(max_length=200_000)] = ""
    template_id: str | None = None
    vendor_email: str | None = None
    reply_to: str | None = None

    def __post_init__(self) -> None:
        if self.template_id is None and not (self.subject and (self.text or self.html)):
            raise ValueError("`subject` and `text` or `html` are required without a template_id")
        if self.to == "vendor" and not self.vendor_email:
            raise ValueError("`vendor_email` is required when sending to a vendor")


def _email(ctx: NodeContext) -> NodeOutcome:
    config: EmailConfig = ctx.config
    return Stay(
        actions=[
            ActionRequest(
                executor="email",
                config={
                    "to": config.to,
                    "recipients": resolve(ctx.contact, config.to, "email", config.vendor_email),
                    "vendor_email": config.vendor_email,
                    "subject": config.subject,
                    "text": config.text,
                    "html": config.html,
                    "template_id": config.template_id,
                    "reply_to": config.reply_to,
                },
            )
        ]
    )


EMAIL = NodeType(
    name="email",
    label="Send email",
    description="Email the couple, one partner or a vendor (templated with the wedding).",
    on_enter=_email,
    config=EmailConfig,
    icon="mail",
    category="message",
    context_fields=("to", "subject", "template_id"),
)


# -- sms ------------------------------------------------------------------------------


class SmsConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A text message; ``body`` is a template."""

    body: Annotated[str, msgspec.Meta(min_length=1, max_length=1600)]
    to: Recipient = "couple"
    vendor_phone: str | None = None

    def __post_init__(self) -> None:
        if self.to == "vendor" and not self.vendor_phone:
            raise ValueError("`vendor_phone` is required when texting a vendor")


def _sms(ctx: NodeContext) -> NodeOutcome:
    config: SmsConfig = ctx.config
    return Stay(
        actions=[
            ActionRequest(
                executor="sms",
                config={
                    "to": config.to,
                    "recipients": resolve(ctx.contact, config.to, "phone", config.vendor_phone),
                    "vendor_phone": config.vendor_phone,
                    "body": config.body,
                },
            )
        ]
    )


SMS = NodeType(
    name="sms",
    label="Send text message",
    description="Text the couple, one partner or a vendor.",
    on_enter=_sms,
    config=SmsConfig,
    icon="message-square",
    category="message",
    context_fields=("to",),
)


# -- payment --------------------------------------------------------------------------


class PaymentConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Ask the couple to pay ``amount`` ``currency`` (a deposit, an instalment …)."""

    amount: Amount
    currency: Currency
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] = "deposit"
    due: Due | None = None


def _payment(ctx: NodeContext) -> NodeOutcome:
    config: PaymentConfig = ctx.config
    task = _task(
        ctx,
        title=f"Pay {config.description} {config.amount} {config.currency}",
        assignee="client",
        due=config.due,
        required_approvals=1,
        details={
            "kind": "payment",
            "amount": config.amount,
            "currency": config.currency,
            "description": config.description,
        },
    )
    return Stay(actions=[task])


PAYMENT = NodeType(
    name="payment",
    label="Request payment",
    description="Ask the couple for a payment; move on when it is received.",
    on_enter=_payment,
    config=PaymentConfig,
    icon="credit-card",
    category="task",
    context_fields=("amount", "currency", "due"),
)


# -- webhook / crm_update -------------------------------------------------------------


_HeaderName = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$", description="A header name.")
]
_HeaderValue = Annotated[str, msgspec.Meta(max_length=1000, pattern=r"^[^\r\n]*$")]

WEBHOOK_RESERVED_HEADERS = frozenset(
    {"webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "content-length"}
    | {"host", "user-agent", "transfer-encoding", "connection"}
)
"""Headers the webhook executor sets itself (signing, framing)."""

_CREDENTIAL_HEADER = re.compile(
    r"(^|-)(authorization|cookie|auth|token|secret|password|passwd|api-?key|key|signature|"
    r"credentials?|session)(-|$)",
    re.IGNORECASE,
)


def webhook_header_problem(name: str) -> str | None:
    """Why a webhook step may not set header ``name`` (``None``: it may).

    A journey's config is stored in clear, versioned for ever, exported and shown to
    every viewer by ``GET /flow``, so a header that carries a credential does not
    belong there: the receiver authenticates Aisle by the Standard Webhooks signature
    made with the studio's secret instead.
    """
    lowered = name.lower()
    if lowered in WEBHOOK_RESERVED_HEADERS:
        return f"{name!r} is set by Aisle itself (signing and framing headers)"
    if _CREDENTIAL_HEADER.search(lowered):
        return (
            f"{name!r} looks like a credential, and step config is stored and shown in "
            "clear; receivers verify the webhook-signature made with the studio's "
            "webhook secret (PATCH /api/v1/settings) instead"
        )
    return None


class WebhookConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """POST a signed JSON event to ``url``.

    The request is signed (Standard Webhooks) with the studio's webhook secret, or the
    operator's ``AISLE_WEBHOOK_SECRET``; a step has no secret of its own, and
    ``headers`` may not carry credentials (see :func:`webhook_header_problem`).
    """

    url: Annotated[str, msgspec.Meta(pattern=r"^https?://\S+$", max_length=2000)]
    event: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] = "journey.step"
    payload: dict[str, Any] = {}
    include_contact: Annotated[
        bool, msgspec.Meta(description="Send the contact's details in the payload.")
    ] = True
    headers: Annotated[dict[_HeaderName, _HeaderValue], msgspec.Meta(max_length=20)] = {}
    timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=50)] = 10.0

    def __post_init__(self) -> None:
        for name in self.headers:
            problem = webhook_header_problem(name)
            if problem is not None:
                raise ValueError(f"`headers`: {problem}")


def _webhook(ctx: NodeContext) -> NodeOutcome:
    config: WebhookConfig = ctx.config
    return Stay(
        actions=[
            ActionRequest(
                executor="webhook",
                config={
                    "url": config.url,
                    "event": config.event,
                    "payload": config.payload,
                    "include_contact": config.include_contact,
                    "headers": dict(config.headers),
                    "timeout_seconds": config.timeout_seconds,
                },
            )
        ]
    )


WEBHOOK = NodeType(
    name="webhook",
    label="Call webhook",
    description="Send a signed webhook (Standard Webhooks) to another system.",
    on_enter=_webhook,
    config=WebhookConfig,
    icon="webhook",
    category="integration",
)


class CrmUpdateConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Write fields to the contact's record in the studio's CRM.

    ``kind`` is the CRM record kind written (``contacts``; a Zapier bridge also takes
    ``projects``): one of the provider's ``push_kinds``."""

    fields: Annotated[dict[str, str], msgspec.Meta(min_length=1)]
    provider: str | None = None
    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "contacts"


def _crm_update(ctx: NodeContext) -> NodeOutcome:
    config: CrmUpdateConfig = ctx.config
    return Stay(
        actions=[
            ActionRequest(
                executor="crm_update",
                config={
                    "provider": config.provider,
                    "fields": dict(config.fields),
                    "kind": config.kind,
                },
            )
        ]
    )


CRM_UPDATE = NodeType(
    name="crm_update",
    label="Update CRM",
    description="Push field changes to the contact's CRM record.",
    on_enter=_crm_update,
    config=CrmUpdateConfig,
    icon="database",
    category="integration",
)


# -- wait / end -----------------------------------------------------------------------


class WaitConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A pause; its outgoing edges (a delay, a date, an event) say until when."""

    note: str = ""


def _wait(ctx: NodeContext) -> NodeOutcome:
    return Stay()


WAIT = NodeType(
    name="wait",
    label="Wait",
    description="Pause until an outgoing edge fires: a delay, a date or an event.",
    on_enter=_wait,
    config=WaitConfig,
    icon="timer",
    category="flow",
)


class EndConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The end of the journey; ``outcome`` labels how it ended (``booked``, ``lost``)."""

    outcome: Annotated[
        str,
        msgspec.Meta(
            pattern=r"^[a-z][a-z0-9_]{0,62}$",
            description="How the journey ended, in lowercase snake_case (booked, lost).",
        ),
    ] = "completed"


def _end(ctx: NodeContext) -> NodeOutcome:
    config: EndConfig = ctx.config
    return Complete(outcome=config.outcome)


END = NodeType(
    name="end",
    label="End",
    description="Finish the journey for this client.",
    on_enter=_end,
    config=EndConfig,
    icon="flag",
    category="flow",
    terminal=True,
    context_fields=("outcome",),
)


NODE_TYPES: list[NodeType] = [
    VENDOR_ACTION,
    CLIENT_ACTION,
    DECISION,
    EMAIL,
    SMS,
    PAYMENT,
    WAIT,
    END,
    WEBHOOK,
    CRM_UPDATE,
]
