"""The Workspace API v2 client the sync engine drives (``CRMClient``).

Listings read ``page``/``pageSize`` pages of the ``meta`` envelope, newest change
first (``sortBy=modified desc``): the document offers no updated-since filter, so an
incremental listing reads from the top and stops at the first record older than the
stored cursor (the newest ``modified`` of the previous run). Records modified while a
listing runs move to the top and are read again next time, never lost; a record
deleted while a listing runs shifts the pages and can hide one record from that run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import msgspec

from aisle import ExternalRecord, Page
from aisle_crm_tave.couples import Couples
from aisle_crm_tave.credentials import Credentials
from aisle_crm_tave.errors import TaveError, TaveNotFound, raise_for_answer
from aisle_crm_tave.records import flatten, timestamp, unflatten

__all__ = ["KINDS", "PAGE_SIZE", "Kind", "TaveClient"]

PAGE_SIZE = 100
"""The most the document allows per page (``pageSize`` 10 to 100)."""


@dataclass(frozen=True)
class Kind:
    """A kind of record the engine names, and where the API keeps it."""

    path: str
    params: Mapping[str, str]
    """Filters every listing sends (jobs: open ones; the document's defaults otherwise)."""


KINDS: Mapping[str, Kind] = {
    "contacts": Kind("/address-book", {}),
    "jobs": Kind("/job", {}),
    "events": Kind("/event", {}),
    "orders": Kind("/order", {}),
    "payments": Kind("/payment", {}),
}


class _Cursor(msgspec.Struct, frozen=True, omit_defaults=True):
    """Where a listing stands: its page, the change it reads back to, the newest seen.

    ``strict`` says the newest change was older than the second the listing began in
    (the answer's ``Date``), so the next run needs only what is newer; otherwise that
    second may still have changes to come and is read again.
    """

    page: int = 1
    since: str | None = None
    newest: str | None = None
    strict: bool = False


class TaveClient:
    """Lists, fetches and pushes records and manages REST hooks for one studio."""

    def __init__(self, credentials: Credentials, http: httpx.AsyncClient) -> None:
        self._credentials = credentials
        self._http = http
        self._couples = Couples(self._get, self._every_page)
        self._currency: str | None = None

    def __repr__(self) -> str:
        return f"TaveClient(base_url={self._credentials.base_url!r})"

    # -- CRMClient ------------------------------------------------------------------

    async def list_records(self, kind: str, cursor: str | None) -> Page:
        where = _kind(kind)
        at = msgspec.json.decode(cursor, type=_Cursor) if cursor else _Cursor()
        response = await self._request(
            "GET",
            where.path,
            params={
                **where.params,
                "page": at.page,
                "pageSize": PAGE_SIZE,
                "sortBy": "modified desc",
            },
        )
        body = _object(response)
        items = [item for item in body.get("items") or [] if isinstance(item, Mapping)]
        meta = body.get("meta") or {}
        if at.page == 1 and items:
            at = msgspec.structs.replace(
                at,
                newest=items[0].get("modified"),
                strict=_before(items[0].get("modified"), response.headers.get("Date")),
            )
        newest = at.newest
        fresh = [item for item in items if not _older(item, at.since, strict=at.strict)]
        done = len(fresh) < len(items) or int(meta.get("currentPage") or at.page) >= int(
            meta.get("totalPages") or 0
        )
        records = await self._shape(kind, fresh)
        following = msgspec.structs.replace(at, page=at.page + 1)
        resume = _Cursor(since=newest, strict=at.strict) if newest else _Cursor(since=at.since)
        return Page(
            records=records,
            next_cursor=None if done else msgspec.json.encode(following).decode(),
            total=meta.get("totalItems") if at.since is None else None,
            cursor=msgspec.json.encode(resume).decode() if done and resume.since else None,
        )

    async def fetch_record(self, kind: str, external_id: str) -> ExternalRecord:
        item = await self._get(f"{_kind(kind).path}/{external_id}", {})
        if kind == "payments":
            item = {**item, "currencyCode": await self._studio_currency()}
        records = await self._shape(kind, [item], fetched=True)
        if not records:
            raise TaveNotFound(404, "unknown", "Not a couple", f"{kind} {external_id}")
        return records[0]

    async def push_record(
        self, kind: str, external_id: str | None, fields: Mapping[str, Any]
    ) -> str:
        if kind != "contacts":
            raise ValueError(f"Tave takes pushed contacts only, not {kind!r}")
        body = {**unflatten(fields), "kind": "person"}
        if external_id is None:
            created = await self._call("POST", "/address-book", json=body)
            return str(created["id"])
        await self._call("PUT", f"/address-book/{external_id}", json=body)
        return external_id

    async def subscribe(self, target_url: str, events: Sequence[str]) -> list[str]:
        ids: list[str] = []
        try:
            for event in events:
                hook = await self._call(
                    "POST", "/rest-hook", json={"event": event, "url": target_url}
                )
                ids.append(str(hook["id"]))
        except BaseException:
            await self.unsubscribe(ids)  # all or nothing: no half-subscribed connection
            raise
        return ids

    async def unsubscribe(self, subscription_ids: Sequence[str]) -> None:
        for hook_id in subscription_ids:
            try:
                await self._call("DELETE", f"/rest-hook/{hook_id}")
            except TaveNotFound:
                continue  # already removed in Tave: the goal is reached

    # -- helpers --------------------------------------------------------------------

    async def _shape(
        self, kind: str, items: Sequence[Mapping[str, Any]], *, fetched: bool = False
    ) -> list[ExternalRecord]:
        """Records with their couple's contact ids; contacts that are no couple are left out."""
        if kind == "contacts":
            items = [item for item in items if _is_couple_member(item)]
            links: Mapping[str, tuple[str, ...]] = {}
        else:
            if kind == "jobs":
                self._couples.note_jobs(items)
            job_of = {str(item["id"]): _job_id(kind, item) for item in items}
            links = await self._couples.of_jobs(j for j in job_of.values() if j)
        records = []
        for item in items:
            contact_ids: tuple[str, ...] = ()
            if kind != "contacts":
                job_id = _job_id(kind, item)
                speaks = kind != "events" or fetched or await self._couples.speaks_for_couple(item)
                contact_ids = links.get(job_id, ()) if job_id and speaks else ()
            records.append(
                ExternalRecord(
                    id=str(item["id"]),
                    kind=kind,
                    fields=flatten(item),
                    updated_at=timestamp(item.get("modified")),
                    contact_ids=contact_ids,
                )
            )
        return records

    async def _studio_currency(self) -> str | None:
        if self._currency is None:
            studio = await self._get("/studio/me", {})
            self._currency = studio.get("currencyCode") or None
        return self._currency

    async def _every_page(self, path: str, params: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        items: list[Mapping[str, Any]] = []
        page = 1
        while True:
            body = await self._get(
                path, {**params, "page": page, "pageSize": PAGE_SIZE, "sortBy": "id"}
            )
            items.extend(item for item in body.get("items") or [] if isinstance(item, Mapping))
            meta = body.get("meta") or {}
            if int(meta.get("currentPage") or page) >= int(meta.get("totalPages") or 0):
                return items
            page += 1

    async def _get(self, path: str, params: Mapping[str, Any]) -> Any:
        return await self._call("GET", path, params=dict(params))

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return _object(await self._request(method, path, **kwargs))

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self._http.request(
            method,
            f"{self._credentials.base_url.rstrip('/')}{path}",
            headers={"X-API-KEY": self._credentials.api_key, "Accept": "application/json"},
            **kwargs,
        )
        raise_for_answer(response)
        return response


def _object(response: httpx.Response) -> dict[str, Any]:
    if response.status_code == 204 or not response.content:
        return {}
    body = response.json()
    if not isinstance(body, dict):
        raise TaveError(response.status_code, "unknown", "Unexpected answer", "not an object")
    return body


def _kind(kind: str) -> Kind:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"Tave has no {kind!r} records; known: {', '.join(KINDS)}") from None


def _older(item: Mapping[str, Any], since: str | None, *, strict: bool) -> bool:
    """Whether ``item`` was read by the run that stored ``since``."""
    if since is None:
        return False
    modified, limit = timestamp(item.get("modified")), timestamp(since)
    if modified is None or limit is None:
        return False
    return modified <= limit if strict else modified < limit


def _before(modified: Any, date: str | None) -> bool:
    """Whether ``modified`` is in an earlier second than the server's ``Date``."""
    changed = timestamp(modified)
    if changed is None or not date:
        return False
    try:
        now = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        return False
    return now.tzinfo is not None and changed < now.replace(microsecond=0)


def _is_couple_member(contact: Mapping[str, Any]) -> bool:
    """People only; vendors (a default job role) are not couples."""
    return contact.get("kind", "person") == "person" and not contact.get("vendorRoleId")


def _job_id(kind: str, item: Mapping[str, Any]) -> str | None:
    job_id = item["id"] if kind == "jobs" else item.get("jobId")
    return str(job_id) if job_id else None
