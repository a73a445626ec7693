"""Issue 13 acceptance: a Tave ``payment.created`` REST hook (thin: an event name and an
id) reaches a live server, which fetches the payment from Tave with the studio's key and
advances the couple waiting for a deposit; the same delivery again does nothing."""

from __future__ import annotations

import asyncio
import json

import pytest

from aisle import http_client
from aisle_crm_tave.client import TaveClient
from aisle_crm_tave.credentials import Credentials
from aisle_crm_tave.fake import FakeTave

from .conftest import TAVE_KEY, Live, completed, deposit_journey, enroll

pytestmark = pytest.mark.slow


async def test_a_thin_payment_hook_advances_the_couple_once(live: Live, tave: FakeTave) -> None:
    studio = await live.open_studio("tave-studio")
    connection = await live.connect(studio, "tave", api_key=TAVE_KEY, base_url=tave.url)
    [ada] = tave.seed("contacts", [{"email": "ada@example.com", "firstName": "Ada"}])
    [job] = tave.seed("jobs", [{"stage": "booked"}])
    tave.link(job, ada)
    [payment] = tave.seed(
        "payments", [{"jobId": job, "amount": 50000, "status": "posted", "received": "2026-02-01"}]
    )
    journey = await deposit_journey(studio.api, "USD")
    couple = await enroll(studio.api, journey, email="ada@example.com", external_ids={"tave": ada})
    other = await enroll(studio.api, journey, email="grace@example.com")
    # The studio subscribes its Tave to the connection's inbound URL (Tave's REST hooks).
    async with http_client(allow="127.0.0.1/32") as http:
        await TaveClient(Credentials(api_key=TAVE_KEY, base_url=tave.url), http).subscribe(
            live.inbound(connection), ["payment.created"]
        )

    fetches_before = len(tave.requests)
    assert await asyncio.to_thread(tave.deliver, "payment.created", payment) == [200]

    await completed(studio.api, couple["id"])
    fetched = [r for r in tave.requests[fetches_before:] if r.method == "GET"]
    # The payment, its couple (the job's contacts) and the studio's currency.
    assert f"/payment/{payment}" in [r.path for r in fetched]
    assert all(r.headers["x-api-key"] == TAVE_KEY for r in fetched)
    [received] = [
        r.event for r in await studio.scope.events.list() if r.event.type == "payment.received"
    ]
    assert received.contact_id == couple["contact_id"]
    assert (received.payload["amount"], received.payload["currency"]) == ("500.00", "USD")
    still = await studio.api("GET", f"/enrollments/{other['id']}")
    assert (still["status"], still["step_id"]) == ("active", "deposit")

    # Tave retrying the same delivery: answered 200, nothing happens again.
    assert await asyncio.to_thread(tave.deliver, "payment.created", payment) == [200]
    body = json.dumps({"event": "payment.created", "targetId": payment}).encode()
    again = await live.client.post(live.inbound(connection), content=body)
    assert again.json() == {"accepted": 0, "replayed": 1}
    events = [
        r.event for r in await studio.scope.events.list() if r.event.type == "payment.received"
    ]
    assert [e.id for e in events] == [received.id]
    taken = await studio.api("GET", "/log", params={"contact_id": couple["contact_id"]})
    assert [e["kind"] for e in taken["items"]].count("edge.taken") == 1
