"""``POST /events/batch`` is all or none: an event naming an unknown contact refuses the
batch with a 404 naming that event's field, and nothing of it is accepted."""

from __future__ import annotations

import httpx

from tests.api.conftest import Org
from tests.api.test_lifecycle_api import Api


async def test_a_batch_with_an_unknown_contact_names_it_and_accepts_nothing(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    api = Api(client, org_a, "editor")
    contact = await api("POST", "/contacts", 201, json={"email": "e@example.com"})
    event = {"type": "form.submitted", "idempotency_key": "one", "contact_id": contact["id"]}
    refused = await api(
        "POST",
        "/events/batch",
        404,
        json={"events": [event, event | {"idempotency_key": "two", "contact_id": "nobody"}]},
    )
    assert "nobody" in refused["detail"]
    assert [e["field"] for e in refused["errors"]] == ["events[1].contact_id"]
    again = await api("POST", "/events/batch", json={"events": [event]})
    assert [e["created"] for e in again["items"]] == [True]
