"""The Tave (VSCO Workspace) provider as Aisle registers it."""

from __future__ import annotations

from aisle import CRMProvider
from aisle_crm_tave.client import TaveClient
from aisle_crm_tave.credentials import Credentials
from aisle_crm_tave.webhooks import HOOKS, complete_event, parse_webhook, verify_webhook

__all__ = ["FIELD_MAPPING", "TAVE"]

FIELD_MAPPING = {
    "email": "email",
    "phone": "cellPhone.e164",
    "partners.0.first_name": "firstName",
    "partners.0.last_name": "lastName",
    "wedding_date": "jobs.eventDate",
    "custom.stage": "jobs.stage",
    "custom.job_type": "jobs.jobTypeName",
    "custom.lead_source": "jobs.leadSourceName",
    "venue": "events.location.address.name",
    "timezone": "events.timezoneName",
}
"""Aisle contact fields ← Tave's: address-book people, their jobs, the jobs' primary events."""

TAVE = CRMProvider(
    name="tave",
    label="Tave (VSCO Workspace)",
    description=(
        "Tave's address book, jobs and events through the VSCO Workspace API, with its "
        "REST hooks for new contacts, jobs, bookings and payments."
    ),
    credentials=Credentials,
    capabilities=frozenset({"pull", "push", "webhooks", "subscriptions"}),
    client=TaveClient,
    field_mapping=FIELD_MAPPING,
    pull_kinds=("contacts", "jobs", "events"),
    push_kinds=("contacts",),
    change_detection=(
        "Tave has no updated-since filter, so each listing is read newest change first "
        "(sortBy=modified desc) and stops at the first record older than the previous "
        "run's newest change: a run with nothing changed costs one request per kind "
        "(contacts, jobs, events), plus one per 100 changed records and the job links "
        "(/job-contact) of changed jobs and events. Deletions are not seen."
    ),
    verify_webhook=verify_webhook,
    parse_webhook=parse_webhook,
    complete_event=complete_event,
    webhook_events=tuple(HOOKS),
)
