"""CRM connections: the studio's connections with their status and last sync; a new
one (its provider from the registry, its credential form generated from the provider's
credentials struct); one connection with its credentials tested, a sync started, its
run history and the field-mapping editor. All through :mod:`aisle.crm`, as the API's
``/crm`` routes call it; the services refuse what a role may not do."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, FromQuery

from aisle.crm.connections import ConnectionService, ConnectionTest
from aisle.crm.held import HeldChanges
from aisle.crm.runs import SyncRuns
from aisle.domain.crm_connection import CONFLICT_POLICIES, SyncDirection
from aisle.services.sessions import Session
from aisle_dashboard.acting import NOT_SIGNED_IN, REFUSALS, after, page_of, refusal, see
from aisle_dashboard.crm_common import credential_state, crm_deps, missing
from aisle_dashboard.crm_csv_page import CSV_HANDLERS
from aisle_dashboard.crm_forms import (
    credential_fields,
    mapping_rows,
    read_credentials,
    read_mapping,
)
from aisle_dashboard.crm_sync_pages import SYNC_HANDLERS
from aisle_dashboard.rendering import page
from aisle_dashboard.session import signed_in

__all__ = ["CRM_HANDLERS"]

_HISTORY = 20
_DIRECTIONS: tuple[SyncDirection, ...] = ("pull", "push", "both")


@get("/crm", name="dashboard:crm")
async def connections(request: Request[Any, Any, Any]) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    deps = crm_deps(request)
    found = await ConnectionService(deps, session.scope, session).list()
    held = await HeldChanges(deps, session.scope, session).list(limit=_HISTORY + 1)
    runs = await SyncRuns(deps, session.scope, session).history(limit=10)
    return page(
        request,
        "crm.html",
        session=session,
        active="crm",
        connections=found,
        names={c.id: c.name for c in found},
        held=len(held),
        held_more=len(held) > _HISTORY,
        runs=runs,
    )


async def _new_page(
    request: Request[Any, Any, Any],
    session: Session,
    provider: str,
    *,
    status_code: int = 200,
    error: str = "",
    given: dict[str, Any] | None = None,
) -> Response[Any]:
    registry = crm_deps(request).runtime.registry
    chosen = registry.crm_providers.get(provider)
    values = given or {}
    return page(
        request,
        "crm_new.html",
        status_code=status_code,
        session=session,
        active="crm",
        providers=sorted(registry.crm_providers.values(), key=lambda p: p.name),
        chosen=chosen,
        fields=credential_fields(chosen, values.get("credentials", {})) if chosen else [],
        directions=_DIRECTIONS,
        values=values,
        error=error,
    )


@get("/crm/new", name="dashboard:crm-new")
async def new_connection(
    request: Request[Any, Any, Any], provider: FromQuery[str] = ""
) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    return await _new_page(request, session, provider)


@post("/crm/new", name="dashboard:crm-create", status_code=303)
async def create_connection(request: Request[Any, Any, Any]) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    form = await request.form()
    deps = crm_deps(request)
    provider_name = str(form.get("provider") or "")
    given: dict[str, Any] = {
        "name": str(form.get("name") or ""),
        "direction": str(form.get("direction") or "pull"),
    }
    try:
        provider = deps.provider(provider_name)
        credentials, unread = read_credentials(provider, form)
        given["credentials"] = credentials
        if unread:
            return await _new_page(
                request,
                session,
                provider_name,
                status_code=422,
                error="; ".join(unread),
                given=given,
            )
        created = await ConnectionService(deps, session.scope, session).create(
            provider=provider_name,
            name=given["name"],
            credentials=credentials,
            direction=given["direction"],
        )
    except REFUSALS as exc:
        code, detail = refusal(exc)
        return await _new_page(
            request, session, provider_name, status_code=code, error=detail, given=given
        )
    return see(f"/crm/{created.id}")


async def _connection_page(
    request: Request[Any, Any, Any],
    connection_id: str,
    *,
    status_code: int = 200,
    error: str = "",
    tested: ConnectionTest | None = None,
    before: str = "",
) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    deps = crm_deps(request)
    try:
        connection = await ConnectionService(deps, session.scope, session).get(connection_id)
    except REFUSALS:
        return missing(request, session)
    found = await SyncRuns(deps, session.scope, session).history(
        connection_id=connection.id, limit=_HISTORY + 1, before=before or None
    )
    runs, next_cursor = page_of(found, _HISTORY, lambda r: r.id)
    held = await HeldChanges(deps, session.scope, session).list(connection_id=connection.id)
    filled, usable = await credential_state(deps, session, connection)
    provider = deps.runtime.registry.crm_providers.get(connection.provider)
    capabilities = provider.capabilities if provider else frozenset()
    return page(
        request,
        "crm_connection.html",
        status_code=status_code,
        session=session,
        active="crm",
        connection=connection,
        provider=provider,
        credentials_set=filled,
        credentials_usable=usable,
        pulls="pull" in capabilities and connection.direction != "push",
        csv_formats=(
            list(provider.csv_formats.values()) if provider and "csv_import" in capabilities else []
        ),
        runs=runs,
        next_page=after(request, before=next_cursor) if next_cursor else None,
        held=held,
        tested=tested,
        error=error,
    )


@get("/crm/{connection_id:str}", name="dashboard:crm-connection")
async def connection_detail(
    request: Request[Any, Any, Any], connection_id: FromPath[str], before: FromQuery[str] = ""
) -> Response[Any]:
    return await _connection_page(request, connection_id, before=before)


@post("/crm/{connection_id:str}/test", name="dashboard:crm-test", status_code=200)
async def test_connection(
    request: Request[Any, Any, Any], connection_id: FromPath[str]
) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    try:
        tried = await ConnectionService(crm_deps(request), session.scope, session).test(
            connection_id
        )
    except REFUSALS as exc:
        code, detail = refusal(exc)
        return await _connection_page(request, connection_id, status_code=code, error=detail)
    return await _connection_page(request, connection_id, tested=tried)


@post("/crm/{connection_id:str}/sync", name="dashboard:crm-sync", status_code=303)
async def sync_now(request: Request[Any, Any, Any], connection_id: FromPath[str]) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    try:
        run, _ = await SyncRuns(crm_deps(request), session.scope, session).request(connection_id)
    except REFUSALS as exc:
        code, detail = refusal(exc)
        return await _connection_page(request, connection_id, status_code=code, error=detail)
    return see(f"/crm/runs/{run.id}")


async def _mapping_page(
    request: Request[Any, Any, Any],
    session: Session,
    connection_id: str,
    *,
    status_code: int = 200,
    error: str = "",
) -> Response[Any]:
    try:
        connection = await ConnectionService(crm_deps(request), session.scope, session).get(
            connection_id
        )
    except REFUSALS:
        return missing(request, session)
    rows, patterns = mapping_rows(connection)
    return page(
        request,
        "crm_mapping.html",
        status_code=status_code,
        session=session,
        active="crm",
        connection=connection,
        rows=rows,
        patterns=", ".join(patterns),
        policies=CONFLICT_POLICIES,
        error=error,
    )


@get("/crm/{connection_id:str}/mapping", name="dashboard:crm-mapping")
async def mapping(request: Request[Any, Any, Any], connection_id: FromPath[str]) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    return await _mapping_page(request, session, connection_id)


@post("/crm/{connection_id:str}/mapping", name="dashboard:crm-mapping-save", status_code=303)
async def save_mapping(
    request: Request[Any, Any, Any], connection_id: FromPath[str]
) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    form = await request.form()
    try:
        rows = int(str(form.get("rows") or "0"))
    except ValueError:
        rows = 0
    field_mapping, conflicts, protected = read_mapping(form, rows)
    try:
        await ConnectionService(crm_deps(request), session.scope, session).update(
            connection_id, field_mapping=field_mapping, conflicts=conflicts, protected=protected
        )
    except REFUSALS as exc:
        code, detail = refusal(exc)
        return await _mapping_page(request, session, connection_id, status_code=code, error=detail)
    return see(f"/crm/{connection_id}")


CRM_HANDLERS = (
    connections,
    new_connection,
    create_connection,
    *SYNC_HANDLERS,
    *CSV_HANDLERS,
    connection_detail,
    test_connection,
    sync_now,
    mapping,
    save_mapping,
)
