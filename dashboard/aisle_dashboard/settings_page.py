"""Settings: the studio's timezone, country and send window (owners change them, through
:class:`~aisle.services.studio_settings.StudioSettings`); its users and roles and API
tokens (admins, through :class:`~aisle.services.access.Access`: a new token is shown
once, on the answer to the form that made it); webhook endpoints disabled after a 410
(admins re-enable them, :class:`~aisle.services.webhook_endpoints.WebhookEndpoints`).

Every role sees the studio's settings; users, tokens and endpoints are listed to
admins only, as the API lists them. Controls are hidden from those who may not use
them, and the services refuse them anyway.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath

from aisle.domain.user import ROLES, Role, role_at_least
from aisle.services.access import Access
from aisle.services.errors import FieldError, Refused, config_error
from aisle.services.roles import ensure_role
from aisle.services.sessions import Session
from aisle.services.studio_settings import SendWindowIn, SettingsPatch, StudioSettings
from aisle.services.webhook_endpoints import WebhookEndpoints
from aisle_dashboard.acting import NOT_SIGNED_IN, REFUSALS, refusal, see
from aisle_dashboard.rendering import page
from aisle_dashboard.session import app_context, signed_in

__all__ = ["SETTINGS_HANDLERS"]

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _window(raw: Any) -> SendWindowIn | None:
    try:
        return msgspec.convert(raw, SendWindowIn) if raw else None
    except msgspec.ValidationError:
        return None  # set by hand in the database; the worker ignores it too


async def _settings_page(
    request: Request[Any, Any, Any],
    session: Session,
    *,
    status_code: int = 200,
    errors: list[str] | None = None,
    created: tuple[str, str] | None = None,
) -> Response[Any]:
    """The page; ``created`` is a new token's name and plain text, shown this once."""
    ctx = app_context(request)
    org = await ctx.require_store().organizations.get(session.organization.id)
    admin = role_at_least(session.role, "admin")
    endpoints = (
        await WebhookEndpoints(ctx.require_store(), session.scope, session).disabled()
        if admin
        else []
    )
    return page(
        request,
        "settings.html",
        status_code=status_code,
        session=session,
        active="settings",
        studio=org,
        window=_window(org.settings.get("send_window")),
        country=org.settings.get("country") or "",
        days=_DAYS,
        users=await session.scope.users.list() if admin else [],
        tokens=await session.scope.tokens.list() if admin else [],
        endpoints=endpoints,
        grantable=[r for r in ROLES if role_at_least(session.role, r)],
        me=session.user_id,
        my_token=session.token_id,
        errors=errors or [],
        created=created,
    )


def _lines(exc: Exception) -> list[str]:
    if isinstance(exc, Refused) and exc.errors:
        return [f"{e.field}: {e.message}" if e.field else e.message for e in exc.errors]
    return [refusal(exc)[1]]


def _role(form: FormMultiDict, field: str = "role") -> Role:
    value = str(form.get(field) or "")
    for role in ROLES:
        if role == value:
            return role
    raise Refused(
        422,
        f"{field}: {value!r} is not a role",
        errors=[FieldError(field=field, message=f"choose one of {', '.join(ROLES)}")],
    )


def _access(request: Request[Any, Any, Any], session: Session) -> Access:
    store = app_context(request).require_store()
    return Access(store, session.scope, session, token_id=session.token_id)


def _studio_patch(form: FormMultiDict) -> SettingsPatch:
    """The studio form as a patch: timezone and country always, the send window when
    its box is ticked (else none: messages go at any hour). A value that does not fit
    is refused naming its field, as the API names it."""
    window = None
    if form.get("window"):
        window = {
            "start": str(form.get("start") or ""),
            "end": str(form.get("end") or ""),
            "days": [str(d) for d in form.getall("days")],
        }
    country = str(form.get("country") or "").strip().upper()
    raw = {
        "timezone": str(form.get("timezone") or "").strip(),
        "country": country or None,
        "send_window": window,
    }
    try:
        return msgspec.convert(raw, SettingsPatch)
    except msgspec.ValidationError as exc:
        error = config_error(exc, "settings")
        field = (error.field or "settings").removeprefix("settings.")
        raise Refused(
            422,
            f"{field}: {error.message}",
            errors=[FieldError(field=field, message=error.message)],
        ) from None


