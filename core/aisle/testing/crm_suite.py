"""``CRMProviderSuite``: the contract every CRM provider keeps, checked against its fake.

The sync engine drives providers it knows nothing about, so the suite checks what it
relies on: listings page to the end, every mapped field is read and written, a ``429``
becomes :class:`~aisle.RateLimited` with the delay the remote asked for, wrong
credentials are an error (never an empty CRM), webhooks verify and reject, and no
credential reaches a log line, an error or a ``repr``.

What a provider does not declare in ``CRMProvider.capabilities`` is skipped with that
reason; a provider's fake drives the rest through the :class:`FakeRemote` protocol
(:class:`~aisle.testing.fake_crm.FakeCRMServer` implements it for typical REST APIs)::

    class TestMyCRM(CRMProviderSuite):
        @pytest.fixture
        def provider(self):
            return MY_CRM

        @pytest.fixture
        def fake(self):
            with FakeCRMServer(api_key="k-123", page_size=5) as server:
                yield server

        @pytest.fixture
        def credentials(self, fake):
            return {"api_key": "k-123", "base_url": fake.url}
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, ClassVar, Protocol

import httpx
import msgspec
import pytest
import pytest_asyncio

from aisle.contracts.crm import (
    CRM_CAPABILITIES,
    CRMClient,
    CRMProvider,
    ExternalRecord,
    InboundEvent,
    RateLimited,
)
from aisle.domain.contact import Contact, Partner
from aisle.testing.config_schema import parse_config
from aisle.testing.registration_suite import STRICT_CONFIG, RegistrationSuite
from aisle.testing.requirements import requires
from aisle.testing.secrets import SECRET_NAME, leaks, secret_values

__all__ = ["PROVIDER_CAPABILITIES", "CRMProviderSuite", "FakeRemote", "is_contact_field"]

PROVIDER_CAPABILITIES: Mapping[str, str] = CRM_CAPABILITIES
"""What a provider may declare in ``CRMProvider.capabilities``."""

_MAX_PAGES = 1000
# Every capability but subscriptions moves records (subscriptions only arrange webhooks).
_WAYS = frozenset(CRM_CAPABILITIES) - {"subscriptions"}


class FakeRemote(Protocol):
    """How the suite drives a provider's fake server."""

    page_size: int
    """The most records the fake returns in one page."""

    def seed(self, kind: str, records: Sequence[Mapping[str, Any]]) -> list[str]:
        """Store ``records`` (remote field names) as existing records; return their ids."""
        ...

    def stored(self, kind: str, external_id: str) -> Mapping[str, Any] | None:
        """The record as the remote holds it now (remote field names), or ``None``."""
        ...

    def rate_limit(self, times: int = 1, retry_after: int = 7) -> None:
        """Answer the next ``times`` requests with 429 and ``Retry-After: retry_after``."""
        ...

    # A provider claiming ``subscriptions`` gives its fake one more member,
    # ``subscribed() -> Mapping[str, tuple[str, str]]``: the hooks the CRM holds, by id,
    # as ``(event, url)``.


_CONTACT_FIELDS = frozenset(
    f.name for f in msgspec.structs.fields(Contact) if f.name not in ("id", "partners", "custom")
) - {"external_ids"}
_PARTNER_FIELDS = frozenset(f.name for f in msgspec.structs.fields(Partner))
_CUSTOM = re.compile(r"^custom\.[A-Za-z_][A-Za-z0-9_]*$")
_PARTNER = re.compile(r"^partners\.([01])\.([a-z_]+)$")


def is_contact_field(path: str) -> bool:
    """Whether ``path`` names an Aisle contact field a mapping may use.

    ``email``, ``wedding_date``…, ``partners.0.first_name`` (0 or 1), ``custom.<name>``.
    """
    if path in _CONTACT_FIELDS or _CUSTOM.match(path):
        return True
    partner = _PARTNER.match(path)
    return partner is not None and partner.group(2) in _PARTNER_FIELDS


def _contact_field_help() -> str:
    return (
        f"{', '.join(sorted(_CONTACT_FIELDS))}, partners.0.<{'|'.join(sorted(_PARTNER_FIELDS))}>"
        ", partners.1.<…> or custom.<name>"
    )


