"""A fake VSCO Workspace API v2 on a real local socket, for tests.

It follows the public OpenAPI document, not the provider: the same paths
(``/address-book``, ``/job``, ``/event``, ``/order``, ``/payment``, ``/job-contact``,
``/studio/me``, ``/rest-hook``), ``X-API-KEY`` (or Bearer) authentication, ``page``
(≥ 1) / ``pageSize`` (10 to 100) / ``sortBy`` parameters checked as the document
bounds them, the ``{meta, type, items}`` envelope, lowercase ULIDs, ``created`` /
``modified`` server timestamps, errors ``{type, title, detail, status}`` (validation
errors with ``type: validation-error``), and ``429`` with ``Retry-After`` on demand.
``page_size`` caps the rows of a page below what was asked, as a server limit would,
so paging shows with few records. REST hooks are stored and :meth:`FakeTave.deliver`
posts a thin delivery (``event`` and ``targetId``) to each subscribed URL.

It implements the :class:`aisle.testing.FakeRemote` protocol: ``seed`` and ``stored``
speak flattened field names (``cellPhone.e164``), as the provider's records do.
"""

from __future__ import annotations

import itertools
import json
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

from aisle.testing import LocalHTTPServer, ReceivedRequest, Reply

__all__ = ["FakeTave"]

_RESOURCES = {
    "address-book": ("contacts", "addressbook-collection"),
    "job": ("jobs", "job-collection"),
    "event": ("events", "event-collection"),
    "order": ("orders", "order-collection"),
    "payment": ("payments", "payment-collection"),
    "job-contact": ("job_contacts", "jobcontact-collection"),
    "rest-hook": ("hooks", "resthook-collection"),
}
_WRITABLE = {"address-book": {"POST", "PUT", "DELETE"}, "rest-hook": {"POST", "PUT", "DELETE"}}
_SORTS = {"id", "modified", "created"}
_HOOK_EVENTS = ("contact.created", "job.created", "order.booked", "payment.created")
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


