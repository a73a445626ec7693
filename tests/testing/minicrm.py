"""MiniCRM: a small CRM provider for a paged REST API, the CRM suite's own test subject.

It talks to :class:`aisle.testing.FakeCRMServer` exactly as a real provider talks to
its CRM, and signs nothing itself: webhooks arrive signed per Standard Webhooks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import msgspec

from aisle import CRMProvider, ExternalRecord, InboundEvent, Page, RateLimited

__all__ = ["MINICRM", "Credentials", "MiniClient", "sign_webhook"]


class Credentials(msgspec.Struct, forbid_unknown_fields=True):
    api_key: str
    base_url: str = "https://api.minicrm.example"

    def __repr__(self) -> str:
        return f"Credentials(base_url={self.base_url!r}, api_key=<hidden>)"


class MiniClient:
    """Lists and pushes records; the API key travels in a header, never in a URL."""

    def __init__(self, credentials: Credentials, http: httpx.AsyncClient) -> None:
        self._credentials = credentials
        self._http = http

    def __repr__(self) -> str:
        return f"MiniClient(base_url={self._credentials.base_url!r})"

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
            raise PermissionError(f"MiniCRM refused the API key (HTTP {response.status_code})")
        response.raise_for_status()
        return response.json()

    async def list_records(self, kind: str, cursor: str | None) -> Page:
        page = int(cursor or "1")
        body = await self._call("GET", f"/{kind}", params={"page": page, "pageSize": 100})
        records = [
            ExternalRecord(id=str(item["id"]), kind=kind, fields=item) for item in body["data"]
        ]
        more = body["meta"]["page"] < body["meta"]["totalPages"]
        return Page(
            records=records,
            next_cursor=str(page + 1) if more else None,
            total=body["meta"]["total"],
        )

    async def fetch_record(self, kind: str, external_id: str) -> ExternalRecord:
        item = await self._call("GET", f"/{kind}/{external_id}")
        return ExternalRecord(id=str(item["id"]), kind=kind, fields=item)

    async def push_record(
        self, kind: str, external_id: str | None, fields: Mapping[str, Any]
    ) -> str:
        if external_id is None:
            created = await self._call("POST", f"/{kind}", json=dict(fields))
            return str(created["id"])
        await self._call("PUT", f"/{kind}/{external_id}", json=dict(fields))
        return external_id


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def sign_webhook(body: bytes, secret: str, *, msg_id: str, timestamp: int) -> dict[str, str]:
    """Standard Webhooks headers for ``body``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": f"v1,{digest}",
    }


def verify_webhook(headers: Mapping[str, str], body: bytes, secret: str) -> bool:
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id, timestamp = lowered.get("webhook-id"), lowered.get("webhook-timestamp")
    if not msg_id or not timestamp:
        return False
    expected = sign_webhook(body, secret, msg_id=msg_id, timestamp=int(timestamp))
    wanted = expected["webhook-signature"].removeprefix("v1,")
    return any(
        hmac.compare_digest(sig.removeprefix("v1,"), wanted)
        for sig in lowered.get("webhook-signature", "").split()
    )


def parse_webhook(headers: Mapping[str, str], body: bytes) -> Sequence[InboundEvent]:
    lowered = {k.lower(): v for k, v in headers.items()}
    message = json.loads(body)
    return [
        InboundEvent(
            type=f"minicrm.{message['type']}",
            external_id=str(message["data"]["id"]),
            payload=message["data"],
            idempotency_key=f"minicrm:{lowered['webhook-id']}",
        )
    ]


MINICRM = CRMProvider(
    name="minicrm",
    label="MiniCRM",
    credentials=Credentials,
    capabilities=frozenset({"pull", "push", "webhooks"}),
    client=MiniClient,
    field_mapping={
        "email": "email_address",
        "partners.0.first_name": "first_name",
        "wedding_date": "event_date",
        "custom.package": "package_name",
    },
    verify_webhook=verify_webhook,
    parse_webhook=parse_webhook,
)
