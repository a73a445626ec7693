"""Issue 13 acceptance: a published journey's ``crm_update`` steps, run by the live
server's embedded jobs, push the couple to Tave over its API (the mapped fields, with the
studio's key) and to HoneyBook's catch hooks through Zapier (signed: the fake verifies
the signature with the connection's secret)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from aisle_crm_honeybook.fake import FakeHoneyBookZapier
from aisle_crm_tave.fake import FakeTave
from tests.api.helpers import edge, node

from .conftest import HB_SECRET, TAVE_KEY, Live, completed, enroll, publish, until

pytestmark = pytest.mark.slow


def _pushes() -> dict[str, Any]:
    person = {
        "partners.0.first_name": "{{ partner1.first_name }}",
        "partners.0.last_name": "{{ partner1.last_name }}",
        "email": "{{ contact.email }}",
    }
    steps = [
        ("to_tave", {"provider": "tave", "fields": person}),
        ("to_hb_client", {"provider": "honeybook", "fields": person}),
        (
            "to_hb_project",
            {
                "provider": "honeybook",
                "kind": "projects",
                "fields": {
                    "wedding_date": "{{ wedding.date_iso }}",
                    "venue": "{{ wedding.venue }}",
                },
            },
        ),
    ]
    nodes = [node(n, "crm_update", i * 200, 0, config=c) for i, (n, c) in enumerate(steps)]
    nodes.append(node("done", "end", 600, 0))
    names = [n for n, _ in steps] + ["done"]
    edges = [edge(f"e{i}", a, b) for i, (a, b) in enumerate(itertools.pairwise(names))]
    return {"nodes": nodes, "edges": edges, "viewport": {"x": 0, "y": 0, "zoom": 1}}


async def test_crm_update_steps_push_to_tave_and_through_honeybooks_catch_hooks(
    live: Live, tave: FakeTave, zapier: FakeHoneyBookZapier
) -> None:
    studio = await live.open_studio("push-studio")
    await live.connect(studio, "tave", api_key=TAVE_KEY, base_url=tave.url)
    await live.connect(studio, "honeybook", webhook_secret=HB_SECRET, **zapier.hook_urls())
    [june] = tave.seed("contacts", [{"email": "june@old.example", "firstName": "Juniper"}])
    journey = await publish(studio.api, "Booked", _pushes(), "to_tave")

    couple = await enroll(
        studio.api,
        journey,
        email="june@example.com",
        partners=[{"first_name": "June", "last_name": "Carter"}],
        wedding_date="2026-09-12",
        venue="The Barn, Bath",
        external_ids={"tave": june},
    )
    await completed(studio.api, couple["id"])

    # The steps' action runs are the embedded jobs' to run, after the enrollment moved on.
    async def settled() -> list[dict[str, Any]] | None:
        runs = await studio.api("GET", "/action-runs", params={"contact_id": couple["contact_id"]})
        items: list[dict[str, Any]] = runs["items"]
        final = all(r["status"] in ("succeeded", "dead", "cancelled") for r in items)
        return items if final and len(items) == 3 else None

    runs = await until(settled, 30)
    assert sorted(r["status"] for r in runs) == ["succeeded"] * 3, runs
    [put] = [r for r in tave.requests if r.method == "PUT"]
    assert put.path == f"/address-book/{june}"
    assert put.headers["x-api-key"] == TAVE_KEY
    stored = tave.stored("contacts", june)
    assert stored is not None
    assert (stored["firstName"], stored["lastName"], stored["email"]) == (
        "June",
        "Carter",
        "june@example.com",
    )
    # The steps' runs go out concurrently: the catch hooks see them in either order.
    caught = sorted(zapier.catches, key=lambda c: c.kind)
    catches = [(c.kind, c.payload["action"], c.verified) for c in caught]
    assert catches == [("contacts", "create_client", True), ("projects", "create_project", True)]
    client, project = (c.payload for c in caught)
    assert (client["first_name"], client["email"]) == ("June", "june@example.com")
    assert (project["event_date"], project["venue"]) == ("2026-09-12", "The Barn, Bath")
    assert all(HB_SECRET not in str(c.payload) for c in zapier.catches)
