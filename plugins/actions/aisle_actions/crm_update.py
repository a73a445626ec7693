"""The ``crm_update`` executor: push field changes to the contact's record in the CRM.

It goes through the CRM provider hook: the studio's connection (from
:meth:`~aisle.ActionServices.crm_connection`) names a provider whose client gets the
decrypted credentials and an HTTP client from :func:`aisle.http_client`. Field names
are mapped with the connection's field mapping; values are templates over the wedding
context. Every request carries the run's ``Idempotency-Key``; a push that succeeded is
remembered so a repeated run does not push again, and the id of a record created for a
contact that had none is remembered so later updates go to that record.
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import msgspec

from aisle import (
    ActionContext,
    ActionExecutor,
    ActionResult,
    CheckContext,
    ConfigProblem,
    DestinationRefused,
    PermanentError,
    RateLimited,
    RetryableError,
    http_client,
    run_bounded,
)
from aisle_actions.configs import decode_config
from aisle_actions.http_errors import error_for_exception, error_for_status
from aisle_actions.templates import render_fields
from aisle_actions.wedding_context import wedding_context

__all__ = ["EXECUTOR", "CrmUpdateConfig", "check", "execute"]

NAME = "crm_update"


class CrmUpdateConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``fields`` maps Aisle field names to values (templates); ``provider`` picks the
    connection when the studio has several; ``kind`` is the remote record kind."""

    fields: dict[str, str] = {}
    provider: str | None = None
    kind: Annotated[str, msgspec.Meta(min_length=1)] = "contacts"


def _record_key(provider: str, contact_id: str, kind: str) -> str:
    return f"record:{provider}:{kind}:{contact_id}"


async def execute(ctx: ActionContext) -> ActionResult:
    """Push the rendered, mapped fields through the provider's client."""
    config = decode_config(ctx.config, CrmUpdateConfig, NAME)
    if not config.fields:
        raise PermanentError("crm_update config field 'fields': name at least one field")
    services = ctx.services
    pushed = await services.recall(f"pushed:{ctx.idempotency_key}")
    if pushed is not None:
        return ActionResult(detail={**pushed, "deduplicated": True})
    access = await services.crm_connection(config.provider)
    wanted = f" for provider {config.provider!r}" if config.provider else ""
    if access is None:
        raise PermanentError(f"crm_update: the studio has no enabled CRM connection{wanted}")
    provider = access.provider
    pusher = provider.client if "push" in provider.capabilities else None
    if pusher is None and "csv_export" not in provider.capabilities:
        raise PermanentError(f"crm_update: CRM provider {provider.name!r} cannot push records")
    if access.direction == "pull":
        raise PermanentError(
            f"crm_update: CRM connection {access.connection_id} only pulls; set its "
            "direction to push or both"
        )
    if config.kind not in provider.push_kinds:
        raise PermanentError(
            f"crm_update config field 'kind': CRM provider {provider.name!r} takes "
            f"{', '.join(provider.push_kinds)}, not {config.kind!r}"
        )
    context = wedding_context(ctx.contact, ctx.studio, ctx.now)
    # Templates are user code: rendered off the event loop, under time and memory bounds.
    sources = {f"fields.{name}": value for name, value in config.fields.items()}
    rendered = await run_bounded(render_fields, sources, context, organization=ctx.organization_id)
    if pusher is None:
        return await _queue_for_export(ctx, access.connection_id, provider.name, config, rendered)
    fields = {
        access.field_mapping.get(name, name): rendered[f"fields.{name}"] for name in config.fields
    }
    contact_id = str(ctx.contact.get("id") or "")
    record_key = _record_key(provider.name, contact_id, config.kind)
    external_id = access.external_id
    if external_id is None and contact_id:
        created = await services.recall(record_key)
        external_id = str(created["external_id"]) if created else None
    what = f"CRM {provider.name}"
    async with http_client(
        timeout=20.0,
        allow=services.setting("http_allow"),
        hosts=services.setting("http_hosts"),
        headers={"Idempotency-Key": ctx.idempotency_key},
    ) as http:
        client = pusher(access.credentials, http)
        try:
            result_id = await client.push_record(config.kind, external_id, fields)
        except RateLimited as exc:
            raise RetryableError(f"{what} is rate limiting", retry_after=exc.retry_after) from None
        except httpx.HTTPStatusError as exc:
            raise (error_for_status(exc.response, what, ctx.now) or exc) from None
        except (httpx.HTTPError, DestinationRefused) as exc:
            raise (error_for_exception(exc, what) or exc) from None
    if external_id is None and contact_id:
        await services.remember(record_key, {"external_id": result_id})
    detail: dict[str, Any] = {
        "connection_id": access.connection_id,
        "provider": provider.name,
        "kind": config.kind,
        "external_id": result_id,
        "created": external_id is None,
        "fields": sorted(fields),
    }
    await services.remember(f"pushed:{ctx.idempotency_key}", detail)
    return ActionResult(detail=detail)


def check(config: Any, context: CheckContext) -> list[ConfigProblem]:
    """Refused at publish as a run would be refused: the connection the run would use
    (the studio's first enabled one, of ``provider`` when named) must push or export
    records of ``kind``."""
    wanted = f" for provider {config.provider!r}" if config.provider else ""
    chosen = next(
        (c for c in context.crm_connections if config.provider in (None, c.provider)), None
    )
    if chosen is None:
        return [
            ConfigProblem(
                message=f"the studio has no enabled CRM connection{wanted}; connect one first",
                field="provider" if config.provider else None,
            )
        ]
    if not {"push", "csv_export"} & chosen.capabilities:
        return [
            ConfigProblem(
                message=f"CRM provider {chosen.provider!r} cannot push records",
                field="provider" if config.provider else None,
            )
        ]
    if chosen.direction == "pull":
        return [
            ConfigProblem(
                message=f"the studio's {chosen.provider} connection only pulls; set its "
                "direction to push or both"
            )
        ]
    if config.kind not in chosen.push_kinds:
        return [
            ConfigProblem(
                message=f"CRM provider {chosen.provider!r} takes "
                f"{', '.join(chosen.push_kinds) or 'no records'}, not {config.kind!r}",
                field="kind",
            )
        ]
    return []


async def _queue_for_export(
    ctx: ActionContext,
    connection_id: str,
    provider: str,
    config: CrmUpdateConfig,
    rendered: dict[str, str],
) -> ActionResult:
    """A CRM that takes files, not pushes: keep the change (Aisle field names) for the
    connection's next CSV export, which writes and then forgets it (aisle.crm.csv_export
    reads ``csv-export:<connection id>:<contact id>``)."""
    contact_id = str(ctx.contact.get("id") or "")
    if not contact_id:
        raise PermanentError("crm_update: a CSV export needs the run's contact")
    key = f"csv-export:{connection_id}:{contact_id}"
    queued = await ctx.services.recall(key)
    fields = dict((queued or {}).get("fields") or {})
    fields.update({name: rendered[f"fields.{name}"] for name in config.fields})
    await ctx.services.remember(key, {"fields": fields})
    detail: dict[str, Any] = {
        "connection_id": connection_id,
        "provider": provider,
        "kind": config.kind,
        "queued_for_export": True,
        "fields": sorted(config.fields),
    }
    await ctx.services.remember(f"pushed:{ctx.idempotency_key}", detail)
    return ActionResult(detail=detail)


EXECUTOR = ActionExecutor(
    name=NAME,
    label="Update CRM",
    description="Push field changes to the contact's record in the studio's CRM.",
    execute=execute,
    config=CrmUpdateConfig,
    check=check,
    max_attempts=6,
    timeout_seconds=60.0,
)
