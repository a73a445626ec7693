"""Studio Ninja for Aisle: its clients, leads and jobs CSV exports in, a clients CSV out,
and its Zaps' deliveries in through the Zapier bridge.

Studio Ninja has no public API, so the provider declares ``csv_import`` and
``csv_export`` and the sync engine streams the files (``aisle crm import-csv`` /
``export-csv``, or the API). A studio that connects Studio Ninja's Zapier app also
declares ``webhooks``: each Zap posts its trigger's fields to the connection's inbound
URL, verified like every Zapier bridge's. A ``crm_update`` step on a Studio Ninja
connection is queued for the next CSV export instead of pushed.
"""

from __future__ import annotations

from collections.abc import Iterable

from aisle import CRMProvider, hookimpl
from aisle_crm_studioninja.bridge import BRIDGE, Credentials
from aisle_crm_studioninja.formats import FORMATS

__all__ = ["STUDIONINJA", "aisle_crm_providers"]

STUDIONINJA = CRMProvider(
    name="studioninja",
    label="Studio Ninja (CSV files and Zapier)",
    description="Imports Studio Ninja's clients, leads and jobs CSV exports, exports "
    "a clients CSV for Studio Ninja's client import, and receives its Zaps' new clients, "
    "leads, confirmed jobs and payments.",
    credentials=Credentials,
    capabilities=frozenset({"csv_import", "csv_export", "webhooks"}),
    csv_formats=FORMATS,
    field_mapping=dict(BRIDGE.contact_fields),
    verify_webhook=BRIDGE.verify_webhook,
    parse_webhook=BRIDGE.parse_webhook,
    change_detection=(
        "none remotely: each import compares every row's mapped values with the hash "
        "stored at the last import and writes only rows that changed (the whole file is "
        "read each time; unchanged rows cost no write); Zaps post new clients, leads, "
        "confirmed jobs and payments as they happen"
    ),
)


@hookimpl
def aisle_crm_providers() -> Iterable[CRMProvider]:
    return [STUDIONINJA]
