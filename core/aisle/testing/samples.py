"""Sample data the suites use by default: a couple, their studio, a fixed moment."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from aisle.domain.contact import Contact, Partner

__all__ = ["SAMPLE_NOW", "sample_contact", "sample_studio"]

SAMPLE_NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
"""A Monday morning, months before the sample wedding."""


def sample_contact() -> Contact:
    """A couple marrying on 2026-09-12 in Bath, living in London."""
    return Contact(
        id="contact_sample",
        partners=(
            Partner(first_name="Ada", last_name="Lovelace", email="ada@example.com"),
            Partner(first_name="Charles", last_name="Babbage", email="charles@example.com"),
        ),
        email="ada@example.com",
        phone="+447911123456",
        wedding_date=date(2026, 9, 12),
        venue="The Assembly Rooms, Bath",
        timezone="Europe/London",
        custom={"package": "full_day", "guests": 120},
        external_ids={},
    )


def sample_studio() -> dict[str, Any]:
    """The studio as executors see it (``ActionContext.studio``)."""
    return {
        "id": "org_sample",
        "name": "Golden Hour Photography",
        "timezone": "Europe/London",
        "email": "hello@goldenhour.example",
    }
