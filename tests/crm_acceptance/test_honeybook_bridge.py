"""Issue 13 acceptance: HoneyBook's Zaps post to a live server's connection URL. A bad
signature and an old timestamp are refused (400) and logged without the secret; a genuine
payment Zap advances the couple; Zapier's "replay task" is a 200 that does nothing."""

from __future__ import annotations

import time

import pytest

from aisle_crm_honeybook.fake import FakeHoneyBookZapier, honeybook_zaps

from .conftest import HB_SECRET, Live, completed, deposit_journey, enroll

pytestmark = pytest.mark.slow

PAYMENT = {
    "id": "hb_pay_31",
    "client_id": "hb_cl_4",
    "email": "june@example.com",
    "amount": "1200.00",
    "currency": "USD",
    "project_id": "hb_pr_9",
}


async def test_forged_and_stale_zaps_are_refused_and_logged_a_genuine_one_taken_once(
    live: Live, zapier: FakeHoneyBookZapier
) -> None:
    studio = await live.open_studio("hb-studio")
    connection = await live.connect(
        studio, "honeybook", webhook_secret=HB_SECRET, **zapier.hook_urls()
    )
    journey = await deposit_journey(studio.api, "USD")
    couple = await enroll(studio.api, journey, email="june@example.com")
    zaps = honeybook_zaps(HB_SECRET)
    url = live.inbound(connection)

    headers, body = zaps.delivery("payment_paid", PAYMENT)
    forged = await live.client.post(
        url, content=body.replace(b"1200.00", b"12.00"), headers=headers
    )
    stale = await live.client.post(
        url, content=body, headers=zaps.delivery("payment_paid", PAYMENT, at=time.time() - 3600)[0]
    )
    for refused in (forged, stale):
        assert refused.status_code == 400, refused.text
        assert HB_SECRET not in refused.text
    logged = await studio.api("GET", "/log", params={"kind": "crm.webhook_refused"})
    reasons = sorted(entry["data"]["reason"] for entry in logged["items"])
    assert len(reasons) == 2, reasons
    assert any("signature" in reason for reason in reasons)
    assert any("s old" in reason for reason in reasons)
    assert all(HB_SECRET not in str(entry) for entry in logged["items"])
    before = await studio.api("GET", f"/enrollments/{couple['id']}")
    assert (before["status"], before["step_id"]) == ("active", "deposit")

    genuine = await live.client.post(url, content=body, headers=headers)
    assert genuine.status_code == 200, genuine.text
    assert genuine.json() == {"accepted": 1, "replayed": 0}
    await completed(studio.api, couple["id"])
    [paid] = [
        r.event for r in await studio.scope.events.list() if r.event.type == "payment.received"
    ]
    assert paid.contact_id == couple["contact_id"]
    assert (paid.payload["amount"], paid.payload["currency"]) == ("1200.00", "USD")

    # Zapier's "replay task": the same fields under a new webhook-id, freshly signed.
    replay_headers, replay_body = zaps.delivery("payment_paid", PAYMENT)
    replay = await live.client.post(url, content=replay_body, headers=replay_headers)
    assert replay.status_code == 200, replay.text
    assert replay.json() == {"accepted": 0, "replayed": 1}
    # The very same request again (a network retry) likewise.
    again = await live.client.post(url, content=body, headers=headers)
    assert again.json() == {"accepted": 0, "replayed": 1}
    events = [r.event for r in await studio.scope.events.list()]
    assert [e.id for e in events if e.type == "payment.received"] == [paid.id]
