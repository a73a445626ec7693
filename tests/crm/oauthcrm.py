"""OAuthCRM: a test provider whose credentials are OAuth2 tokens with an expiry, over a
:class:`aisle.testing.FakeCRMServer` with a token endpoint (``POST /oauth/token``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec

from aisle import CRMProvider, ExternalRecord, Page
from aisle.testing import FakeCRMServer, ReceivedRequest, Reply

__all__ = ["OAUTHCRM", "OAuthCRM", "Tokens"]


class Tokens(msgspec.Struct, forbid_unknown_fields=True):
    base_url: str
    access_token: str
    refresh_token: str
    expires_at: datetime

    def __repr__(self) -> str:
        return f"Tokens(base_url={self.base_url!r}, expires_at={self.expires_at!r})"


class OAuthCRM(FakeCRMServer):
    """Takes ``Authorization: Bearer <access token>``; ``POST /oauth/token`` trades the
    refresh token for a new pair (the old refresh token stops working)."""

    def __init__(self) -> None:
        super().__init__(api_key="access-1", page_size=50)
        self.refresh_token = "refresh-1"
        self.issued = 1

    def respond(self, request: ReceivedRequest) -> Reply:
        if request.path != "/oauth/token":
            return super().respond(request)
        form = dict(httpx.QueryParams(request.body.decode()))
        if form != {"grant_type": "refresh_token", "refresh_token": self.refresh_token}:
            return Reply(400, {"Content-Type": "application/json"}, b'{"error":"invalid_grant"}')
        self.issued += 1
        self.api_key = f"access-{self.issued}"
        self.refresh_token = f"refresh-{self.issued}"
        body = {"access_token": self.api_key, "refresh_token": self.refresh_token}
        body |= {"token_type": "Bearer", "expires_in": 3600}
        return Reply(200, {"Content-Type": "application/json"}, json.dumps(body).encode())


class Client:
    def __init__(self, tokens: Tokens, http: httpx.AsyncClient) -> None:
        self._tokens = tokens
        self._http = http

    async def list_records(self, kind: str, cursor: str | None) -> Page:
        page = int(cursor or "1")
        response = await self._http.get(
            f"{self._tokens.base_url}/{kind}",
            params={"page": page},
            headers={"Authorization": f"Bearer {self._tokens.access_token}"},
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return Page(
            records=[ExternalRecord(id=str(r["id"]), kind=kind, fields=r) for r in body["data"]],
            next_cursor=str(page + 1) if page < body["meta"]["totalPages"] else None,
            total=body["meta"]["total"],
        )


async def refresh(tokens: Tokens, http: httpx.AsyncClient) -> Tokens:
    response = await http.post(
        f"{tokens.base_url}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens.refresh_token},
    )
    response.raise_for_status()
    body = response.json()
    return Tokens(
        base_url=tokens.base_url,
        access_token=body["access_token"],
        refresh_token=body["refresh_token"],
        expires_at=datetime.now(UTC) + timedelta(seconds=body["expires_in"]),
    )


OAUTHCRM = CRMProvider(
    name="oauthcrm",
    label="OAuth CRM",
    credentials=Tokens,
    capabilities=frozenset({"pull"}),
    client=Client,
    field_mapping={"email": "email", "partners.0.first_name": "first_name"},
    refresh_credentials=refresh,
)
