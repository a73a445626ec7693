"""Built-in trigger types: when an enrollment moves along an edge.

Time-based: ``immediate``, ``time_delay``, ``date_reached``. Event-based:
``form_submission``, ``payment_received``, ``task_completed``, ``manual``. Logic:
``condition`` (CEL, on entry and on every event) and ``otherwise`` (a decision's
fallback branch). Every evaluator is pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

import msgspec

from aisle.builtins.due import HHMM
from aisle.contracts.cel import CelExpression
from aisle.contracts.registrations import EmptyConfig
from aisle.contracts.triggers import (
    ANY_EVENT,
    Fire,
    FireAt,
    NotYet,
    TriggerContext,
    TriggerDecision,
    TriggerType,
)
from aisle.engine.timing import (
    LocalTimeError,
    date_field,
    is_zone,
    local_to_utc,
    parse_date,
    parse_hhmm,
    resolve_zone,
)

__all__ = [
    "CONDITION",
    "DATE_REACHED",
    "FORM_SUBMISSION",
    "IMMEDIATE",
    "MANUAL",
    "OTHERWISE",
    "PAYMENT_RECEIVED",
    "TASK_COMPLETED",
    "TIME_DELAY",
    "TRIGGER_TYPES",
    "ConditionConfig",
    "DateReachedConfig",
    "FormSubmissionConfig",
    "ManualConfig",
    "PaymentReceivedConfig",
    "TaskCompletedConfig",
    "TimeDelayConfig",
]

DECIMAL_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,4})?$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
Amount = Annotated[
    str, msgspec.Meta(pattern=DECIMAL_PATTERN, description="A decimal amount, e.g. 500.00.")
]
Currency = Annotated[
    str, msgspec.Meta(pattern=CURRENCY_PATTERN, description="ISO 4217 code, e.g. EUR.")
]
_NonNegative = Annotated[int, msgspec.Meta(ge=0, le=3650 * 24 * 60)]


def _filter_passes(ctx: TriggerContext, expression: str | None) -> bool:
    return expression is None or ctx.evaluate(expression)


def _same_enrollment(ctx: TriggerContext, payload: Mapping[str, Any]) -> bool:
    """An event aimed at one enrollment (``payload.enrollment_id``) moves only that one."""
    target = payload.get("enrollment_id")
    return not target or not ctx.enrollment_id or target == ctx.enrollment_id


# -- immediate ------------------------------------------------------------------------


def _immediate(ctx: TriggerContext) -> TriggerDecision:
    return Fire()


IMMEDIATE = TriggerType(
    name="immediate",
    label="Immediately",
    description="Move on as soon as the step has run (the default edge).",
    evaluate=_immediate,
    icon="zap",
)


# -- time_delay -----------------------------------------------------------------------


class TimeDelayConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Wait a fixed duration after entering the step (a day is 24 hours)."""

    days: _NonNegative = 0
    hours: _NonNegative = 0
    minutes: _NonNegative = 0


def _time_delay(ctx: TriggerContext) -> TriggerDecision:
    config: TimeDelayConfig = ctx.config
    delay = timedelta(days=config.days, hours=config.hours, minutes=config.minutes)
    return FireAt(at=ctx.entered_at + delay)


TIME_DELAY = TriggerType(
    name="time_delay",
    label="After a delay",
    description="Move on a number of days, hours and minutes after entering the step.",
    evaluate=_time_delay,
    config=TimeDelayConfig,
    icon="hourglass",
    time_based=True,
)


# -- date_reached ---------------------------------------------------------------------

_DateField = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(wedding_date|custom\.[A-Za-z_][A-Za-z0-9_]*)$",
        description="wedding_date or custom.<field name>",
    ),
]


class DateReachedConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """N days/hours before (negative) or after a contact date, at a local time.

    ``zone`` is ``contact`` (the contact's timezone, else the studio's), ``studio`` or
    an IANA name. ``if_past`` decides when the moment has already passed by the time
    the client reaches the step (or a date change moved it into the past):
    ``fire_now`` moves on at once, ``skip`` never takes this edge.
    """

    field: _DateField = "wedding_date"
    days: Annotated[
        int, msgspec.Meta(ge=-3650, le=3650, description="Days from the date (negative: before).")
    ] = 0
    hours: Annotated[
        int, msgspec.Meta(ge=-240, le=240, description="Hours added to the local time.")
    ] = 0
    at: HHMM = "09:00"
    zone: Annotated[
        str,
        msgspec.Meta(
            description="contact (the couple's timezone, else the studio's), studio, "
            "or an IANA timezone such as Europe/London.",
            examples=["contact", "studio", "America/New_York"],
        ),
    ] = "contact"
    if_past: Annotated[
        Literal["fire_now", "skip"],
        msgspec.Meta(
            description="When the moment had already passed: move on at once, or never "
            "take this edge."
        ),
    ] = "fire_now"

    def __post_init__(self) -> None:
        if self.zone not in ("contact", "studio") and not is_zone(self.zone):
            raise ValueError(
                f"`zone` must be 'contact', 'studio' or an IANA timezone, not {self.zone!r}"
            )


