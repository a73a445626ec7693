"""Studio Ninja (CSV and Zapier) for Aisle.

The provider is registered with no capabilities yet: the CRM work fills in its client,
field mapping and webhooks, and declares each capability as it lands.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from aisle import CRMProvider, hookimpl

__all__ = ["aisle_crm_providers"]


class Credentials(msgspec.Struct, forbid_unknown_fields=True):
    webhook_secret: str = ""


@hookimpl
def aisle_crm_providers() -> Iterable[CRMProvider]:
    return [
        CRMProvider(
            name="studioninja", label="Studio Ninja (CSV and Zapier)", credentials=Credentials
        )
    ]
