"""SyncCRM: a test provider over :class:`aisle.testing.FakeCRMServer` with contacts and
jobs (a job's clients are contacts), totals, thin signed webhooks and pushes."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import msgspec

from aisle import CRMProvider, ExternalRecord, InboundEvent, Page, RateLimited
from tests.testing.minicrm import sign_webhook, verify_webhook

__all__ = ["API_KEY", "SYNCCRM", "WEBHOOK_SECRET", "Credentials", "signed"]

API_KEY = "synccrm-key-5f1d9c0b7a"
WEBHOOK_SECRET = "whsec_c3luY2NybS13ZWJob29rLXNlY3JldC0wMTIz"


class Credentials(msgspec.Struct, forbid_unknown_fields=True):
    api_key: str
    base_url: str
    webhook_secret: str = ""

    def __repr__(self) -> str:
        return f"Credentials(base_url={self.base_url!r}, api_key=<hidden>)"


class Client:
    def __init__(self, credentials: Credentials, http: httpx.AsyncClient) -> None:
        self._credentials = credentials
        self._http = http

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._http.request(
            method,
            f"{self._credentials.base_url}{path}",
            headers={"X-API-KEY": self._credentials.api_key},
            **kwargs,
        )
        if response.status_code == 429:
            raise RateLimited(float(response.headers.get("Retry-After", "60")))
        if response.status_code in (401, 403):
            raise PermissionError(f"SyncCRM refused the API key (HTTP {response.status_code})")
        response.raise_for_status()
        return response.json()

    @staticmethod
    def _record(kind: str, item: Mapping[str, Any]) -> ExternalRecord:
        clients = tuple(str(c) for c in item.get("client_ids", ()))
        return ExternalRecord(id=str(item["id"]), kind=kind, fields=item, contact_ids=clients)

    async def list_records(self, kind: str, cursor: str | None) -> Page:
        page = int(cursor or "1")
        body = await self._call("GET", f"/{kind}", params={"page": page, "pageSize": 100})
        more = body["meta"]["page"] < body["meta"]["totalPages"]
        return Page(
            records=[self._record(kind, item) for item in body["data"]],
            next_cursor=str(page + 1) if more else None,
            total=body["meta"]["total"],
        )

    async def fetch_record(self, kind: str, external_id: str) -> ExternalRecord:
        return self._record(kind, await self._call("GET", f"/{kind}/{external_id}"))

    async def push_record(
        self, kind: str, external_id: str | None, fields: Mapping[str, Any]
    ) -> str:
        if external_id is None:
            return str((await self._call("POST", f"/{kind}", json=dict(fields)))["id"])
        await self._call("PUT", f"/{kind}/{external_id}", json=dict(fields))
        return external_id


def parse_webhook(headers: Mapping[str, str], body: bytes) -> Sequence[InboundEvent]:
    lowered = {k.lower(): v for k, v in headers.items()}
    message = json.loads(body)
    return [
        InboundEvent(
            type="payment_received",
            external_id=str(message["id"]),
            payload={"hook": message["event"]},
            idempotency_key=lowered["webhook-id"],
            contact=message.get("contact", {}),
            contact_external_id=message.get("client_id"),
            fetch_kind="payments",
        )
    ]


def signed(
    message: Mapping[str, Any], msg_id: str, timestamp: int = 1767225600
) -> tuple[dict[str, str], bytes]:
    body = json.dumps(message).encode()
    return sign_webhook(body, WEBHOOK_SECRET, msg_id=msg_id, timestamp=timestamp), body


SYNCCRM = CRMProvider(
    name="synccrm",
    label="SyncCRM",
    credentials=Credentials,
    capabilities=frozenset({"pull", "push", "webhooks"}),
    client=Client,
    pull_kinds=("contacts", "jobs"),
    field_mapping={
        "email": "email",
        "phone": "phone",
        "partners.0.first_name": "first_name",
        "partners.0.last_name": "last_name",
        "partners.1.first_name": "partner_first_name",
        "wedding_date": "jobs.eventDate",
        "venue": "jobs.venue",
        "custom.lead_source": "lead_source",
    },
    change_detection="every record is listed; unchanged ones are found by a content hash",
    verify_webhook=verify_webhook,
    parse_webhook=parse_webhook,
)