class CRMProviderSuite(RegistrationSuite):
    """Subclass in a test module; override ``provider``, ``fake``, ``credentials`` and,
    for webhooks, ``webhook_secret`` and ``webhook_request``."""

    kind: ClassVar[str] = "CRM provider"
    registry_table: ClassVar[str] = "crm_providers"
    capabilities: ClassVar[Mapping[str, str]] = {
        "strict_config": STRICT_CONFIG,
        **PROVIDER_CAPABILITIES,
        "rate_limits": "the remote answers 429 with Retry-After and the client says so",
        "webhook_signatures": (
            "webhooks are signed: a forged, tampered or unsigned one is rejected"
        ),
        "thin_webhooks": (
            "webhooks carry only a record's id (InboundEvent.fetch_kind): the engine fetches "
            "the record with CRMClient.fetch_record"
        ),
    }

    def declined(self, capability: str, registration: Any) -> str | None:
        if capability in PROVIDER_CAPABILITIES and capability not in registration.capabilities:
            return (
                f"not declared in CRMProvider.capabilities (it {PROVIDER_CAPABILITIES[capability]})"
            )
        return super().declined(capability, registration)

    # -- fixtures a plugin's test class overrides -----------------------------------

    @pytest.fixture
    def provider(self) -> CRMProvider:
        """The :class:`~aisle.CRMProvider` under test."""
        pytest.fail(
            "override the `provider` fixture in your test class to return the CRMProvider "
            "under test"
        )

    @pytest.fixture
    def registration(self, provider: CRMProvider) -> CRMProvider:
        return provider

    @pytest.fixture
    def config_type(self, provider: CRMProvider) -> type[msgspec.Struct]:
        return provider.credentials

    @pytest.fixture
    def fake(self) -> FakeRemote:
        """The provider's fake server (see :class:`FakeRemote`)."""
        pytest.fail(
            "override the `fake` fixture to start your provider's fake server (an object "
            "with page_size, seed(), stored() and rate_limit(); aisle.testing.FakeCRMServer "
            "is one)"
        )

    @pytest.fixture
    def credentials(self) -> Mapping[str, Any]:
        """Credentials (JSON-shaped, as a studio enters them) that the fake accepts."""
        pytest.fail(
            "override the `credentials` fixture to return credentials your fake accepts "
            "(pointing the provider at the fake's URL)"
        )

    @pytest.fixture
    def valid_config(self, credentials: Mapping[str, Any]) -> Any:
        return credentials

    @pytest.fixture
    def wrong_credentials(self, credentials: Mapping[str, Any]) -> Mapping[str, Any]:
        """Credentials the fake refuses: every secret value altered."""
        return {
            name: f"wrong-{value}" if SECRET_NAME.search(name) and isinstance(value, str) else value
            for name, value in credentials.items()
        }

    @pytest.fixture
    def record_kind(self) -> str:
        """The kind of record the suite lists and pushes (as the provider names it)."""
        return "contacts"

    @pytest.fixture
    def make_remote_record(self, provider: CRMProvider) -> Callable[[int], dict[str, Any]]:
        """Builds the ``n``-th sample record in remote field names.

        The default fills every remote field of the provider's mapping with a string;
        override it when the remote insists on types (dates, numbers).
        """

        def make(n: int) -> dict[str, Any]:
            return {
                remote: f"{field.replace('.', '-')}-{n}"
                for field, remote in provider.field_mapping.items()
            }

        return make

    @pytest.fixture
    def webhook_secret(self) -> str:
        """The secret a studio configures for the provider's webhooks."""
        return "whsec_Y29uZm9ybWFuY2Utc2VjcmV0LTAxMjM0NTY3ODk="

    @pytest.fixture
    def webhook_request(self) -> tuple[Mapping[str, str], bytes]:
        """A webhook as the CRM (or a Zap) delivers it, signed with ``webhook_secret``."""
        pytest.fail(
            "override the `webhook_request` fixture to return (headers, body) of a genuine "
            "webhook signed with the `webhook_secret` fixture"
        )

    @pytest.fixture
    def thin_webhook_request(
        self,
    ) -> Callable[[str, str], tuple[Mapping[str, str], bytes]]:
        """Builds a genuine webhook about the remote record ``(kind, external_id)`` that
        carries only its id (for providers whose webhooks are thin)."""
        pytest.fail(
            "override the `thin_webhook_request` fixture to return a function (kind, "
            "external_id) -> (headers, body) of a webhook naming that record, or list "
            "'thin_webhooks' in `unsupported` when your webhooks carry the whole record"
        )

    @pytest.fixture
    def subscription_target(self) -> str:
        """The URL the suite asks the CRM to post its hooks to."""
        return "https://aisle.example/api/v1/inbound/crm/conformance"

    @pytest_asyncio.fixture
    async def http_client(self) -> AsyncIterator[httpx.AsyncClient]:
        """The outbound client the sync engine hands providers, allowed to reach 127.0.0.1."""
        from aisle.http import client

        async with client(allow=["127.0.0.1/32", "::1/128"], timeout=10.0) as http:
            yield http

    @pytest.fixture
    def connect(
        self,
        provider: CRMProvider,
        config_type: type[msgspec.Struct],
        http_client: httpx.AsyncClient,
    ) -> Callable[[Mapping[str, Any]], CRMClient]:
        """Builds the provider's client for credentials, as the sync engine does."""

        def build(credentials: Mapping[str, Any]) -> CRMClient:
            assert provider.client is not None, (
                f"CRM provider {provider.name!r} declares pull or push but has no client"
            )
            return provider.client(parse_config(config_type, credentials), http_client)

        return build

    @pytest.fixture
    def crm_client(
        self, connect: Callable[[Mapping[str, Any]], CRMClient], credentials: Mapping[str, Any]
    ) -> CRMClient:
        return connect(credentials)

    # -- registration checks --------------------------------------------------------

    def test_capabilities_are_known_and_backed(self, provider: CRMProvider) -> None:
        """Declared capabilities are known, and each comes with what implements it."""
        unknown = sorted(set(provider.capabilities) - set(PROVIDER_CAPABILITIES))
        assert not unknown, (
            f"CRM provider {provider.name!r} declares unknown capabilities {unknown}; "
            f"known: {', '.join(PROVIDER_CAPABILITIES)}"
        )
        missing = []
        if {"pull", "push", "subscriptions"} & set(provider.capabilities) and (
            provider.client is None
        ):
            missing.append("client= (pull, push and subscriptions go through it)")
        if "webhooks" in provider.capabilities:
            if provider.verify_webhook is None:
                missing.append("verify_webhook=")
            if provider.parse_webhook is None:
                missing.append("parse_webhook=")
        if "subscriptions" in provider.capabilities and not provider.webhook_events:
            missing.append("webhook_events= (what subscribe asks the CRM for)")
        if {"csv_import", "csv_export"} & set(provider.capabilities) and not provider.csv_formats:
            missing.append("csv_formats=")
        if "pull" in provider.capabilities and not provider.pull_kinds:
            missing.append("pull_kinds= (the kinds the engine lists, contacts first)")
        assert not missing, (
            f"CRM provider {provider.name!r} declares {sorted(provider.capabilities)} but "
            f"lacks {', '.join(missing)}"
        )

    def test_claims_a_way_in_or_out(self, provider: CRMProvider) -> None:
        """A provider moves records somehow: pull, push, webhooks or CSV files."""
        ways = sorted(_WAYS & set(provider.capabilities))
        assert ways, (
            f"CRM provider {provider.name!r} declares {sorted(provider.capabilities)}, no way "
            f"in or out: declare at least one of {', '.join(sorted(_WAYS))} (and back it)"
        )

    def test_csv_formats_are_sound(self, provider: CRMProvider) -> None:
        """Each CSV format maps Aisle contact fields to distinct columns, its key among them."""
        declared = {"csv_import", "csv_export"} & set(provider.capabilities)
        if not declared:
            pytest.skip(
                f"CRM provider {provider.name!r} does not claim 'csv_import' or 'csv_export': "
                "not declared in CRMProvider.capabilities (it "
                f"{PROVIDER_CAPABILITIES['csv_import']})"
            )
        problems = []
        for name, csv_format in provider.csv_formats.items():
            wrong = [key for key in csv_format.columns if not is_contact_field(key)]
            if wrong:
                problems.append(f"{name!r} maps {wrong}, which are not Aisle contact fields")
            columns = list(csv_format.columns.values())
            doubled = sorted({c for c in columns if columns.count(c) > 1})
            if doubled:
                problems.append(f"{name!r} reads the columns {doubled} into several fields")
            if csv_format.key not in columns:
                problems.append(
                    f"{name!r} identifies rows by {csv_format.key!r}, which is none of its columns"
                )
        assert not problems, f"CRM provider {provider.name!r}: " + "; ".join(problems)

    def test_field_mapping_names_contact_fields(self, provider: CRMProvider) -> None:
        """Mapping keys are Aisle contact fields; remote names are distinct, non-empty."""
        wrong = [key for key in provider.field_mapping if not is_contact_field(key)]
        assert not wrong, (
            f"CRM provider {provider.name!r} maps {wrong}, which are not Aisle contact "
            f"fields; use {_contact_field_help()}"
        )
        remotes = list(provider.field_mapping.values())
        assert all(isinstance(r, str) and r for r in remotes), (
            f"CRM provider {provider.name!r}: every remote field name must be a non-empty string"
        )
        doubled = sorted({r for r in remotes if remotes.count(r) > 1})
        assert not doubled, (
            f"CRM provider {provider.name!r} maps several Aisle fields to {doubled}: the "
            "way back from the CRM would be ambiguous"
        )

    # -- pull -----------------------------------------------------------------------

    @requires("pull")
    @pytest.mark.asyncio
    async def test_listing_pages_through_every_record(
        self,
        crm_client: CRMClient,
        fake: FakeRemote,
        record_kind: str,
        make_remote_record: Callable[[int], dict[str, Any]],
        provider: CRMProvider,
    ) -> None:
        """Following ``next_cursor`` returns every record once, over several pages."""
        count = fake.page_size * 2 + 1
        ids = fake.seed(record_kind, [make_remote_record(n) for n in range(count)])
        pages, listed = await _list_all(crm_client, record_kind, provider.name)
        listed_ids = [record.id for record in listed]
        duplicated = sorted({i for i in listed_ids if listed_ids.count(i) > 1})
        assert not duplicated, (
            f"CRM provider {provider.name!r} listed {duplicated} more than once while paging"
        )
        missing = sorted(set(ids) - set(listed_ids))
        assert not missing, (
            f"CRM provider {provider.name!r} listed {len(listed_ids)} records over {pages} "
            f"page(s) but missed {len(missing)} of the {count} seeded (e.g. {missing[:3]}): "
            "return next_cursor until the last page"
        )
        assert pages > 1, (
            f"CRM provider {provider.name!r} returned {count} records in one page although "
            f"the fake serves at most {fake.page_size} per page"
        )

    @requires("pull")
    @pytest.mark.asyncio
    async def test_listed_records_carry_the_mapped_fields(
        self,
        crm_client: CRMClient,
        fake: FakeRemote,
        record_kind: str,
        make_remote_record: Callable[[int], dict[str, Any]],
        provider: CRMProvider,
    ) -> None:
        """A pulled record has the remote's value for every mapped remote field."""
        seeded = make_remote_record(1)
        record = await _pull_seeded(crm_client, fake, record_kind, seeded, provider.name)
        wrong = {
            remote: record.fields.get(remote)
            for remote in provider.field_mapping.values()
            if remote in seeded and record.fields.get(remote) != seeded[remote]
        }
        assert not wrong, (
            f"CRM provider {provider.name!r} pulled {wrong} for mapped fields seeded as "
            f"{ {k: seeded[k] for k in wrong} }: ExternalRecord.fields must hold the remote's "
            "values under the remote field names"
        )

    @requires("pull")
    @pytest.mark.asyncio
    async def test_every_pull_kind_lists(
        self, crm_client: CRMClient, provider: CRMProvider
    ) -> None:
        """Each kind in ``pull_kinds`` lists (an empty CRM is an empty page, not an error)."""
        failed = {}
        for kind in provider.pull_kinds:
            try:
                page = await crm_client.list_records(kind, None)
            except Exception as exc:
                failed[kind] = f"{type(exc).__name__}: {exc}"
                continue
            strays = sorted({r.kind for r in page.records} - {kind})
            if strays:
                failed[kind] = f"listed records of kind {strays}"
        assert not failed, (
            f"CRM provider {provider.name!r} declares pull_kinds {list(provider.pull_kinds)} "
            f"but listing them failed: {failed}"
        )

    @requires("pull")
    @pytest.mark.asyncio
    async def test_fetch_record_returns_the_listed_record(
        self,
        crm_client: CRMClient,
        fake: FakeRemote,
        record_kind: str,
        make_remote_record: Callable[[int], dict[str, Any]],
        provider: CRMProvider,
    ) -> None:
        """Fetching by id gives the record the listing gave (thin webhooks rely on it)."""
        listed = await _pull_seeded(
            crm_client, fake, record_kind, make_remote_record(7), provider.name
        )
        fetched = await crm_client.fetch_record(record_kind, listed.id)
        assert (fetched.id, fetched.kind) == (listed.id, listed.kind), (
            f"CRM provider {provider.name!r}: fetch_record({record_kind!r}, {listed.id!r}) "
            f"returned {fetched.kind} {fetched.id!r}"
        )
        differ = {
            remote: (listed.fields.get(remote), fetched.fields.get(remote))
            for remote in provider.field_mapping.values()
            if listed.fields.get(remote) != fetched.fields.get(remote)
        }
        assert not differ, (
            f"CRM provider {provider.name!r}: fetched and listed values of mapped fields "
            f"differ (listed, fetched): {differ}"
        )

    @requires("pull")
    @pytest.mark.asyncio
    async def test_fetching_a_missing_record_is_an_error(
        self, crm_client: CRMClient, record_kind: str, provider: CRMProvider
    ) -> None:
        """An unknown id raises; it never comes back as an empty record."""
        try:
            record = await crm_client.fetch_record(record_kind, "01j000000000000000000nopee")
        except RateLimited:
            pytest.fail(f"CRM provider {provider.name!r} reports a missing record as a 429")
        except Exception:
            return
        pytest.fail(
            f"CRM provider {provider.name!r} fetched {record!r} for an id the CRM does not "
            "hold: raise an error (a 404), or a thin webhook for a deleted record becomes "
            "an empty couple"
        )

    @requires("pull")
    @pytest.mark.asyncio
    async def test_wrong_credentials_are_an_error(
        self,
        connect: Callable[[Mapping[str, Any]], CRMClient],
        wrong_credentials: Mapping[str, Any],
        fake: FakeRemote,
        record_kind: str,
        provider: CRMProvider,
    ) -> None:
        """Refused credentials raise; they never look like an empty CRM."""
        fake.seed(record_kind, [{}])
        try:
            page = await connect(wrong_credentials).list_records(record_kind, None)
        except RateLimited:
            pytest.fail(f"CRM provider {provider.name!r} reports refused credentials as a 429")
        except Exception:
            return
        pytest.fail(
            f"CRM provider {provider.name!r} returned a page of {len(page.records)} records "
            "with credentials the CRM refused: raise an error on 401/403, or the sync engine "
            "believes the CRM is empty"
        )

    @requires("pull", "rate_limits")
    @pytest.mark.asyncio
    async def test_429_becomes_rate_limited_with_retry_after(
        self,
        crm_client: CRMClient,
        fake: FakeRemote,
        record_kind: str,
        provider: CRMProvider,
    ) -> None:
        """A 429 raises RateLimited carrying Retry-After; the next call works again."""
        fake.seed(record_kind, [{}])
        fake.rate_limit(times=1, retry_after=7)
        try:
            page = await crm_client.list_records(record_kind, None)
        except RateLimited as limited:
            assert limited.retry_after >= 7, (
                f"CRM provider {provider.name!r} raised RateLimited(retry_after="
                f"{limited.retry_after}) but the CRM asked for Retry-After: 7"
            )
        except Exception as exc:
            pytest.fail(
                f"CRM provider {provider.name!r} raised {type(exc).__name__} on a 429: raise "
                "aisle.RateLimited(retry_after=<the Retry-After header, in seconds>) so the "
                "sync engine waits as asked instead of failing the sync"
            )
        else:
            pytest.fail(
                f"CRM provider {provider.name!r} answered a 429 with a page of "
                f"{len(page.records)} records: raise aisle.RateLimited(retry_after=<the "
                "Retry-After header, in seconds>) so the sync engine waits and tries again"
            )
        await crm_client.list_records(record_kind, None)

    # -- push -----------------------------------------------------------------------

    @requires("push")
    @pytest.mark.asyncio
    async def test_push_creates_then_updates(
        self,
        crm_client: CRMClient,
        fake: FakeRemote,
        record_kind: str,
        make_remote_record: Callable[[int], dict[str, Any]],
        provider: CRMProvider,
    ) -> None:
        """Pushing without an id creates a record; pushing with its id updates it."""
        fields = make_remote_record(2)
        external_id = await crm_client.push_record(record_kind, None, fields)
        assert isinstance(external_id, str) and external_id, (
            f"CRM provider {provider.name!r}: push_record must return the new record's id"
        )
        _assert_holds(fake, record_kind, external_id, fields, provider.name, "created")
        changed = make_remote_record(3)
        again = await crm_client.push_record(record_kind, external_id, changed)
        assert again == external_id, (
            f"CRM provider {provider.name!r} returned {again!r} when updating "
            f"{external_id!r}: an update must keep the record (and return its id)"
        )
        _assert_holds(fake, record_kind, external_id, changed, provider.name, "updated")

    @requires("pull", "push")
    @pytest.mark.asyncio
    async def test_mapped_fields_round_trip_both_ways(
        self,
        crm_client: CRMClient,
        fake: FakeRemote,
        record_kind: str,
        make_remote_record: Callable[[int], dict[str, Any]],
        provider: CRMProvider,
    ) -> None:
        """What is pulled through the mapping can be pushed back unchanged."""
        seeded = make_remote_record(4)
        record = await _pull_seeded(crm_client, fake, record_kind, seeded, provider.name)
        mapped = {
            remote: record.fields[remote]
            for remote in provider.field_mapping.values()
            if remote in record.fields
        }
        await crm_client.push_record(record_kind, record.id, mapped)
        _assert_holds(fake, record_kind, record.id, seeded, provider.name, "pushed back")

    # -- webhooks -------------------------------------------------------------------

    @requires("webhooks", "webhook_signatures")
    def test_genuine_webhook_is_accepted(
        self,
        provider: CRMProvider,
        webhook_request: tuple[Mapping[str, str], bytes],
        webhook_secret: str,
    ) -> None:
        headers, body = webhook_request
        assert provider.verify_webhook is not None
        assert provider.verify_webhook(headers, body, webhook_secret) is True, (
            f"CRM provider {provider.name!r} rejects a genuine webhook signed with the "
            "configured secret"
        )

    @requires("webhooks", "webhook_signatures")
    def test_forged_webhooks_are_rejected(
        self,
        provider: CRMProvider,
        webhook_request: tuple[Mapping[str, str], bytes],
        webhook_secret: str,
    ) -> None:
        """A changed body, a wrong secret or a missing signature is rejected, not raised."""
        headers, body = webhook_request
        forged = {
            "a tampered body": (headers, body + b" "),
            "another secret": (headers, body),
            "no signature headers": (
                {k: v for k, v in headers.items() if k.lower() == "content-type"},
                body,
            ),
        }
        verify = provider.verify_webhook
        assert verify is not None
        accepted = []
        for name, (forged_headers, forged_body) in forged.items():
            secret = (
                "whsec_YW5vdGhlci1zZWNyZXQtYWx0b2dldGhlcg=="
                if name == "another secret"
                else webhook_secret
            )
            try:
                if verify(forged_headers, forged_body, secret) is not False:
                    accepted.append(name)
            except Exception as exc:
                accepted.append(f"{name} (raised {type(exc).__name__}; return False instead)")
        assert not accepted, (
            f"CRM provider {provider.name!r} does not reject a webhook with "
            f"{', '.join(accepted)}: compare an HMAC of the exact body with hmac.compare_digest"
        )

    @requires("webhooks")
    def test_webhook_parses_to_events_with_stable_keys(
        self, provider: CRMProvider, webhook_request: tuple[Mapping[str, str], bytes]
    ) -> None:
        """Parsing yields events whose idempotency keys repeat on a redelivery."""
        headers, body = webhook_request
        assert provider.parse_webhook is not None
        first = list(provider.parse_webhook(headers, body))
        again = list(provider.parse_webhook(headers, body))
        assert first and all(isinstance(e, InboundEvent) for e in first), (
            f"CRM provider {provider.name!r}: parse_webhook must return InboundEvent values "
            "for a genuine webhook"
        )
        assert all(e.type and e.idempotency_key for e in first), (
            f"CRM provider {provider.name!r}: every InboundEvent needs a type and an "
            "idempotency_key"
        )
        assert [e.idempotency_key for e in first] == [e.idempotency_key for e in again], (
            f"CRM provider {provider.name!r}: the same webhook parsed twice gave different "
            "idempotency keys, so a redelivered webhook would be processed twice; derive them "
            "from the webhook's id or content"
        )

    @requires("webhooks", "thin_webhooks")
    @pytest.mark.asyncio
    async def test_thin_webhook_fetches_its_record(
        self,
        provider: CRMProvider,
        crm_client: CRMClient,
        fake: FakeRemote,
        record_kind: str,
        make_remote_record: Callable[[int], dict[str, Any]],
        thin_webhook_request: Callable[[str, str], tuple[Mapping[str, str], bytes]],
        webhook_secret: str,
    ) -> None:
        """A thin webhook names a kind the client fetches, and the fetch gives the record."""
        [external_id] = fake.seed(record_kind, [make_remote_record(8)])
        headers, body = thin_webhook_request(record_kind, external_id)
        assert provider.verify_webhook is not None and provider.parse_webhook is not None
        assert provider.verify_webhook(headers, body, webhook_secret) is True, (
            f"CRM provider {provider.name!r} rejects the thin webhook the "
            "`thin_webhook_request` fixture built"
        )
        events = [e for e in provider.parse_webhook(headers, body) if e.fetch_kind]
        assert events, (
            f"CRM provider {provider.name!r}: no parsed event names fetch_kind, so the engine "
            "cannot fetch the record a thin webhook points at"
        )
        for event in events:
            assert event.fetch_kind is not None
            record = await crm_client.fetch_record(event.fetch_kind, event.external_id)
            assert record.id == external_id == event.external_id, (
                f"CRM provider {provider.name!r}: the webhook about {external_id!r} parsed to "
                f"external_id {event.external_id!r}, which fetched {record.id!r}"
            )
            if provider.complete_event is not None:
                completed = provider.complete_event(event, record)
                assert completed is None or completed.idempotency_key == event.idempotency_key, (
                    f"CRM provider {provider.name!r}: complete_event changed the idempotency "
                    "key, so a redelivered webhook would be processed twice"
                )

    # -- subscriptions --------------------------------------------------------------

    @requires("subscriptions")
    @pytest.mark.asyncio
    async def test_subscribe_then_unsubscribe(
        self,
        provider: CRMProvider,
        crm_client: CRMClient,
        fake: FakeRemote,
        subscription_target: str,
    ) -> None:
        """Subscribing registers one hook per event at the CRM; unsubscribing removes them."""
        subscribed = getattr(fake, "subscribed", None)
        assert callable(subscribed), (
            f"CRM provider {provider.name!r} claims subscriptions: give its fake a "
            "subscribed() method returning {hook id: (event, url)} as the CRM holds them"
        )
        ids = await crm_client.subscribe(subscription_target, provider.webhook_events)
        assert len(ids) == len(set(ids)) == len(provider.webhook_events), (
            f"CRM provider {provider.name!r}: subscribe({list(provider.webhook_events)}) "
            f"returned {ids}; return one distinct id per event"
        )
        held = dict(subscribed())
        wrong = {i: held.get(i) for i in ids if held.get(i, ("", ""))[1] != subscription_target}
        assert not wrong, (
            f"CRM provider {provider.name!r}: the CRM holds {wrong} for the returned ids "
            f"instead of hooks posting to {subscription_target}"
        )
        events = sorted(held[i][0] for i in ids)
        assert events == sorted(provider.webhook_events), (
            f"CRM provider {provider.name!r} subscribed {events} for webhook_events "
            f"{sorted(provider.webhook_events)}"
        )
        await crm_client.unsubscribe(ids)
        left = sorted(set(ids) & set(subscribed()))
        assert not left, f"CRM provider {provider.name!r}: unsubscribe left the hooks {left}"
        await crm_client.unsubscribe(ids)  # a repeated unsubscribe is no error

    # -- credentials ----------------------------------------------------------------

    @pytest.fixture
    def credential_secrets(
        self, config_type: type[msgspec.Struct], valid_config: Any
    ) -> Sequence[str]:
        """Credential values that must never be seen: fields named like secrets."""
        return secret_values(msgspec.structs.asdict(parse_config(config_type, valid_config)))

    def test_credentials_repr_hides_secrets(
        self,
        provider: CRMProvider,
        config_type: type[msgspec.Struct],
        valid_config: Any,
        credential_secrets: Sequence[str],
    ) -> None:
        """Logging the credentials object shows no secret."""
        if not credential_secrets:
            pytest.skip(f"CRM provider {provider.name!r} has no secret credential fields")
        parsed = parse_config(config_type, valid_config)
        assert not leaks(credential_secrets, [("repr", parsed)]), (
            f"CRM provider {provider.name!r}: repr() of {config_type.__name__} shows a "
            "secret; give it a __repr__ that hides secret fields, so a log line or a "
            "traceback never carries them"
        )

    @requires("pull")
    @pytest.mark.asyncio
    async def test_pulling_never_leaks_credentials(
        self,
        provider: CRMProvider,
        connect: Callable[[Mapping[str, Any]], CRMClient],
        credentials: Mapping[str, Any],
        wrong_credentials: Mapping[str, Any],
        credential_secrets: Sequence[str],
        fake: FakeRemote,
        record_kind: str,
        make_remote_record: Callable[[int], dict[str, Any]],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Listing, with good and refused credentials, leaks no credential anywhere."""
        fake.seed(record_kind, [make_remote_record(5)])
        client, refused = connect(credentials), connect(wrong_credentials)
        seen = await self._exercise(
            caplog,
            [("repr(client)", client)],
            ("list_records", lambda: client.list_records(record_kind, None)),
            (
                "list_records with refused credentials",
                lambda: refused.list_records(record_kind, None),
            ),
        )
        self._assert_no_leak(provider, credential_secrets, seen)

    @requires("push")
    @pytest.mark.asyncio
    async def test_pushing_never_leaks_credentials(
        self,
        provider: CRMProvider,
        connect: Callable[[Mapping[str, Any]], CRMClient],
        credentials: Mapping[str, Any],
        wrong_credentials: Mapping[str, Any],
        credential_secrets: Sequence[str],
        record_kind: str,
        make_remote_record: Callable[[int], dict[str, Any]],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Pushing, with good and refused credentials, leaks no credential anywhere."""
        client, refused = connect(credentials), connect(wrong_credentials)
        fields = make_remote_record(6)
        seen = await self._exercise(
            caplog,
            [("repr(client)", client)],
            ("push_record", lambda: client.push_record(record_kind, None, fields)),
            (
                "push_record with refused credentials",
                lambda: refused.push_record(record_kind, None, fields),
            ),
        )
        self._assert_no_leak(provider, credential_secrets, seen)

    @requires("webhooks")
    @pytest.mark.asyncio
    async def test_webhook_checks_never_leak_the_secret(
        self,
        provider: CRMProvider,
        webhook_request: tuple[Mapping[str, str], bytes],
        webhook_secret: str,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Verifying and parsing webhooks, good or forged, never shows the secret."""
        headers, body = webhook_request
        verify, parse = provider.verify_webhook, provider.parse_webhook
        assert verify is not None and parse is not None

        async def check(data: bytes) -> object:
            return verify(headers, data, webhook_secret)

        async def parsed() -> object:
            return parse(headers, body)

        seen = await self._exercise(
            caplog,
            [],
            ("verify_webhook", lambda: check(body)),
            ("verify_webhook of a forged body", lambda: check(body + b" ")),
            ("parse_webhook", parsed),
        )
        self._assert_no_leak(provider, [webhook_secret], seen)

    async def _exercise(
        self,
        caplog: pytest.LogCaptureFixture,
        seen: list[tuple[str, object]],
        *calls: tuple[str, Callable[[], Awaitable[object]]],
    ) -> list[tuple[str, object]]:
        caplog.set_level(logging.DEBUG)
        for name, call in calls:
            try:
                seen.append((f"the result of {name}", await call()))
            except Exception as exc:
                seen.append((f"the error of {name}", exc))
        seen.extend(("a log record", record) for record in caplog.records)
        return seen

    def _assert_no_leak(
        self, provider: CRMProvider, secrets: Sequence[str], seen: list[tuple[str, object]]
    ) -> None:
        if not secrets:
            pytest.skip(f"CRM provider {provider.name!r} has no secret credential fields")
        found = leaks(secrets, seen)
        assert not found, (
            f"CRM provider {provider.name!r} leaks a secret into {', '.join(found)}: keep "
            "secrets in headers (never in URLs), out of messages and results, and give the "
            "client a __repr__ that hides them"
        )


async def _list_all(client: CRMClient, kind: str, name: str) -> tuple[int, list[Any]]:
    records: list[Any] = []
    cursor: str | None = None
    for pages in range(1, _MAX_PAGES + 1):
        page = await client.list_records(kind, cursor)
        records.extend(page.records)
        if page.next_cursor is None:
            return pages, records
        assert page.next_cursor != cursor, (
            f"CRM provider {name!r} returned the same next_cursor {cursor!r} twice: paging "
            "would never end"
        )
        cursor = page.next_cursor
    pytest.fail(f"CRM provider {name!r} still returned a next_cursor after {_MAX_PAGES} pages")


async def _pull_seeded(
    client: CRMClient, fake: FakeRemote, kind: str, seeded: Mapping[str, Any], name: str
) -> ExternalRecord:
    """Seed one remote record, list every page, and return that record as pulled."""
    [external_id] = fake.seed(kind, [seeded])
    _, listed = await _list_all(client, kind, name)
    record: ExternalRecord | None = next((r for r in listed if r.id == external_id), None)
    assert record is not None, (
        f"CRM provider {name!r} did not list the seeded record {external_id!r}"
    )
    return record


def _assert_holds(
    fake: FakeRemote,
    kind: str,
    external_id: str,
    fields: Mapping[str, Any],
    name: str,
    what: str,
) -> None:
    stored = fake.stored(kind, external_id)
    assert stored is not None, f"CRM provider {name!r}: the fake holds no {kind} {external_id!r}"
    wrong = {k: stored.get(k) for k, v in fields.items() if stored.get(k) != v}
    assert not wrong, (
        f"CRM provider {name!r}: the record {what} holds {wrong} instead of "
        f"{ {k: fields[k] for k in wrong} }"
    )