def _date_reached(ctx: TriggerContext) -> TriggerDecision:
    config: DateReachedConfig = ctx.config
    try:
        zone = resolve_zone(config.zone, ctx.contact.get("timezone"), ctx.studio_timezone)
    except LocalTimeError as exc:
        return NotYet(reason=str(exc))
    raw = date_field(ctx.contact, config.field)
    name = config.field.replace("_", " ") if config.field == "wedding_date" else config.field
    if raw is None or raw == "":
        return NotYet(reason=f"no {name}")
    day = parse_date(raw, zone)
    if day is None:
        return NotYet(reason=f"{config.field} {raw!r} is not a date")
    target = local_to_utc(day, parse_hhmm(config.at), zone, days=config.days, hours=config.hours)
    reference = ctx.rescheduled_at or ctx.entered_at
    if target < reference:
        if config.if_past == "fire_now":
            return Fire()
        return NotYet(reason=f"{target.isoformat()} had already passed; if_past is skip")
    return FireAt(at=target)


DATE_REACHED = TriggerType(
    name="date_reached",
    label="Date reached",
    description=(
        "Move on at a local time some days or hours before or after the wedding date "
        "(or a custom date field), DST-correct, with a policy for dates already past."
    ),
    evaluate=_date_reached,
    config=DateReachedConfig,
    icon="calendar-clock",
    time_based=True,
)


# -- form_submission ------------------------------------------------------------------


class FormSubmissionConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A form was submitted (``form_id``: only that form; ``filter``: a CEL check)."""

    form_id: Annotated[str, msgspec.Meta(description="Only this form.")] | None = None
    filter: CelExpression | None = None


def _form_submission(ctx: TriggerContext) -> TriggerDecision:
    config: FormSubmissionConfig = ctx.config
    event = ctx.event
    if event is None or event.type != "form.submitted":
        return NotYet(reason="waiting for a form submission")
    got = event.payload.get("form_id")
    if config.form_id is not None and got != config.form_id:
        return NotYet(reason=f"form {got!r} is not {config.form_id!r}")
    if not _filter_passes(ctx, config.filter):
        return NotYet(reason="the filter is false")
    return Fire()


FORM_SUBMISSION = TriggerType(
    name="form_submission",
    label="Form submitted",
    description="Move on when the couple submits a form (optionally a given one).",
    evaluate=_form_submission,
    config=FormSubmissionConfig,
    event_types=frozenset({"form.submitted"}),
    icon="file-check",
)


# -- payment_received -----------------------------------------------------------------


class PaymentReceivedConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A payment arrived (at least ``min_amount``, in ``currency`` when given)."""

    min_amount: Amount | None = None
    currency: Currency | None = None
    filter: CelExpression | None = None


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _payment_received(ctx: TriggerContext) -> TriggerDecision:
    config: PaymentReceivedConfig = ctx.config
    event = ctx.event
    if event is None or event.type != "payment.received":
        return NotYet(reason="waiting for a payment")
    payload = event.payload
    if not _same_enrollment(ctx, payload):
        return NotYet(reason="the payment is for another enrollment")
    currency = str(payload.get("currency") or "").upper()
    if config.currency is not None and currency != config.currency:
        return NotYet(reason=f"currency {currency or 'missing'} is not {config.currency}")
    if config.min_amount is not None:
        amount = _decimal(payload.get("amount"))
        if amount is None:
            return NotYet(reason=f"amount {payload.get('amount')!r} is not a number")
        if amount < Decimal(config.min_amount):
            return NotYet(reason=f"amount {amount} is below {config.min_amount}")
    if not _filter_passes(ctx, config.filter):
        return NotYet(reason="the filter is false")
    return Fire()


PAYMENT_RECEIVED = TriggerType(
    name="payment_received",
    label="Payment received",
    description="Move on when a payment arrives, optionally at least an amount in a currency.",
    evaluate=_payment_received,
    config=PaymentReceivedConfig,
    event_types=frozenset({"payment.received"}),
    icon="badge-euro",
)


# -- task_completed -------------------------------------------------------------------


class TaskCompletedConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A to-do was completed.

    With no setting: the task created by the edge's source step (``payload.step_id``).
    With ``title``, ``kind`` or ``assignee``: any task matching all of those given.
    Either way, a task the source step created on an earlier visit (``payload.visit``,
    a loop came back to the step) does not count: the step's current task does.
    """

    title: Annotated[str, msgspec.Meta(description="Only a task with this title.")] | None = None
    kind: (
        Annotated[str, msgspec.Meta(description="Only a task of this kind (vendor_action, …).")]
        | None
    ) = None
    assignee: Literal["vendor", "client"] | None = None


def _task_completed(ctx: TriggerContext) -> TriggerDecision:
    config: TaskCompletedConfig = ctx.config
    event = ctx.event
    if event is None or event.type != "task.completed":
        return NotYet(reason="waiting for the task to be completed")
    payload = event.payload
    if not _same_enrollment(ctx, payload):
        return NotYet(reason="the task belongs to another enrollment")
    visit = payload.get("visit")
    if (
        ctx.visit
        and isinstance(visit, int)
        and payload.get("step_id") == ctx.step_id
        and visit != ctx.visit
    ):
        return NotYet(
            reason=f"the task is from visit {visit} of step {ctx.step_id!r}, "
            f"which is now on visit {ctx.visit}"
        )
    wanted = {"title": config.title, "kind": config.kind, "assignee": config.assignee}
    wanted = {k: v for k, v in wanted.items() if v is not None}
    if not wanted:
        if payload.get("step_id") != ctx.step_id:
            return NotYet(reason=f"the task is not the one step {ctx.step_id!r} created")
        return Fire()
    for key, value in wanted.items():
        if payload.get(key) != value:
            return NotYet(reason=f"task {key} {payload.get(key)!r} is not {value!r}")
    return Fire()


TASK_COMPLETED = TriggerType(
    name="task_completed",
    label="Task completed",
    description="Move on when the to-do this step created (or a named one) is done.",
    evaluate=_task_completed,
    config=TaskCompletedConfig,
    event_types=frozenset({"task.completed"}),
    icon="list-checks",
)


# -- manual ---------------------------------------------------------------------------


class ManualConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A person moves the client on by hand (``button``: the label the dashboard shows)."""

    button: str = ""


def _manual(ctx: TriggerContext) -> TriggerDecision:
    event = ctx.event
    if event is None or event.type != "manual.triggered":
        return NotYet(reason="waiting for someone to move the client on")
    payload = event.payload
    if not _same_enrollment(ctx, payload):
        return NotYet(reason="aimed at another enrollment")
    if payload.get("edge_id") == ctx.edge_id:
        return Fire()
    if not payload.get("edge_id") and payload.get("step_id") == ctx.step_id:
        return Fire()
    return NotYet(reason="aimed at another edge or step")


MANUAL = TriggerType(
    name="manual",
    label="Manually",
    description="Move on when an admin triggers this edge (or its step) by hand.",
    evaluate=_manual,
    config=ManualConfig,
    event_types=frozenset({"manual.triggered"}),
    icon="hand",
)


# -- condition / otherwise ------------------------------------------------------------


class ConditionConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A CEL expression over ``contact``, ``event``, ``vars`` and ``now``."""

    expression: CelExpression


def _condition(ctx: TriggerContext) -> TriggerDecision:
    config: ConditionConfig = ctx.config
    if ctx.evaluate(config.expression):
        return Fire()
    return NotYet(reason="the condition is false")


CONDITION = TriggerType(
    name="condition",
    label="When a condition holds",
    description=(
        "Move on when a CEL condition is true: checked on entering the step and on every "
        "event. A decision's branches use it."
    ),
    evaluate=_condition,
    config=ConditionConfig,
    event_types=frozenset({ANY_EVENT}),
    icon="braces",
)


def _otherwise(ctx: TriggerContext) -> TriggerDecision:
    return NotYet(reason="taken only by the decision it leaves, when no condition matches")


OTHERWISE = TriggerType(
    name="otherwise",
    label="Otherwise",
    description="A decision's fallback branch, taken when none of its conditions is true.",
    evaluate=_otherwise,
    config=EmptyConfig,
    icon="corner-down-right",
)


TRIGGER_TYPES: list[TriggerType] = [
    IMMEDIATE,
    TIME_DELAY,
    DATE_REACHED,
    FORM_SUBMISSION,
    PAYMENT_RECEIVED,
    TASK_COMPLETED,
    MANUAL,
    CONDITION,
    OTHERWISE,
]
