"""A fake REST CRM on a real local socket, for provider tests.

It behaves like a typical paged JSON API (VSCO Workspace's shape): an API key in
``X-API-KEY`` or ``Authorization: Bearer``, ``page``/``pageSize`` paging with a
``meta`` envelope, problem-style errors ``{type,title,detail,status}``, ``429`` with
``Retry-After`` on demand, and create/update by ``POST``/``PUT``. It implements the
:class:`~aisle.testing.crm_suite.FakeRemote` protocol the CRM suite drives, so a
provider for a similar API can run the suite against it unchanged; a provider for a
different API ships its own fake with the same four members.

::

    with FakeCRMServer(api_key="k-123", page_size=10) as fake:
        fake.seed("contacts", [{"email": "ada@example.com"}])
        httpx.get(f"{fake.url}/contacts", headers={"X-API-KEY": "k-123"})
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from aisle.testing.http_server import LocalHTTPServer, ReceivedRequest, Reply

__all__ = ["FakeCRMServer"]


class FakeCRMServer(LocalHTTPServer):
    """Records per kind (the first path segment: ``/contacts``, ``/contacts/<id>``)."""

    def __init__(self, *, api_key: str = "fake-api-key", page_size: int = 25) -> None:
        super().__init__()
        self.api_key = api_key
        self.page_size = page_size
        self._records: dict[str, dict[str, dict[str, Any]]] = {}
        self._rate_limits: list[int] = []
        self._next_id = 1

    # -- the FakeRemote protocol ----------------------------------------------------

    def seed(self, kind: str, records: Sequence[Mapping[str, Any]]) -> list[str]:
        """Store ``records`` as if created in the CRM; returns their ids in order."""
        with self.lock:
            return [self._store(kind, None, dict(record)) for record in records]

    def stored(self, kind: str, external_id: str) -> Mapping[str, Any] | None:
        """The record as the CRM holds it now, or ``None``."""
        with self.lock:
            record = self._records.get(kind, {}).get(external_id)
            return dict(record) if record is not None else None

    def rate_limit(self, times: int = 1, retry_after: int = 7) -> None:
        """Answer the next ``times`` requests with 429 and ``Retry-After: retry_after``."""
        with self.lock:
            self._rate_limits.extend([retry_after] * times)

    # -- the API --------------------------------------------------------------------

    def respond(self, request: ReceivedRequest) -> Reply:
        if self._rate_limits:
            return _problem(
                429, "Too many requests", {"Retry-After": str(self._rate_limits.pop(0))}
            )
        if self.api_key not in (
            request.headers.get("x-api-key"),
            request.headers.get("authorization", "").removeprefix("Bearer "),
        ):
            return _problem(401, "Missing or wrong API key")
        parts = [p for p in request.path.split("/") if p]
        if not parts or len(parts) > 2:
            return _problem(404, f"No resource at {request.path}")
        kind, external_id = parts[0], (parts[1] if len(parts) == 2 else None)
        table = self._records.setdefault(kind, {})
        if external_id is not None and external_id not in table:
            return _problem(404, f"No {kind} with id {external_id}")
        if request.method == "GET":
            if external_id is not None:
                return _json(200, table[external_id])
            try:
                return _json(200, self._page(table, request.query))
            except ValueError:
                return _problem(400, "page and pageSize must be integers")
        try:
            fields = json.loads(request.body or b"{}")
        except ValueError:
            return _problem(400, "The body is not JSON")
        if not isinstance(fields, dict):
            return _problem(400, "The body must be a JSON object")
        if request.method == "POST" and external_id is None:
            return _json(201, table[self._store(kind, None, fields)])
        if request.method in ("PUT", "PATCH") and external_id is not None:
            return _json(200, table[self._store(kind, external_id, fields)])
        return _problem(405, f"{request.method} is not allowed on {request.path}")

    def _store(self, kind: str, external_id: str | None, fields: dict[str, Any]) -> str:
        table = self._records.setdefault(kind, {})
        if external_id is None:
            external_id = str(self._next_id)
            self._next_id += 1
            table[external_id] = {}
        fields.pop("id", None)
        table[external_id].update(fields)
        table[external_id]["id"] = external_id
        table[external_id]["updated_at"] = datetime.now(UTC).isoformat()
        return external_id

    def _page(self, table: Mapping[str, dict[str, Any]], query: Mapping[str, str]) -> Any:
        page = max(1, int(query.get("page", "1")))
        size = min(self.page_size, max(1, int(query.get("pageSize", str(self.page_size)))))
        ordered = sorted(table.values(), key=lambda r: int(r["id"]))
        return {
            "data": ordered[(page - 1) * size : page * size],
            "meta": {
                "page": page,
                "pageSize": size,
                "total": len(ordered),
                "totalPages": max(1, -(-len(ordered) // size)),
            },
        }


def _json(status: int, payload: Any, content_type: str = "application/json") -> Reply:
    return Reply(status, {"Content-Type": content_type}, json.dumps(payload).encode())


def _problem(status: int, detail: str, headers: Mapping[str, str] | None = None) -> Reply:
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "detail": detail,
        "status": status,
    }
    reply = _json(status, body, "application/problem+json")
    return Reply(status, {**reply.headers, **(headers or {})}, reply.body)
