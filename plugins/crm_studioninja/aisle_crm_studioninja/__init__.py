"""Studio Ninja for Aisle: its clients, leads and jobs CSV exports in, a clients CSV out.

Studio Ninja has no public API, so the provider declares ``csv_import`` and
``csv_export`` and the sync engine streams the files (``aisle crm import-csv`` /
``export-csv``, or the API). A ``crm_update`` step on a Studio Ninja connection is
queued for the next CSV export instead of pushed.
"""

from __future__ import annotations

from collections.abc import Iterable

from aisle import CRMProvider, hookimpl
from aisle_crm_studioninja.formats import FORMATS, Credentials

__all__ = ["STUDIONINJA", "aisle_crm_providers"]

STUDIONINJA = CRMProvider(
    name="studioninja",
    label="Studio Ninja (CSV files)",
    description="Imports Studio Ninja's clients, leads and jobs CSV exports and exports "
    "a clients CSV for Studio Ninja's client import.",
    credentials=Credentials,
    capabilities=frozenset({"csv_import", "csv_export"}),
    csv_formats=FORMATS,
    change_detection=(
        "none remotely: each import compares every row's mapped values with the hash "
        "stored at the last import and writes only rows that changed (the whole file is "
        "read each time; unchanged rows cost no write)"
    ),
)


@hookimpl
def aisle_crm_providers() -> Iterable[CRMProvider]:
    return [STUDIONINJA]
