"""Studio Ninja through Zapier: the triggers its Zaps post and the connection's secret.

Studio Ninja has no public API, and its Zapier triggers could not be checked against a
published list, so the bridge takes the moments Studio Ninja's own help pages name for
every job (a client added, a lead created, a job confirmed by a quote, contract or
payment, an invoice payment) and a studio picks, per Zap, the Studio Ninja trigger that
fires on that moment (see the README). There are no catch hooks: changes go back to
Studio Ninja in the CSV export.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from aisle import ZAP_CONTACT_FIELDS, BridgeCredentials, ZapierBridge, ZapTrigger

__all__ = ["BRIDGE", "Credentials"]


class Credentials(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The bridge's webhook secret and signing mode; both optional, since a connection
    that only imports and exports CSV files has no secret to keep.

    A secret given is checked as every Zapier bridge checks it (a ``whsec_`` secret for
    ``standard_webhooks``, 24+ random characters for ``secret_header``).
    """

    webhook_secret: (
        Annotated[
            str,
            msgspec.Meta(
                min_length=1,
                description=(
                    "only for Zaps posting to Aisle; standard_webhooks: a whsec_ secret "
                    "(whsec_ and base64); secret_header: a random string of at least 24 "
                    "characters"
                ),
            ),
        ]
        | None
    ) = None
    signing: Literal["standard_webhooks", "secret_header"] = "standard_webhooks"

    def __post_init__(self) -> None:
        if self.webhook_secret is not None:
            BridgeCredentials(webhook_secret=self.webhook_secret, signing=self.signing)

    def __repr__(self) -> str:
        return f"Credentials(signing={self.signing!r}, secret hidden)"


BRIDGE = ZapierBridge(
    app="Studio Ninja",
    triggers=(
        ZapTrigger(
            name="client_created",
            label="new client",
            event_type="crm.client_created",
            client_id_field="id",
        ),
        ZapTrigger(
            name="lead_created",
            label="new lead",
            event_type="crm.lead_created",
        ),
        ZapTrigger(
            name="job_confirmed",
            label="job confirmed (quote accepted, contract signed or invoice paid)",
            event_type="crm.project_booked",
        ),
        ZapTrigger(
            name="payment_received",
            label="invoice payment received",
            event_type="payment.received",
        ),
    ),
    contact_fields=ZAP_CONTACT_FIELDS,
)
