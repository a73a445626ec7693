"""Contacts are checked as the email and SMS actions check them, and normalised at the
door; every error names its field (issue 11, item 6)."""

from __future__ import annotations

import httpx
import msgspec
import pytest

import aisle
from aisle.storage.store import Store
from aisle_actions import sms
from tests.api.conftest import Org
from tests.api.helpers import small_flow
from tests.api.test_lifecycle_api import Api


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"email": "pat@gmail"}, "email", "invalid_email"),
        ({"phone": "12345"}, "phone", "invalid_phone"),
        # phones.py's old example: Ofcom's drama range, which no SMS provider delivers.
        ({"phone": "+447700900123"}, "phone", "invalid_phone"),
        (
            {"partners": [{"first_name": "Pat"}, {"first_name": "Sam", "email": "sam@@x.com"}]},
            "partners[1].email",
            "invalid_email",
        ),
        ({"partners": [{"first_name": "Pat", "phone": "not a number"}]}, "partners[0].phone", None),
    ],
)
async def test_an_address_the_actions_would_refuse_is_refused_naming_its_field(
    client: httpx.AsyncClient, org_a: Org, body: dict[str, object], field: str, code: str | None
) -> None:
    problem = await Api(client, org_a)("POST", "/contacts", 422, json=body)
    (error,) = problem["errors"]
    assert error["field"] == field
    assert problem["detail"].startswith(f"{field}: ")
    if code:
        assert error["code"] == code
    assert (await Api(client, org_a)("GET", "/contacts"))["items"] == []


async def test_every_bad_address_is_named_at_once(client: httpx.AsyncClient, org_a: Org) -> None:
    problem = await Api(client, org_a)(
        "POST",
        "/contacts",
        422,
        json={"email": "pat@gmail", "phone": "12345", "partners": [{"email": "x@"}]},
    )
    assert [e["field"] for e in problem["errors"]] == ["partners[0].email", "email", "phone"]


async def test_addresses_are_stored_normalised_e164_in_the_studios_region(
    client: httpx.AsyncClient, org_a: Org, store: Store
) -> None:
    await store.organizations.update(org_a.id, settings={"sms_default_region": "GB"})
    api = Api(client, org_a)
    contact = await api(
        "POST",
        "/contacts",
        201,
        json={
            "email": "Pat@Example.COM",
            "phone": "07911 123456",
            "partners": [{"first_name": "Pat", "phone": "+1 (202) 555-0111"}],
        },
    )
    assert contact["email"] == "Pat@example.com"
    assert contact["phone"] == "+447911123456"
    assert contact["partners"][0]["phone"] == "+12025550111"
    # The same normaliser the SMS action sends with: what the API stores, it can text.
    assert sms.normalize_phone is aisle.normalize_phone
    assert aisle.normalize_phone(contact["phone"], None, "to") == contact["phone"]

    changed = await api("PATCH", f"/contacts/{contact['id']}", json={"phone": "020 7946 0958"})
    assert changed["phone"] == "+442079460958"
    refused = await api("PATCH", f"/contacts/{contact['id']}", 422, json={"email": "pat@gmail"})
    assert refused["errors"][0]["field"] == "email"


async def test_without_a_region_a_number_needs_its_country_code(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    problem = await Api(client, org_a)("POST", "/contacts", 422, json={"phone": "07911 123456"})
    assert problem["errors"][0]["field"] == "phone"
    assert "no country code" in problem["errors"][0]["message"]


async def test_a_patch_is_judged_on_what_it_changes(
    client: httpx.AsyncClient, org_a: Org, store: Store
) -> None:
    api = Api(client, org_a)
    contact = await api("POST", "/contacts", 201, json={"email": "pat@example.com"})
    # A number stored before addresses were checked does not block other changes.
    scope = store.for_org(org_a.id)
    old = await scope.contacts.get(contact["id"])
    await scope.contacts.save(msgspec.structs.replace(old, phone="12345"))
    renamed = await api("PATCH", f"/contacts/{contact['id']}", json={"venue": "The Barn"})
    assert renamed["venue"] == "The Barn" and renamed["phone"] == "12345"


async def test_decode_errors_name_the_real_field_and_publish_needs_no_body(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    api = Api(client, org_a)
    unknown = await api("POST", "/contacts", 400, json={"emial": "pat@example.com"})
    assert unknown["errors"][0]["field"] == "emial"
    assert unknown["detail"].startswith("emial: ")
    nested = await api(
        "POST", "/contacts", 400, json={"partners": [{"first_name": "Pat", "colour": "red"}]}
    )
    assert nested["errors"][0]["field"] == "partners[0].colour"
    missing = await api("POST", "/journeys", 400, json={"description": "no name"})
    assert missing["errors"][0]["field"] == "name"
    no_body = await client.post("/api/v1/contacts", headers=org_a.auth())
    assert no_body.status_code == 400
    assert no_body.json()["errors"] == [{"message": "a JSON body is required"}]

    journey = await api("POST", "/journeys", 201, json={"name": "J", "flow": small_flow()})
    published = await client.post(f"/api/v1/journeys/{journey['id']}/publish", headers=org_a.auth())
    assert published.status_code == 201, published.text
    assert published.json()["version"] == 1
