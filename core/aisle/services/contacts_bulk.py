"""Many contacts created or changed in one call, each matched, checked and answered alone.

A record finds its contact by ``id``, else by one of its ``external_ids`` (a CRM's id),
else by ``email``; none matching creates one. Every record is validated on its own
(its shape, emails, E.164 phones, timezone, dates) and a bad one fails alone with a
problem naming its index and field. What passes is written in multi-row statements in
one transaction, with the ``contact.created`` events of new contacts accepted in the
same commit and processed just after the call returns (in a background task; the
scheduler's event recovery should the process stop first). A change that moves
wake-ups (a wedding date; a timezone or custom field of a contact in a journey) goes
through :meth:`Runtime.update_contact` as a single PATCH does, so a date move needs
``confirm_date_change`` and pending steps are rescheduled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

import msgspec
from msgspec import UNSET, Meta, UnsetType

from aisle.contracts.log import LogKind
from aisle.domain.addresses import normalize_contact, phone_region
from aisle.domain.contact import Contact, Partner, merge_custom
from aisle.runtime import DateChangeNotConfirmed, Runtime
from aisle.services.errors import NAMED_FIELD, FieldError, Refused, date_change_refused, located
from aisle.services.roles import Actor, ensure_role
from aisle.storage.errors import NotFound
from aisle.storage.events import PendingEvent
from aisle.storage.store import OrgScope

__all__ = [
    "MAX_RECORDS",
    "ContactBatch",
    "ContactRecord",
    "OutcomeStatus",
    "PartnerRecord",
    "RecordOutcome",
]

MAX_RECORDS = 1000
"""Records one call may carry (a larger import is sent in several)."""

_ZONES = frozenset(available_timezones())
Email = Annotated[str, Meta(max_length=320)]
Phone = Annotated[str, Meta(max_length=40)]
Short = Annotated[str, Meta(max_length=200)]
Provider = Annotated[str, Meta(min_length=1, max_length=63, pattern=r"^[a-z][a-z0-9_]*$")]
ExternalId = Annotated[str, Meta(min_length=1, max_length=200)]
OutcomeStatus = Literal["created", "updated", "unchanged", "failed"]


class PartnerRecord(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    first_name: Short = ""
    last_name: Short = ""
    email: Email | None = None
    phone: Phone | None = None


class ContactRecord(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One contact to create or change. Only the fields given change; ``custom`` and
    ``external_ids`` are merged key by key (``null`` removes a custom key), so a record
    matched by one CRM's id keeps the others'."""

    id: Annotated[str, Meta(min_length=1, max_length=200)] | UnsetType = UNSET
    """Change this contact (it must exist); without it the record is matched by
    ``external_ids``, then ``email``, and creates a contact when nothing matches."""
    partners: Annotated[list[PartnerRecord], Meta(max_length=4)] | UnsetType = UNSET
    email: Email | UnsetType | None = UNSET
    phone: Phone | UnsetType | None = UNSET
    wedding_date: date | UnsetType | None = UNSET
    venue: Short | UnsetType | None = UNSET
    timezone: Short | UnsetType | None = UNSET
    """IANA name (``Europe/London``)."""
    custom: dict[str, Any] | UnsetType = UNSET
    external_ids: dict[Provider, ExternalId] | UnsetType = UNSET
    confirm_date_change: bool = False
    """Moving the wedding date (or a date a pending step counts from) must be confirmed."""


@dataclass(frozen=True, kw_only=True)
class RecordOutcome:
    """What became of record ``index``: ``problem`` is set when it ``failed``."""

    index: int
    status: OutcomeStatus
    id: str | None = None
    problem: Refused | None = None


class _Failed(Exception):
    def __init__(self, refusal: Refused) -> None:
        super().__init__(refusal.detail)
        self.refusal = refusal


def _fail(status: int, field: str | None, message: str, *, slug: str | None = None) -> _Failed:
    detail = f"{field}: {message}" if field else message
    return _Failed(
        Refused(status, detail, slug=slug, errors=[FieldError(message=message, field=field)])
    )


class _Plan(msgspec.Struct, kw_only=True):
    index: int
    record: ContactRecord
    contact: Contact
    old: Contact | None = None


