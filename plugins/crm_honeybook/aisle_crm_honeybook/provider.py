"""HoneyBook through Zapier: the triggers its Zaps post, the fields they map, the catch
hooks that create clients and projects, and the provider built from them.

HoneyBook has no public API. Its Zapier app triggers on a client created, a project
booked, a project's stage changed, a payment paid and a meeting scheduled; a studio
makes one Zap per trigger posting to the connection's inbound URL (see the README).
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

__all__ = ["BRIDGE", "HONEYBOOK", "Credentials"]

_HOOK_URL = msgspec.Meta(
    pattern=r"^https?://\S+$",
    description="a Zap's Catch Hook URL (https://hooks.zapier.com/hooks/catch/…); a secret",
)


class Credentials(BridgeCredentials, kw_only=True, forbid_unknown_fields=True):
    """The connection's webhook secret and signing mode, and its two catch hooks."""

    clients_hook_url: Annotated[str, _HOOK_URL] | None = None
    projects_hook_url: Annotated[str, _HOOK_URL] | None = None


BRIDGE = ZapierBridge(
    app="HoneyBook",
    triggers=(
        ZapTrigger(
            name="client_created",
            label="client created",
            event_type="crm.client_created",
            client_id_field="id",
        ),
        ZapTrigger(
            name="project_booked",
            label="project booked",
            event_type="crm.project_booked",
        ),
        ZapTrigger(
            name="project_stage_changed",
            label="project stage changed",
            event_type="crm.project_stage_changed",
            # A project passes through many stages (and may return to one): the stage
            # and the time of the change tell the occurrences apart.
            key_fields=("id", "stage", "changed_at"),
        ),
        ZapTrigger(
            name="payment_paid",
            label="payment paid",
            event_type="payment.received",
        ),
        ZapTrigger(
            name="meeting_scheduled",
            label="meeting scheduled",
            event_type="crm.meeting_scheduled",
            key_fields=("id", "starts_at"),
        ),
    ),
    contact_fields=ZAP_CONTACT_FIELDS,
    catch_hooks=CLIENT_AND_PROJECT_HOOKS,
)

HONEYBOOK = BRIDGE.provider(
    name="honeybook",
    label="HoneyBook (via Zapier)",
    description=(
        "HoneyBook's clients, bookings, stages, payments and meetings arrive from Zaps; "
        "Aisle creates clients and projects through Zap catch hooks."
    ),
    credentials=Credentials,
)