class FakeTave(LocalHTTPServer):
    """One studio's Workspace; ``now`` moves only when :meth:`tick` says so."""

    def __init__(
        self, *, api_key: str = "fake-tave-key", page_size: int = 100, currency: str = "USD"
    ) -> None:
        super().__init__()
        self.api_key = api_key
        self.page_size = page_size
        self.currency = currency
        # An hour behind the wall clock (the Date of its answers), so tests may tick
        # ahead and still see records changed before a listing began.
        self.now = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
        self._tables: dict[str, dict[str, dict[str, Any]]] = {}
        self._rate_limits: list[int] = []
        self._serial = itertools.count(1)

    # -- the FakeRemote protocol ----------------------------------------------------

    def seed(self, kind: str, records: Sequence[Mapping[str, Any]]) -> list[str]:
        """Store records (flattened names) of ``contacts``, ``jobs``, ``events``,
        ``orders``, ``payments`` or ``job_contacts``; returns their ids in order."""
        with self.lock:
            return [self._create(kind, _unflatten(record)) for record in records]

    def stored(self, kind: str, external_id: str) -> Mapping[str, Any] | None:
        """The record now (flattened names), or ``None``."""
        with self.lock:
            record = self._tables.get(kind, {}).get(external_id)
            return _flatten(record) if record is not None else None

    def rate_limit(self, times: int = 1, retry_after: int = 7) -> None:
        """Answer the next ``times`` requests with 429 and ``Retry-After: retry_after``."""
        with self.lock:
            self._rate_limits.extend([retry_after] * times)

    # -- what tests do in the studio's Tave -----------------------------------------

    def subscribed(self) -> Mapping[str, tuple[str, str]]:
        """REST hooks by id: ``(event, url)``."""
        with self.lock:
            return {i: (h["event"], h["url"]) for i, h in self._tables.get("hooks", {}).items()}

    def link(self, job_id: str, contact_id: str, *, client: bool = True) -> str:
        """Put a contact on a job (a client, or another role)."""
        [link_id] = self.seed(
            "job_contacts", [{"jobId": job_id, "contactId": contact_id, "client": client}]
        )
        return link_id

    def update(self, kind: str, external_id: str, fields: Mapping[str, Any]) -> None:
        """Change a record as a studio would in Tave (``modified`` moves to now)."""
        with self.lock:
            self._write(self._tables[kind][external_id], _unflatten(fields))

    def tick(self, seconds: float = 1.0) -> None:
        """Let time pass (timestamps have whole seconds, as the API's do)."""
        with self.lock:
            self.now += timedelta(seconds=seconds)

    def deliver(self, event: str, target_id: str) -> list[int]:
        """POST a thin delivery to every hook subscribed to ``event``; their statuses."""
        body = json.dumps({"event": event, "targetId": target_id}).encode()
        statuses = []
        for hook_event, url in self.subscribed().values():
            if hook_event != event:
                continue
            # Only http(s) URLs are stored: POST /rest-hook refuses others.
            request = urllib.request.Request(  # noqa: S310
                url, data=body, method="POST", headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                    statuses.append(answer.status)
            except urllib.error.HTTPError as refused:
                statuses.append(refused.code)
        return statuses

    # -- the API --------------------------------------------------------------------

    def respond(self, request: ReceivedRequest) -> Reply:
        if self._rate_limits:
            return _error(
                429,
                "quota-limit",
                "Too many requests",
                "Slow down",
                {"Retry-After": str(self._rate_limits.pop(0))},
            )
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if self.api_key not in (request.headers.get("x-api-key"), bearer):
            return _error(401, "unknown", "Unauthorized", "API key is missing or invalid")
        parts = [p for p in request.path.split("/") if p]
        if parts == ["studio", "me"] and request.method == "GET":
            return _json(200, {"name": "Fake Studio", "currencyCode": self.currency})
        if parts == ["job", "-", "worksheet"] and request.method == "POST":
            return self._worksheet(request)
        if not parts or parts[0] not in _RESOURCES or len(parts) > 2:
            return _error(404, "unknown", "Not Found", f"No route for {request.path}")
        kind, collection = _RESOURCES[parts[0]]
        table = self._tables.setdefault(kind, {})
        if len(parts) == 1 and request.method == "GET":
            return self._list(kind, collection, request.query)
        if request.method != "GET" and request.method not in _WRITABLE.get(parts[0], set()):
            return _error(405, "not-implemented", "Method Not Allowed", request.path)
        if len(parts) == 1 and request.method == "POST":
            body = _body(request)
            if isinstance(body, Reply):
                return body
            invalid = _invalid(kind, body)
            if invalid:
                return _validation(invalid)
            return _json(201, table[self._create(kind, body)])
        external_id = parts[1]
        if external_id not in table:
            return _error(404, "unknown", "Not Found", f"No {parts[0]} {external_id}")
        if request.method == "GET":
            return _json(200, table[external_id])
        if request.method == "DELETE":
            del table[external_id]
            return Reply(204)
        body = _body(request)
        if isinstance(body, Reply):
            return body
        invalid = _invalid(kind, {**table[external_id], **body})
        if invalid:
            return _validation(invalid)
        self._write(table[external_id], body)
        return _json(200, table[external_id])

    def _list(self, kind: str, collection: str, query: Mapping[str, str]) -> Reply:
        try:
            page = int(query.get("page", "1"))
            size = int(query.get("pageSize", "100"))
        except ValueError:
            return _validation({"page": "must be an integer", "pageSize": "must be an integer"})
        if page < 1 or not 10 <= size <= 100:
            return _validation({"page": "minimum 1", "pageSize": "between 10 and 100"})
        sort, _, direction = query.get("sortBy", "id").partition(" ")
        if sort not in _SORTS or direction not in ("", "asc", "desc"):
            return _validation({"sortBy": f"{query['sortBy']!r} is not a sortable property"})
        rows = list(self._tables.get(kind, {}).values())
        rows = [r for r in rows if query.get("includeHidden") == "true" or not r.get("hidden")]
        if kind == "jobs" and query.get("includeClosed") != "true":
            rows = [r for r in rows if not r.get("closed")]
        for name in ("jobId", "contactId", "email"):
            if name in query:
                rows = [r for r in rows if r.get(name) == query[name]]
        rows.sort(key=lambda r: (r[sort], r["id"]), reverse=direction == "desc")
        size = min(size, self.page_size)
        return _json(
            200,
            {
                "meta": {
                    "currentPage": page,
                    "totalPages": -(-len(rows) // size),
                    "totalItems": len(rows),
                    "rows": size,
                },
                "type": collection,
                "items": rows[(page - 1) * size : page * size],
            },
        )

    def _worksheet(self, request: ReceivedRequest) -> Reply:
        body = _body(request)
        if isinstance(body, Reply):
            return body
        contacts = body.pop("contacts", None) or []
        events = body.pop("events", None) or []
        people = [c.get("contact") for c in contacts if isinstance(c, dict)]
        invalid = {
            f"contacts.{n}": e
            for n, p in enumerate(people)
            for e in _invalid("contacts", p or {}).values()
        }
        if invalid:
            return _validation(invalid)
        job_id = self._create("jobs", body)
        for link, person in zip(contacts, people, strict=True):
            contact_id = self._create("contacts", dict(person or {}))
            self._create(
                "job_contacts",
                {"jobId": job_id, "contactId": contact_id, "client": bool(link.get("client"))},
            )
        for event in events:
            self._create("events", {**event, "jobId": job_id})
        return _json(201, {**self._tables["jobs"][job_id], "contacts": contacts, "events": events})

    def _create(self, kind: str, fields: dict[str, Any]) -> str:
        external_id = self._ulid()
        record: dict[str, Any] = {"id": external_id, "created": _stamp(self.now), "hidden": False}
        if kind == "contacts":
            record["kind"] = "person"
        self._write(record, fields)
        self._tables.setdefault(kind, {})[external_id] = record
        return external_id

    def _write(self, record: dict[str, Any], fields: Mapping[str, Any]) -> None:
        for name, value in fields.items():
            if name in ("id", "created", "modified", "links"):
                continue  # read-only in the document
            if isinstance(value, dict) and isinstance(record.get(name), dict):
                record[name] = {**record[name], **value}
            else:
                record[name] = value
        record["modified"] = _stamp(self.now)

    def _ulid(self) -> str:
        """48 bits of milliseconds, then a serial in place of randomness (sortable)."""
        number = (int(self.now.timestamp() * 1000) << 80) | next(self._serial)
        return "".join(_CROCKFORD[(number >> shift) & 31] for shift in range(125, -1, -5))


def _invalid(kind: str, record: Mapping[str, Any]) -> dict[str, str]:
    if kind == "hooks":
        problems = {}
        if record.get("event") not in _HOOK_EVENTS:
            problems["event"] = f"must be one of {', '.join(_HOOK_EVENTS)}"
        if not str(record.get("url", "")).startswith(("http://", "https://")):
            problems["url"] = "must be a URI"
        return problems
    if kind == "contacts" and record.get("kind", "person") not in (
        "person",
        "company",
        "location",
        "employee",
    ):
        return {"kind": "must be person, company, location or employee"}
    if (
        kind == "contacts"
        and "email" in record
        and record["email"] is not None
        and "@" not in str(record["email"])
    ):
        return {"email": "must be an email address"}
    return {}


def _body(request: ReceivedRequest) -> dict[str, Any] | Reply:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return _validation({"body": "is not JSON"})
    return body if isinstance(body, dict) else _validation({"body": "must be an object"})


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _flatten(item: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in item.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def _unflatten(fields: Mapping[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for name, value in fields.items():
        *parents, leaf = name.split(".")
        target = nested
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return nested


def _json(status: int, payload: Any) -> Reply:
    return Reply(status, {"Content-Type": "application/json"}, json.dumps(payload).encode())


def _error(
    status: int, type_: str, title: str, detail: Any, headers: Mapping[str, str] | None = None
) -> Reply:
    body = {
        "type": type_,
        "title": title or HTTPStatus(status).phrase,
        "detail": detail,
        "status": status,
    }
    reply = _json(status, body)
    return Reply(status, {**reply.headers, **(headers or {})}, reply.body)


def _validation(problems: Mapping[str, str]) -> Reply:
    return _error(400, "validation-error", "Validation Error", dict(problems))