class ContactBatch:
    """Upserts of the contacts of ``scope``, as ``actor`` (an editor or above)."""

    def __init__(self, runtime: Runtime, scope: OrgScope, actor: Actor) -> None:
        self.runtime = runtime
        self.scope = scope
        self.actor = actor

    async def upsert(self, records: Sequence[bytes | msgspec.Raw]) -> list[RecordOutcome]:
        """Each of ``records`` (one JSON object each) created, changed or failed, in order.

        :raises Refused: 403 below the editor role, 422 for more than
            :data:`MAX_RECORDS` records or none.
        """
        ensure_role(self.actor, "editor", "creating contacts")
        if not records:
            raise Refused(422, "the batch holds no records", errors=[FieldError(message="empty")])
        if len(records) > MAX_RECORDS:
            raise Refused(
                422,
                f"a batch holds at most {MAX_RECORDS} records; this one has {len(records)}",
                errors=[FieldError(message=f"more than {MAX_RECORDS} records")],
            )
        outcomes: dict[int, RecordOutcome] = {}
        checked: list[tuple[int, ContactRecord, Contact]] = []
        org = await self.runtime.organization(self.scope.org_id)
        region = phone_region(org.settings, self.runtime.settings.setting("sms_default_region"))
        for index, raw in enumerate(records):
            try:
                record = _decode(raw)
                checked.append((index, record, _checked(_given(record), region)))
            except _Failed as failed:
                outcomes[index] = _failure(index, failed)
        plans = await self._match(checked, outcomes)
        await self._write(plans, outcomes)
        return [outcomes[i] for i in range(len(records))]

    async def _match(
        self, checked: list[tuple[int, ContactRecord, Contact]], outcomes: dict[int, RecordOutcome]
    ) -> list[_Plan]:
        contacts = self.scope.contacts
        ids = [r.id for _, r, _ in checked if isinstance(r.id, str)]
        emails = [c.email for _, _, c in checked if c.email]
        found = {c.id: c for c in await contacts.find_many(ids=ids, emails=emails)}
        by_link: dict[tuple[str, str], Contact] = {}
        providers = {p for _, _, c in checked for p in c.external_ids}
        for provider in sorted(providers):
            wanted = [c.external_ids[provider] for _, _, c in checked if provider in c.external_ids]
            for linked in await contacts.find_many(external=(provider, wanted)):
                found[linked.id] = linked
                by_link[(provider, linked.external_ids[provider])] = linked
        by_email: dict[str, list[Contact]] = {}
        for contact in found.values():
            if contact.email:
                by_email.setdefault(contact.email, []).append(contact)

        plans: list[_Plan] = []
        claimed: dict[str, int] = {}
        """Contact ids, emails and external ids of this batch, by the record that took them."""
        for index, record, given in checked:
            try:
                old = _matching(record, given, found, by_link, by_email)
                keys = [f"email:{given.email}"] if old is None and given.email else []
                keys += [f"link:{p}:{x}" for p, x in given.external_ids.items()]
                if old is not None:
                    keys.append(f"id:{old.id}")
                for key in keys:
                    if key in claimed:
                        field = _claim_field(key)
                        raise _fail(
                            409, field, f"record {claimed[key]} of this batch already claims it"
                        )
                contact = _merged(old, record, given)
                for provider, external_id in given.external_ids.items():
                    owner = by_link.get((provider, external_id))
                    if owner is not None and (old is None or owner.id != old.id):
                        raise _fail(
                            409,
                            f"external_ids.{provider}",
                            f"{external_id!r} already belongs to contact {owner.id!r}",
                        )
            except _Failed as failed:
                outcomes[index] = _failure(index, failed)
                continue
            claimed.update(dict.fromkeys(keys, index))
            if old is not None and contact == old:
                outcomes[index] = RecordOutcome(index=index, status="unchanged", id=old.id)
                continue
            plans.append(_Plan(index=index, record=record, contact=contact, old=old))
        return plans

    async def _write(self, plans: list[_Plan], outcomes: dict[int, RecordOutcome]) -> None:
        scope = self.scope
        actor = self.actor.actor
        new = [p for p in plans if p.old is None]
        changed = [p for p in plans if p.old is not None]
        moving = {p.contact.id for p in changed if _moves_dates(p)}
        async with self.runtime.store.transaction():
            # Locked first, so no journey starts between reading who is enrolled and
            # writing past the runtime.
            await scope.contacts.lock_many([p.contact.id for p in changed])
            enrolled = await scope.contacts.enrolled([p.contact.id for p in changed])
            through_runtime = [
                p
                for p in changed
                if p.contact.id in moving or (p.contact.id in enrolled and _moves_wakeups(p))
            ]
            routed = {p.contact.id for p in through_runtime}
            plain = [p for p in changed if p.contact.id not in routed]
            created = await scope.contacts.insert_many([p.contact for p in new])
            await scope.contacts.update_many([p.contact for p in plain])
            await scope.log.append_many(
                [
                    dict(
                        kind=LogKind.CONTACT_CREATED,
                        message="contact created (batch)",
                        actor=actor,
                        contact_id=c.id,
                    )
                    for c in created
                ]
                + [
                    dict(
                        kind=LogKind.CONTACT_UPDATED,
                        message=f"changed {', '.join(fields)} (batch)",
                        actor=actor,
                        contact_id=p.contact.id,
                        data={"fields": fields},
                    )
                    for p in plain
                    for fields in [_changed_fields(p)]
                ]
            )
            await scope.events.accept_many(
                [
                    PendingEvent(
                        type="contact.created",
                        idempotency_key=f"contact.created:{c.id}",
                        contact_id=c.id,
                        payload={"contact_id": c.id},
                        source="api",
                    )
                    for c in created
                ]
            )
        for plan, contact in zip(new, created, strict=True):
            outcomes[plan.index] = RecordOutcome(index=plan.index, status="created", id=contact.id)
        for plan in plain:
            outcomes[plan.index] = RecordOutcome(
                index=plan.index, status="updated", id=plan.contact.id
            )
        for plan in through_runtime:
            outcomes[plan.index] = await self._update_one(plan)
        # Committed, so durable: journeys start in the background just after the answer
        # (the scheduler's event recovery, should this process stop first).
        self.runtime.after_commit.process(scope.org_id, [c.id for c in created])

    async def _update_one(self, plan: _Plan) -> RecordOutcome:
        try:
            saved = await self.runtime.update_contact(
                self.scope.org_id,
                plan.contact,
                confirm_date_change=plan.record.confirm_date_change,
                actor=self.actor.actor,
            )
        except DateChangeNotConfirmed as exc:
            refusal = date_change_refused(exc)
            return RecordOutcome(
                index=plan.index, status="failed", problem=_located(plan.index, refusal)
            )
        except NotFound as exc:  # deleted since it was matched
            return _failure(plan.index, _fail(404, "id", str(exc)))
        return RecordOutcome(index=plan.index, status="updated", id=saved.id)


