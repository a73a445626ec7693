"""What an edge's label says: its trigger and the gist of its config, in a few words.

The built-in triggers are worded here ("after 3 days", "7 days before the wedding
date", "payment ≥ 500.00 GBP"); any other trigger reads as its registered label (or
its name) followed by its first simple settings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["trigger_summary"]


def _count(n: Any, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _duration(config: Mapping[str, Any]) -> str:
    parts = [
        _count(config[key], unit)
        for key, unit in (("days", "day"), ("hours", "hour"), ("minutes", "minute"))
        if config.get(key)
    ]
    return " ".join(parts) or "0 minutes"


def _time_delay(config: Mapping[str, Any]) -> str:
    return "after " + _duration(config)


def _date_reached(config: Mapping[str, Any]) -> str:
    field = str(config.get("field") or "wedding_date")
    name = "the wedding" if field == "wedding_date" else field
    days = config.get("days") or 0
    if isinstance(days, int) and days < 0:
        when = f"{_count(-days, 'day')} before {name}"
    elif days:
        when = f"{_count(days, 'day')} after {name}"
    else:
        when = f"on {name}" if field == "wedding_date" else f"on {field}"
    return f"{when} at {config.get('at') or '09:00'}"


def _form(config: Mapping[str, Any]) -> str:
    form = config.get("form_id")
    return f"form {form} submitted" if form else "form submitted"


def _payment(config: Mapping[str, Any]) -> str:
    amount, currency = config.get("min_amount"), config.get("currency")
    if amount:
        return f"payment ≥ {amount} {currency or ''}".rstrip()
    return f"payment in {currency}" if currency else "payment received"


def _task(config: Mapping[str, Any]) -> str:
    named = config.get("title") or config.get("kind") or config.get("assignee")
    return f"task {named} done" if named else "task completed"


def _manual(config: Mapping[str, Any]) -> str:
    button = config.get("button")
    return f"by hand: {button}" if button else "by hand"


def _condition(config: Mapping[str, Any]) -> str:
    return f"if {config.get('expression') or '…'}"


BUILT_IN: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "immediate": lambda _c: "immediately",
    "time_delay": _time_delay,
    "date_reached": _date_reached,
    "form_submission": _form,
    "payment_received": _payment,
    "task_completed": _task,
    "manual": _manual,
    "condition": _condition,
    "otherwise": lambda _c: "otherwise",
}


def _plain(trigger: str, label: str, config: Mapping[str, Any]) -> str:
    head = (label or trigger.replace("_", " ")).lower()
    simple = [
        f"{key} {value}"
        for key, value in config.items()
        if isinstance(value, str | int | float) and not isinstance(value, bool) and value != ""
    ]
    return ", ".join([head, *simple[:2]])


def trigger_summary(trigger: str, config: Mapping[str, Any], label: str = "") -> str:
    """A few words for an edge of ``trigger`` with ``config`` (``label``: the trigger
    type's registered label, used for triggers not built in)."""
    worded = BUILT_IN.get(trigger)
    if worded is not None:
        return worded(config)
    return _plain(trigger, label, config)
