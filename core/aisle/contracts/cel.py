"""CEL conditions as node, trigger and executor configs declare them and contexts evaluate them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import msgspec

__all__ = ["CEL_MARKER", "CelExpression", "ConditionEvaluator"]

CEL_MARKER = "aisle_cel"
"""Key in ``msgspec.Meta(extra=...)`` marking a config field as a CEL expression."""

CelExpression = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        description="A CEL expression over contact, event, vars and now.",
        extra_json_schema={"format": "cel"},
        extra={CEL_MARKER: True},
    ),
]
"""A config field holding a CEL condition.

Fields of this type are compiled once when a journey is compiled (a syntax error is a
validation issue naming the node or edge and the field) and are what
``NodeContext.evaluate`` / ``TriggerContext.evaluate`` evaluate cheaply.
"""

ConditionEvaluator = Callable[[str], bool]
"""Evaluates a CEL expression against the enrollment's activation (contact, event, vars)."""
