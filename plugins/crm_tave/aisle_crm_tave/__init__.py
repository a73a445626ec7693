"""Tave (VSCO Workspace) for Aisle: its REST API v2 as a CRM provider.

Pulls address-book people, their jobs and events (wedding date, stage, job type, lead
source, venue, time zone), pushes contacts, and subscribes Tave's REST hooks for new
contacts, jobs, bookings and payments. :mod:`aisle_crm_tave.fake` is a fake Workspace
API on a local socket for tests.
"""

from __future__ import annotations

from collections.abc import Iterable

from aisle import CRMProvider, hookimpl
from aisle_crm_tave.provider import FIELD_MAPPING, TAVE

__all__ = ["FIELD_MAPPING", "TAVE", "aisle_crm_providers"]


@hookimpl
def aisle_crm_providers() -> Iterable[CRMProvider]:
    return [TAVE]
