"""Studio Ninja's CSV files as Aisle reads and writes them.

The headers follow the labels Studio Ninja shows for clients and jobs; they could not
all be checked against a real export (see the README), so each is only a default that
a studio changes per connection (``settings.csv_columns``) when its file differs.
Dates are read day first (``31/12/2026``), as Studio Ninja's Australian and British
studios write them, with ISO dates (``2026-12-31``) accepted too.
"""

from __future__ import annotations

from aisle import CSVFormat

__all__ = ["CLIENTS", "FORMATS", "JOBS", "LEADS"]


_PERSON = {
    "partners.0.first_name": "First Name",
    "partners.0.last_name": "Last Name",
    "email": "Email",
    "phone": "Phone",
}

CLIENTS = CSVFormat(
    name="clients",
    label="Clients (Clients → Export)",
    columns={
        **_PERSON,
        "partners.1.first_name": "Partner First Name",
        "partners.1.last_name": "Partner Last Name",
    },
    key="Email",
    date_format="%d/%m/%Y",
)

LEADS = CSVFormat(
    name="leads",
    label="Leads (Leads → Export)",
    columns={
        **_PERSON,
        "wedding_date": "Event Date",
        "custom.job_type": "Job Type",
        "custom.lead_source": "Lead Source",
        "custom.lead_status": "Status",
    },
    key="Email",
    date_format="%d/%m/%Y",
)

JOBS = CSVFormat(
    name="jobs",
    label="Jobs (Jobs → Export)",
    columns={
        "custom.job_name": "Job",
        "custom.job_type": "Job Type",
        "wedding_date": "Main Shoot Date",
        "venue": "Location",
        "partners.0.first_name": "Client First Name",
        "partners.0.last_name": "Client Last Name",
        "email": "Client Email",
        "phone": "Client Phone",
    },
    key="Job",
    date_format="%d/%m/%Y",
)

FORMATS = {f.name: f for f in (CLIENTS, LEADS, JOBS)}
"""Clients first: its key is the couple's id in Studio Ninja (``external_ids``)."""