async def _act(request: Request[Any, Any, Any], act: Any) -> Response[Any]:
    """Run ``act(session, form)``; back to the page when it went through, the page with
    the refusal when not."""
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    form = await request.form()
    try:
        created = await act(session, form)
    except REFUSALS as exc:
        status_code, _ = refusal(exc)
        return await _settings_page(request, session, status_code=status_code, errors=_lines(exc))
    if created is not None:
        return await _settings_page(request, session, status_code=201, created=created)
    return see("/settings")


@get("/settings", name="dashboard:settings")
async def settings(request: Request[Any, Any, Any]) -> Response[Any]:
    session = await signed_in(request)
    if session is None:
        return NOT_SIGNED_IN
    return await _settings_page(request, session)


@post("/settings/studio", name="dashboard:settings-studio", status_code=303)
async def change_studio(request: Request[Any, Any, Any]) -> Response[Any]:
    async def act(session: Session, form: FormMultiDict) -> None:
        ensure_role(session, "owner", "changing studio settings")
        ctx = app_context(request)
        studio = StudioSettings(
            ctx.require_runtime(), session.scope, session, settings=ctx.settings
        )
        await studio.change(_studio_patch(form))

    return await _act(request, act)


@post("/settings/users", name="dashboard:settings-user-add", status_code=303)
async def add_user(request: Request[Any, Any, Any]) -> Response[Any]:
    async def act(session: Session, form: FormMultiDict) -> None:
        email = str(form.get("email") or "").strip()
        if "@" not in email:
            raise Refused(
                422,
                "email: an address is needed",
                errors=[FieldError(field="email", message="an address like june@example.com")],
            )
        name = str(form.get("name") or "").strip()
        await _access(request, session).create_user(email=email, role=_role(form), name=name)

    return await _act(request, act)


@post("/settings/users/{user_id:str}/role", name="dashboard:settings-user-role", status_code=303)
async def change_role(request: Request[Any, Any, Any], user_id: FromPath[str]) -> Response[Any]:
    async def act(session: Session, form: FormMultiDict) -> None:
        await _access(request, session).set_role(user_id, _role(form))

    return await _act(request, act)


@post("/settings/users/{user_id:str}/disable", name="dashboard:settings-user-off", status_code=303)
async def disable_user(request: Request[Any, Any, Any], user_id: FromPath[str]) -> Response[Any]:
    async def act(session: Session, form: FormMultiDict) -> None:
        await _access(request, session).disable_user(user_id)

    return await _act(request, act)


@post("/settings/tokens", name="dashboard:settings-token-add", status_code=303)
async def create_token(request: Request[Any, Any, Any]) -> Response[Any]:
    async def act(session: Session, form: FormMultiDict) -> tuple[str, str]:
        name = str(form.get("name") or "").strip()
        if not name:
            raise Refused(
                422,
                "name: a token needs a name",
                errors=[FieldError(field="name", message="say what the token is for")],
            )
        token, plaintext = await _access(request, session).create_token(
            name=name[:200], role=_role(form)
        )
        return token.name, plaintext

    return await _act(request, act)


@post(
    "/settings/tokens/{token_id:str}/revoke",
    name="dashboard:settings-token-revoke",
    status_code=303,
)
async def revoke_token(request: Request[Any, Any, Any], token_id: FromPath[str]) -> Response[Any]:
    async def act(session: Session, form: FormMultiDict) -> None:
        await _access(request, session).revoke_token(token_id)

    return await _act(request, act)


@post(
    "/settings/webhooks/{endpoint_id:str}/enable",
    name="dashboard:settings-webhook-enable",
    status_code=303,
)
async def enable_endpoint(
    request: Request[Any, Any, Any], endpoint_id: FromPath[str]
) -> Response[Any]:
    async def act(session: Session, form: FormMultiDict) -> None:
        store = app_context(request).require_store()
        await WebhookEndpoints(store, session.scope, session).enable(endpoint_id)

    return await _act(request, act)


SETTINGS_HANDLERS = (
    settings,
    change_studio,
    add_user,
    change_role,
    disable_user,
    create_token,
    revoke_token,
    enable_endpoint,
)
