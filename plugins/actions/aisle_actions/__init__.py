"""Aisle's built-in action executors, packaged exactly as a third-party plugin would be."""

from __future__ import annotations

from collections.abc import Iterable

from aisle import ActionExecutor, hookimpl

__all__ = ["aisle_action_executors"]


@hookimpl
def aisle_action_executors() -> Iterable[ActionExecutor]:
    return []