def _decode(raw: bytes | msgspec.Raw) -> ContactRecord:
    try:
        record = msgspec.json.decode(raw, type=ContactRecord, strict=True)
        # A NUL can only arrive escaped; PostgreSQL cannot store it (nor, so that both
        # databases answer alike, does SQLite here).
        if b"\\u0000" in bytes(raw):
            where = _nul_at(msgspec.to_builtins(record), "")
            if where is not None:
                raise _fail(
                    400, where or None, "contains a NUL character (\\u0000)", slug="validation"
                )
    except msgspec.ValidationError as exc:
        message, field = located(str(exc))
        named = NAMED_FIELD.match(message)
        if named:
            field = f"{field}.{named.group(1)}" if field else named.group(1)
        raise _fail(400, field, message, slug="validation") from None
    except msgspec.DecodeError as exc:
        raise _fail(400, None, f"not valid JSON: {exc}", slug="invalid-json") from None
    except RecursionError:
        raise _fail(400, None, "nested too deeply", slug="too-deep") from None
    return record


def _nul_at(value: Any, path: str) -> str | None:
    """The path of the first string or key holding a NUL (``""`` for the record)."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, child in value.items():
            where = f"{path}.{key}" if path else str(key)
            if "\x00" in key:
                return where
            items.append((where, child))
    elif isinstance(value, list):
        items = [(f"{path}[{i}]", child) for i, child in enumerate(value)]
    for where, child in items:
        found = _nul_at(child, where)
        if found is not None:
            return found
    return None


def _given(record: ContactRecord) -> Contact:
    """The record's own values as a contact (what it does not give left empty)."""

    def value(name: str) -> Any:
        given = getattr(record, name)
        return None if given is UNSET else given

    partners = () if record.partners is UNSET else _partners(record.partners)
    custom = {} if record.custom is UNSET else record.custom
    return Contact(
        partners=partners,
        email=value("email"),
        phone=value("phone"),
        wedding_date=value("wedding_date"),
        venue=value("venue"),
        timezone=value("timezone"),
        custom=custom,
        external_ids={} if record.external_ids is UNSET else record.external_ids,
    )


