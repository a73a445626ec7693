"""Contacts (the couples): create, read, search, update (a wedding date needs
confirmation), soft delete."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from zoneinfo import available_timezones

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import UNSET, Meta, UnsetType

from aisle.api.context import ApiCall
from aisle.api.deps import Call
from aisle.api.pages import Cursor, Limit, QuerySearch, page_of
from aisle.domain.addresses import normalize_contact, phone_region
from aisle.domain.contact import Contact, Partner, merge_custom
from aisle.services.errors import FieldError, Refused
from aisle.services.roles import ensure_role

__all__ = ["ContactController", "ContactOut", "contact_out"]

# Checked and normalised by aisle.domain.addresses (as the email and SMS actions
# check them), so only a length bound here.
Email = Annotated[str, Meta(max_length=320)]
Phone = Annotated[str, Meta(max_length=40)]
Short = Annotated[str, Meta(max_length=200)]
Provider = Annotated[str, Meta(min_length=1, max_length=63, pattern=r"^[a-z][a-z0-9_]*$")]
_ZONES = frozenset(available_timezones())


class PartnerIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    first_name: Short = ""
    last_name: Short = ""
    email: Email | None = None
    phone: Phone | None = None


class ContactIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    partners: Annotated[list[PartnerIn], Meta(max_length=4)] = []
    email: Email | None = None
    phone: Phone | None = None
    wedding_date: date | None = None
    venue: Short | None = None
    timezone: Short | None = None
    """IANA name (``Europe/London``); date triggers use it before the studio's."""
    custom: dict[str, Any] = {}
    external_ids: dict[Provider, Annotated[str, Meta(min_length=1, max_length=200)]] = {}


class ContactPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Only the fields given change; ``custom`` is merged key by key (``null`` removes)."""

    partners: Annotated[list[PartnerIn], Meta(max_length=4)] | UnsetType = UNSET
    email: Email | UnsetType | None = UNSET
    phone: Phone | UnsetType | None = UNSET
    wedding_date: date | UnsetType | None = UNSET
    venue: Short | UnsetType | None = UNSET
    timezone: Short | UnsetType | None = UNSET
    custom: dict[str, Any] | UnsetType = UNSET
    external_ids: dict[Provider, Annotated[str, Meta(min_length=1, max_length=200)]] | UnsetType = (
        UNSET
    )
    confirm_date_change: bool = False
    """Changing ``wedding_date`` moves date-relative steps: it must be confirmed."""


class ContactOut(msgspec.Struct, kw_only=True):
    id: str
    partners: list[Partner]
    email: str | None
    phone: str | None
    wedding_date: date | None
    venue: str | None
    timezone: str | None
    custom: dict[str, Any]
    external_ids: dict[str, str]


class ContactPage(msgspec.Struct, kw_only=True):
    items: list[ContactOut]
    next_cursor: str | None


def contact_out(contact: Contact) -> ContactOut:
    return ContactOut(
        id=contact.id,
        partners=list(contact.partners),
        email=contact.email,
        phone=contact.phone,
        wedding_date=contact.wedding_date,
        venue=contact.venue,
        timezone=contact.timezone,
        custom=contact.custom,
        external_ids=contact.external_ids,
    )


def _partners(items: list[PartnerIn]) -> tuple[Partner, ...]:
    return tuple(
        Partner(first_name=p.first_name, last_name=p.last_name, email=p.email, phone=p.phone)
        for p in items
    )


def _check_timezone(zone: str | None) -> None:
    if zone is not None and zone not in _ZONES:
        raise Refused(
            422,
            f"timezone: {zone!r} is not an IANA timezone (e.g. Europe/London)",
            errors=[FieldError(message="unknown timezone", field="timezone")],
        )


async def _normalized(call: ApiCall, contact: Contact, given: set[str] | None = None) -> Contact:
    """``contact`` with its emails and phones normalised (E.164); a 422 naming every
    one that is not usable. ``given``: the fields a patch sets (others are not judged)."""
    org = await call.runtime.organization(call.caller.organization_id)
    region = phone_region(org.settings, call.ctx.settings.setting("sms_default_region"))
    normalized, problems = normalize_contact(contact, region)
    if given is not None:
        problems = [p for p in problems if p.field.partition("[")[0].partition(".")[0] in given]
    if problems:
        raise Refused(
            422,
            "; ".join(str(p) for p in problems),
            errors=[
                FieldError(
                    message=p.reason,
                    field=p.field,
                    code="invalid_phone" if p.field.endswith("phone") else "invalid_email",
                )
                for p in problems
            ],
        )
    return normalized


async def _check_external_ids(call: ApiCall, ids: dict[str, str], own_id: str | None) -> None:
    for provider, external_id in ids.items():
        other = await call.scope.contacts.by_external_id(provider, external_id)
        if other is not None and other.id != own_id:
            raise Refused(
                409,
                f"external_ids.{provider}: {external_id!r} already belongs to contact {other.id!r}",
                errors=[FieldError(message="taken", field=f"external_ids.{provider}")],
            )


class ContactController(Controller):
    path = "/contacts"
    tags = ["contacts"]

    @get("/", summary="List or search contacts")
    async def list_contacts(
        self,
        call: Call,
        limit: Limit = 50,
        cursor: Cursor = None,
        q: QuerySearch = None,
    ) -> ContactPage:
        """``q`` matches names, emails, phones and venue (case-insensitive)."""
        contacts = await call.scope.contacts.list(limit=limit + 1, after=cursor, search=q or None)
        page, next_cursor = page_of(contacts, limit, lambda c: c.id)
        return ContactPage(items=[contact_out(c) for c in page], next_cursor=next_cursor)

    @post("/", summary="Create a contact (emits contact.created)", status_code=HTTP_201_CREATED)
    async def create_contact(self, call: Call, data: JSONBody[ContactIn]) -> ContactOut:
        ensure_role(call.caller, "editor", "creating a contact")
        _check_timezone(data.timezone)
        await _check_external_ids(call, data.external_ids, None)
        contact = Contact(
            partners=_partners(data.partners),
            email=data.email,
            phone=data.phone,
            wedding_date=data.wedding_date,
            venue=data.venue,
            timezone=data.timezone,
            custom=data.custom,
            external_ids=data.external_ids,
        )
        contact = await _normalized(call, contact)
        created = await call.runtime.create_contact(
            call.caller.organization_id, contact, actor=call.caller.actor
        )
        return contact_out(created)

    @get("/{contact_id:str}", summary="Read a contact")
    async def get_contact(self, call: Call, contact_id: FromPath[str]) -> ContactOut:
        return contact_out(await call.scope.contacts.get(contact_id))

    @patch("/{contact_id:str}", summary="Change a contact")
    async def patch_contact(
        self, call: Call, contact_id: FromPath[str], data: JSONBody[ContactPatch]
    ) -> ContactOut:
        contact = await call.scope.contacts.get(contact_id)
        ensure_role(call.caller, "editor", "changing a contact")
        changes: dict[str, Any] = {}
        for name in ("email", "phone", "wedding_date", "venue", "timezone"):
            value = getattr(data, name)
            if value is not UNSET:
                changes[name] = value
        if data.partners is not UNSET:
            changes["partners"] = _partners(data.partners)
        if data.custom is not UNSET:
            changes["custom"] = merge_custom(contact.custom, data.custom)
        if data.external_ids is not UNSET:
            await _check_external_ids(call, data.external_ids, contact.id)
            changes["external_ids"] = data.external_ids
        _check_timezone(changes.get("timezone"))
        updated = await _normalized(call, msgspec.structs.replace(contact, **changes), set(changes))
        saved = await call.runtime.update_contact(
            call.caller.organization_id,
            updated,
            confirm_date_change=data.confirm_date_change,
            actor=call.caller.actor,
        )
        return contact_out(saved)

    @delete("/{contact_id:str}", summary="Delete a contact (soft)", status_code=HTTP_204_NO_CONTENT)
    async def delete_contact(self, call: Call, contact_id: FromPath[str]) -> None:
        contact = await call.scope.contacts.get(contact_id)
        ensure_role(call.caller, "admin", "deleting a contact")
        # Soft: the contact can be restored; their active enrollments are exited (logged).
        await call.runtime.delete_contact(
            call.caller.organization_id, contact.id, actor=call.caller.actor
        )
