"""Aisle's built-in action executors, packaged exactly as a third-party plugin would be.

``email`` (SMTP), ``sms`` (a Twilio-compatible HTTP API), ``webhook`` (Standard
Webhooks), ``task`` (vendor and couple to-dos) and ``crm_update`` (through the CRM
provider hook). Each module holds one executor: its config schema, ``execute`` and
its :class:`~aisle.ActionExecutor` registration.
"""

from __future__ import annotations

from collections.abc import Iterable

from aisle import ActionExecutor, hookimpl
from aisle_actions import crm_update, mail, sms, task, webhook

__all__ = ["EXECUTORS", "aisle_action_executors"]

EXECUTORS: tuple[ActionExecutor, ...] = (
    mail.EXECUTOR,
    sms.EXECUTOR,
    webhook.EXECUTOR,
    task.EXECUTOR,
    crm_update.EXECUTOR,
)


@hookimpl
def aisle_action_executors() -> Iterable[ActionExecutor]:
    return EXECUTORS
