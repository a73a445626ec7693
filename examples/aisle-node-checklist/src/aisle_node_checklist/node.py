"""The ``checklist`` node type: one to-do per item for the couple or a vendor."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from aisle import ActionRequest, NodeContext, NodeOutcome, NodeType, Stay

__all__ = ["CHECKLIST", "ChecklistConfig"]

Item = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ChecklistConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A named list of things to do before moving on."""

    title: Annotated[
        str, msgspec.Meta(min_length=1, max_length=120, description="Shown before each item.")
    ]
    items: Annotated[
        list[Item], msgspec.Meta(min_length=1, max_length=50, description="One to-do each.")
    ]
    assignee: Annotated[
        Literal["client", "vendor"], msgspec.Meta(description="Who ticks the items off.")
    ] = "client"

    def __post_init__(self) -> None:
        if len(set(self.items)) != len(self.items):
            raise ValueError("`items` must not repeat an item")


def _checklist(ctx: NodeContext) -> NodeOutcome:
    config: ChecklistConfig = ctx.config
    # One task per item, each with its own key so every item is its own action run
    # (and its own idempotency key) on every visit.
    return Stay(
        actions=[
            ActionRequest(
                executor="task",
                key=f"item-{number}",
                config={
                    "title": f"{config.title}: {item}",
                    "assignee": config.assignee,
                    "details": {"checklist": ctx.node_id, "item": number, "of": len(config.items)},
                },
            )
            for number, item in enumerate(config.items, start=1)
        ]
    )


CHECKLIST = NodeType(
    name="checklist",
    label="Checklist",
    description="Give the couple (or a vendor) a list of to-dos, one per item.",
    on_enter=_checklist,
    config=ChecklistConfig,
    icon="list-todo",
    category="action",
    context_fields=("assignee",),
)
