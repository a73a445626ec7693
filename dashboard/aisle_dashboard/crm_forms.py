"""The CRM pages' forms: a provider's credential form generated from its credentials
struct (secrets as password inputs, never filled in), and the field-mapping editor's
rows read back into a mapping, conflict policies and protected fields."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from aisle import CRMProvider
from aisle.domain.crm_connection import CRMConnection
from aisle_dashboard.journey_form import FormField, config_fields, read_config

__all__ = [
    "BLANK_ROWS",
    "MappingRow",
    "credential_fields",
    "mapping_rows",
    "read_credentials",
    "read_mapping",
]

# Credential fields whose value is a secret, by name: shown as password inputs and
# never put back into a page (a refused form is shown again with them empty).
_SECRET = re.compile(r"key|secret|token|password", re.IGNORECASE)
_PREFIX = "credentials."

BLANK_ROWS = 3
"""Empty rows the mapping editor offers for new fields."""


def _schema(provider: CRMProvider) -> dict[str, Any]:
    return msgspec.json.schema(provider.credentials)


def credential_fields(provider: CRMProvider, given: Mapping[str, Any]) -> list[FormField]:
    """The inputs of ``provider``'s credentials; ``given`` refills the fields that are
    not secret after a refusal."""
    fields = []
    for item in config_fields(_schema(provider), {}):
        if _SECRET.search(item.name) and item.widget in ("text", "textarea"):
            item = dataclasses.replace(item, widget="password", value="")
        elif item.name in given and item.widget not in ("checkbox", "json"):
            item = dataclasses.replace(item, value=str(given[item.name]))
        fields.append(item)
    return fields


def read_credentials(
    provider: CRMProvider, form: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """The credentials the form holds (fields left empty keep the provider's default,
    so a required one left empty is refused by the service naming it) and what could
    not be read."""
    values, errors = read_config(_schema(provider), form, prefix=_PREFIX)
    return {k: v for k, v in values.items() if v not in (None, "")}, errors


@dataclass(frozen=True)
class MappingRow:
    """One line of the mapping editor: an Aisle field, its remote name, its policy."""

    field: str
    remote: str = ""
    policy: str = "crm_wins"
    protected: bool = False


def mapping_rows(connection: CRMConnection) -> tuple[list[MappingRow], list[str]]:
    """The connection's mapping as rows (then :data:`BLANK_ROWS` empty ones), and the
    protected entries no row shows (patterns such as ``custom.vendor*``)."""
    rows = [
        MappingRow(
            field=field,
            remote=remote,
            policy=connection.policy(field),
            protected=field in connection.protected,
        )
        for field, remote in connection.field_mapping.items()
    ]
    shown = {row.field for row in rows}
    others = [p for p in connection.protected if p not in shown]
    return rows + [MappingRow(field="") for _ in range(BLANK_ROWS)], others


def read_mapping(
    form: Mapping[str, Any], rows: int
) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """The editor's ``rows`` rows and its patterns box as the service's ``field_mapping``
    (a row with no remote name drops its field), ``conflicts`` (only the fields that do
    not let the CRM win, the default) and ``protected``."""
    mapping: dict[str, str] = {}
    conflicts: dict[str, str] = {}
    protected: list[str] = []
    for index in range(rows):
        field = str(form.get(f"field.{index}") or "").strip()
        if not field:
            continue
        remote = str(form.get(f"remote.{index}") or "").strip()
        if remote:
            mapping[field] = remote
        policy = str(form.get(f"policy.{index}") or "crm_wins")
        if policy != "crm_wins":
            conflicts[field] = policy
        if form.get(f"protected.{index}") is not None:
            protected.append(field)
    patterns = str(form.get("protected_patterns") or "")
    for pattern in (p.strip() for p in patterns.split(",")):
        if pattern and pattern not in protected:
            protected.append(pattern)
    return mapping, conflicts, protected
