"""``POST /contacts/batch``: records matched by id, external id or email, created,
changed or left alone, each bad one failing alone with a problem naming its field; a
wedding-date move goes through the runtime (confirmation, rescheduling). On SQLite and
PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

from aisle.services.contacts_bulk import MAX_RECORDS
from tests.api.conftest import Org
from tests.api.helpers import small_flow
from tests.api.test_lifecycle_api import Api


def _outcomes(answer: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [
        (o["status"], o["problem"]["errors"][0]["field"] if "problem" in o else None)
        for o in answer["items"]
    ]


async def test_a_mixed_batch_creates_updates_and_fails_each_record_alone(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    api = Api(client, org_a, "editor")
    by_id = await api("POST", "/contacts", 201, json={"email": "id@example.com"})
    by_link = await api("POST", "/contacts", 201, json={"external_ids": {"tave": "T-1"}})
    by_mail = await api("POST", "/contacts", 201, json={"email": "Mail@Example.com", "venue": "A"})
    records = [
        {
            "partners": [{"first_name": "New"}],
            "email": "new@example.com",
            "phone": "+44 20 7946 0991",
        },
        {"id": by_id["id"], "venue": "Barn", "custom": {"guests": 80}},
        {"external_ids": {"tave": "T-1", "dubsado": "D-1"}, "venue": "Hall"},
        {"email": "Mail@EXAMPLE.com", "venue": "A"},
        {"email": "not an address"},
        {"phone": "12"},
        {"timezone": "Mars/Olympus"},
        {"email": "x@example.com", "colour": "blue"},
        {"id": "01NOBODY", "venue": "X"},
        {"email": "new@example.com"},
        {"email": "other@example.com", "external_ids": {"dubsado": "D-1"}},
        {"email": "third@example.com", "external_ids": {"tave": "T-2"}},
    ]
    answer = await api("POST", "/contacts/batch", json=records)
    assert _outcomes(answer) == [
        ("created", None),
        ("updated", None),
        ("updated", None),
        ("unchanged", None),
        ("failed", "email"),
        ("failed", "phone"),
        ("failed", "timezone"),
        ("failed", "colour"),
        ("failed", "id"),
        ("failed", "email"),
        ("failed", "external_ids.dubsado"),
        ("created", None),
    ]
    assert [answer[k] for k in ("created", "updated", "unchanged", "failed")] == [2, 2, 1, 7]
    items = answer["items"]
    assert [o["index"] for o in items] == list(range(len(records)))
    assert items[1]["id"] == by_id["id"] and items[2]["id"] == by_link["id"]
    assert items[3]["id"] == by_mail["id"]
    bad_mail = items[4]["problem"]
    assert bad_mail["status"] == 422 and bad_mail["detail"].startswith("record 4: email:")
    assert bad_mail["type"].endswith("/validation")
    assert items[8]["problem"]["status"] == 404
    assert "record 0" in items[9]["problem"]["detail"]
    assert "record 2 of this batch" in items[10]["problem"]["detail"]

    created = await api("GET", f"/contacts/{items[0]['id']}")
    assert created["phone"] == "+442079460991" and created["partners"][0]["first_name"] == "New"
    changed = await api("GET", f"/contacts/{by_id['id']}")
    assert changed["venue"] == "Barn" and changed["custom"] == {"guests": 80}
    linked = await api("GET", f"/contacts/{by_link['id']}")
    assert linked["external_ids"] == {"tave": "T-1", "dubsado": "D-1"}
    assert (await api("GET", "/contacts", params={"q": "third@"}))["items"][0]["external_ids"] == {
        "tave": "T-2"
    }
    log = await api("GET", "/log", params={"contact_id": items[0]["id"]})
    assert "contact.created" in [e["kind"] for e in log["items"]]

    again = await api("POST", "/contacts/batch", json=records[:4])
    assert _outcomes(again) == [("unchanged", None)] * 4


async def test_ndjson_lines_are_records_and_a_broken_line_fails_alone(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    lines = [
        msgspec.json.encode({"email": "one@example.com"}),
        b"{not json",
        b"",
        msgspec.json.encode({"email": "two@example.com", "wedding_date": "2027-02-30"}),
        msgspec.json.encode({"email": "three@example.com", "venue": "nul\u0000here"}),
    ]
    response = await client.post(
        "/api/v1/contacts/batch",
        content=b"\n".join(lines) + b"\n",
        headers={**org_a.auth("editor"), "Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [o["status"] for o in answer["items"]] == ["created", "failed", "failed", "failed"]
    assert answer["items"][1]["problem"]["type"].endswith("/invalid-json")
    assert answer["items"][2]["problem"]["errors"][0]["field"] == "wedding_date"
    assert answer["items"][3]["problem"]["errors"][0]["field"] == "venue"


async def test_a_wedding_date_move_needs_confirmation_and_reschedules(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    api = Api(client, org_a, "editor")
    owner = Api(client, org_a)
    flow = small_flow()
    flow["edges"][1]["data"] = {
        "trigger": "date_reached",
        "config": {"field": "custom.rehearsal", "days": -1, "at": "18:00"},
    }
    journey = await owner(
        "POST",
        "/journeys",
        201,
        json={"name": "Rehearsal", "flow": flow, "settings": {"start_step": "brochure"}},
    )
    await owner("POST", f"/journeys/{journey['id']}/publish", 201, json={})
    couple = await api(
        "POST",
        "/contacts",
        201,
        json={
            "email": "r@example.com",
            "wedding_date": "2030-09-12",
            "custom": {"rehearsal": "2030-06-01"},
        },
    )
    enrollment = await api(
        "POST", "/enrollments", 201, json={"contact_id": couple["id"], "journey_id": journey["id"]}
    )
    refused = await api(
        "POST", "/contacts/batch", json=[{"id": couple["id"], "wedding_date": "2030-10-03"}]
    )
    read_by_a_step = await api(
        "POST",
        "/contacts/batch",
        json=[{"email": "r@example.com", "custom": {"rehearsal": "2030-07-01"}}],
    )
    assert _outcomes(refused) == [("failed", "wedding_date")]
    assert _outcomes(read_by_a_step) == [("failed", "custom.rehearsal")]
    assert refused["items"][0]["problem"]["type"].endswith("/confirmation-required")
    assert (await api("GET", f"/contacts/{couple['id']}"))["wedding_date"] == "2030-09-12"

    before = (await api("GET", f"/enrollments/{enrollment['id']}"))["wake_at"]
    moved = await api(
        "POST",
        "/contacts/batch",
        json=[
            {
                "id": couple["id"],
                "wedding_date": "2030-10-03",
                "custom": {"rehearsal": "2030-07-01"},
                "confirm_date_change": True,
            }
        ],
    )
    assert _outcomes(moved) == [("updated", None)]
    after = (await api("GET", f"/enrollments/{enrollment['id']}"))["wake_at"]
    assert before.startswith("2030-05-31") and after.startswith("2030-06-30")
    kinds = [
        e["kind"] for e in (await api("GET", "/log", params={"contact_id": couple["id"]}))["items"]
    ]
    assert "contact.wedding_date_changed" in kinds and "enrollment.recomputed" in kinds


async def test_refusals_of_the_whole_call(
    client: httpx.AsyncClient, org_a: Org, org_b: Org
) -> None:
    editor = Api(client, org_a, "editor")
    theirs = await Api(client, org_b, "editor")(
        "POST", "/contacts", 201, json={"email": "b@example.com"}
    )
    other = await editor("POST", "/contacts/batch", json=[{"id": theirs["id"], "venue": "Ours"}])
    assert _outcomes(other) == [("failed", "id")]
    assert (await Api(client, org_b)("GET", f"/contacts/{theirs['id']}"))["venue"] is None
    mine = await editor("POST", "/contacts/batch", json=[{"email": "b@example.com"}])
    assert mine["created"] == 1 and mine["items"][0]["id"] != theirs["id"]

    viewer = await Api(client, org_a, "viewer")("POST", "/contacts/batch", 403, json=[{}])
    assert viewer["required_role"] == "editor"
    await editor("POST", "/contacts/batch", 422, json=[])
    too_many = await editor("POST", "/contacts/batch", 422, json=[{}] * (MAX_RECORDS + 1))
    assert str(MAX_RECORDS) in too_many["detail"]
    await editor("POST", "/contacts/batch", 400, json={"email": "x@example.com"})
    plain = await client.post(
        "/api/v1/contacts/batch",
        content=b"email=x",
        headers={**org_a.auth("editor"), "Content-Type": "text/plain"},
    )
    assert plain.status_code == 415, plain.text
