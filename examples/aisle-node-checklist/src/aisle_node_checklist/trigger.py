"""The ``checklist_ticked`` trigger type: move on once enough of a checklist is done.

It listens to ``checklist.ticked`` events, which a client portal (or a Zap) sends
through ``POST /api/v1/events`` as items are ticked off::

    {"type": "checklist.ticked", "contact_id": "...",
     "payload": {"step_id": "shot-list", "done": 4, "total": 5}}
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from aisle import Fire, NotYet, TriggerContext, TriggerDecision, TriggerType

__all__ = ["CHECKLIST_TICKED", "TICKED", "ChecklistTickedConfig"]

TICKED = "checklist.ticked"
"""The event type this plugin adds."""


class ChecklistTickedConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """``at_least`` items done (every item when not set)."""

    at_least: Annotated[
        int | None, msgspec.Meta(description="Items that must be done; empty means all.")
    ] = None

    def __post_init__(self) -> None:
        if self.at_least is not None and self.at_least < 1:
            raise ValueError("`at_least` must be 1 or more")


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _checklist_ticked(ctx: TriggerContext) -> TriggerDecision:
    config: ChecklistTickedConfig = ctx.config
    event = ctx.event
    if event is None or event.type != TICKED:
        return NotYet(reason="waiting for the checklist to be ticked")
    payload = event.payload
    if payload.get("step_id") not in (None, ctx.step_id):
        return NotYet(reason=f"ticks for checklist {payload.get('step_id')!r}, not this one")
    done, total = _count(payload.get("done")), _count(payload.get("total"))
    if done is None:
        return NotYet(reason="the event says nothing about how many items are done")
    needed = config.at_least if config.at_least is not None else total
    if needed is None:
        return NotYet(reason="the event does not say how many items there are")
    if done < needed:
        return NotYet(reason=f"{done} of {needed} items done")
    return Fire()


CHECKLIST_TICKED = TriggerType(
    name="checklist_ticked",
    label="Checklist ticked",
    description="Move on once every item (or at least some) of the checklist is done.",
    evaluate=_checklist_ticked,
    config=ChecklistTickedConfig,
    event_types=frozenset({TICKED}),
    icon="list-checks",
)
