"""Dubsado through Zapier: the triggers its Zaps post, the fields they map, the catch
hooks that create clients and projects, and the provider built from them.

Dubsado has no public API. Its Zapier app triggers on a project created as a lead, a
project created as a job, a payment received, a contract signed and a project's status
updated; a studio makes one Zap per trigger posting to the connection's inbound URL
(see the README).
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from aisle import (
    CLIENT_AND_PROJECT_HOOKS,
    ZAP_CONTACT_FIELDS,
    BridgeCredentials,
    ZapierBridge,
    ZapTrigger,
)

__all__ = ["BRIDGE", "DUBSADO", "Credentials"]

_HOOK_URL = msgspec.Meta(
    pattern=r"^https?://\S+$",
    description="a Zap's Catch Hook URL (https://hooks.zapier.com/hooks/catch/…); a secret",
)


class Credentials(BridgeCredentials, kw_only=True, forbid_unknown_fields=True):
    """The connection's webhook secret and signing mode, and its two catch hooks."""

    clients_hook_url: Annotated[str, _HOOK_URL] | None = None
    projects_hook_url: Annotated[str, _HOOK_URL] | None = None


BRIDGE = ZapierBridge(
    app="Dubsado",
    triggers=(
        ZapTrigger(name="project_as_lead", label="project as lead", event_type="crm.lead_created"),
        ZapTrigger(name="project_as_job", label="project as job", event_type="crm.project_booked"),
        ZapTrigger(
            name="payment_received", label="payment received", event_type="payment.received"
        ),
        ZapTrigger(
            name="contract_signed", label="contract signed", event_type="crm.contract_signed"
        ),
        ZapTrigger(
            name="project_status_updated",
            label="project status updated",
            event_type="crm.project_status_changed",
            # A project's status changes many times (and may return to one): the status
            # and the time of the change tell the occurrences apart.
            key_fields=("id", "status", "changed_at"),
        ),
    ),
    contact_fields=ZAP_CONTACT_FIELDS,
    catch_hooks=CLIENT_AND_PROJECT_HOOKS,
)

DUBSADO = BRIDGE.provider(
    name="dubsado",
    label="Dubsado (via Zapier)",
    description=(
        "Dubsado's leads, jobs, payments, signed contracts and status changes arrive from "
        "Zaps; Aisle creates clients and projects through Zap catch hooks."
    ),
    credentials=Credentials,
)