def _partners(items: list[PartnerRecord]) -> tuple[Partner, ...]:
    return tuple(
        Partner(first_name=p.first_name, last_name=p.last_name, email=p.email, phone=p.phone)
        for p in items
    )


def _checked(given: Contact, region: str | None) -> Contact:
    if given.timezone is not None and given.timezone not in _ZONES:
        raise _fail(
            422, "timezone", f"{given.timezone!r} is not an IANA timezone (e.g. Europe/London)"
        )
    normalized, problems = normalize_contact(given, region)
    if problems:
        first = problems[0]
        code = "invalid_phone" if first.field.endswith("phone") else "invalid_email"
        raise _Failed(
            Refused(
                422,
                "; ".join(str(p) for p in problems),
                errors=[FieldError(message=p.reason, field=p.field, code=code) for p in problems],
            )
        )
    return normalized


def _matching(
    record: ContactRecord,
    given: Contact,
    found: dict[str, Contact],
    by_link: dict[tuple[str, str], Contact],
    by_email: dict[str, list[Contact]],
) -> Contact | None:
    if isinstance(record.id, str):
        if record.id not in found:
            raise _fail(404, "id", f"contact {record.id!r} not found")
        return found[record.id]
    linked = {
        c.id: c for p, x in given.external_ids.items() if (c := by_link.get((p, x))) is not None
    }
    if len(linked) > 1:
        raise _fail(
            409, "external_ids", f"the ids name different contacts: {', '.join(sorted(linked))}"
        )
    if linked:
        return next(iter(linked.values()))
    same_email = by_email.get(given.email, []) if given.email else []
    if len(same_email) > 1:
        raise _fail(
            409,
            "email",
            f"{len(same_email)} contacts have this email; name one by id or external_ids",
        )
    return same_email[0] if same_email else None


def _merged(old: Contact | None, record: ContactRecord, given: Contact) -> Contact:
    if old is None:
        return msgspec.structs.replace(given, custom=merge_custom({}, given.custom))
    changes: dict[str, Any] = {}
    for name in ("partners", "email", "phone", "wedding_date", "venue", "timezone"):
        if getattr(record, name) is not UNSET:
            changes[name] = getattr(given, name)
    if record.custom is not UNSET:
        changes["custom"] = merge_custom(old.custom, given.custom)
    if record.external_ids is not UNSET:
        changes["external_ids"] = {**old.external_ids, **given.external_ids}
    return msgspec.structs.replace(old, **changes)


def _moves_dates(plan: _Plan) -> bool:
    return plan.old is not None and plan.old.wedding_date != plan.contact.wedding_date


def _moves_wakeups(plan: _Plan) -> bool:
    old = plan.old
    return old is not None and (
        old.timezone != plan.contact.timezone or old.custom != plan.contact.custom
    )


def _changed_fields(plan: _Plan) -> list[str]:
    old = plan.old
    return sorted(
        f for f in plan.contact.__struct_fields__ if getattr(old, f) != getattr(plan.contact, f)
    )


def _claim_field(key: str) -> str:
    kind, _, rest = key.partition(":")
    if kind == "link":
        return f"external_ids.{rest.partition(':')[0]}"
    return "id" if kind == "id" else "email"


def _located(index: int, refusal: Refused) -> Refused:
    refusal.detail = f"record {index}: {refusal.detail}"
    return refusal


def _failure(index: int, failed: _Failed) -> RecordOutcome:
    return RecordOutcome(index=index, status="failed", problem=_located(index, failed.refusal))
