"""Issue 13 acceptance: credentials never in clear. A live server takes a studio's Tave
key, HoneyBook secret and Stripe endpoint secret and uses them (a fetched payment, a
refused and a genuine Zap, a push retried after a 429); none of them appears in the
server's output, in what the API answers, or anywhere in the database. Rotating
``AISLE_SECRET_KEY`` re-encrypts the connections: new ciphertext, readable by the new key
only, and a server holding only the new key goes on fetching from Tave."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aisle.crm.connections import rotate_credentials
from aisle.storage.credentials import CredentialCipher, CredentialError
from aisle.storage.database import Database
from aisle.storage.store import Store
from aisle_crm_honeybook.fake import FakeHoneyBookZapier, honeybook_zaps
from aisle_crm_tave.fake import FakeTave
from aisle_payments_stripe.testing import signed_headers, stripe_event
from tests.api.helpers import edge, node

from .conftest import (
    HB_SECRET,
    KEY,
    SECRETS,
    STRIPE_SECRET,
    TAVE_KEY,
    Api,
    Live,
    completed,
    crm_deps,
    deposit_journey,
    enroll,
    live_server,
    publish,
    until,
)

pytestmark = pytest.mark.slow

NEW_KEY = "cm90YXRlZC1rZXktcm90YXRlZC1rZXktcm90YXRlZC0="
CREDENTIALS = (TAVE_KEY, HB_SECRET, STRIPE_SECRET)


async def _tables(db: Database) -> list[str]:
    if db.dialect == "postgres":
        rows = await db.execute(
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
        )
    else:
        rows = await db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    return [str(row["name"]) for row in rows]


async def _database_text(db: Database) -> str:
    """Every row of every table, as text."""
    dumps = [repr(await db.execute(f'SELECT * FROM "{table}"')) for table in await _tables(db)]
    return "\n".join(dumps)


async def _stored_credentials(db: Database) -> dict[str, str]:
    rows = await db.execute("SELECT provider, credentials FROM crm_connections")
    return {str(row["provider"]): str(row["credentials"]) for row in rows}


async def _api_answers(api: Api, studio_id: str) -> str:
    """What the studio's API answers about everything these secrets touched."""
    paths = [
        "/log",
        "/crm/connections",
        "/action-runs",
        "/settings/sources",
        "/settings/sources/stripe",
        "/enrollments",
        "/contacts",
        f"/organizations/{studio_id}",
    ]
    answers = []
    for path in paths:
        response = await api.client.get(f"/api/v1{path}", headers=api.headers)
        answers.append(f"{path} {response.status_code} {response.text}")
    return "\n".join(answers)


def _push_flow() -> dict[str, Any]:
    config = {"provider": "tave", "fields": {"email": "{{ contact.email }}"}}
    return {
        "nodes": [node("push", "crm_update", 0, 0, config=config), node("done", "end", 200, 0)],
        "edges": [edge("e1", "push", "done")],
        "viewport": {"x": 0, "y": 0, "zoom": 1},
    }


async def _use_every_secret(
    live: Live, tave: FakeTave, zapier: FakeHoneyBookZapier
) -> tuple[Api, str, str]:
    """A studio with both connections and Stripe, each secret used; (api, id, payment's
    Tave job)."""
    studio = await live.open_studio("secret-studio")
    tave_connection = await live.connect(studio, "tave", api_key=TAVE_KEY, base_url=tave.url)
    hb = await live.connect(studio, "honeybook", webhook_secret=HB_SECRET, **zapier.hook_urls())
    source = await studio.api(
        "PUT", "/settings/sources/stripe", json={"signing_secret": STRIPE_SECRET}
    )
    assert source["secret_set"] is True

    [ada] = tave.seed("contacts", [{"email": "ada@example.com"}])
    [job] = tave.seed("jobs", [{"stage": "booked"}])
    tave.link(job, ada)
    [payment] = tave.seed("payments", [{"jobId": job, "amount": 30000, "status": "posted"}])
    deposit = await deposit_journey(studio.api, "USD")
    couple = await enroll(studio.api, deposit, email="ada@example.com", external_ids={"tave": ada})
    thin = json.dumps({"event": "payment.created", "targetId": payment}).encode()
    taken = await live.client.post(live.inbound(tave_connection), content=thin)
    assert taken.json() == {"accepted": 1, "replayed": 0}, taken.text
    await completed(studio.api, couple["id"])

    zaps = honeybook_zaps(HB_SECRET)
    headers, body = zaps.delivery("client_created", {"id": "hb_1", "email": "bo@example.com"})
    forged = await live.client.post(live.inbound(hb), content=body + b" ", headers=headers)
    assert forged.status_code == 400
    genuine = await live.client.post(live.inbound(hb), content=body, headers=headers)
    assert genuine.status_code == 200, genuine.text

    intent = stripe_event(
        "payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent"}, event_id="evt_1"
    )
    refused = await live.client.post(
        f"{live.url}/api/v1/inbound/sources/stripe/{studio.id}",
        content=intent,
        headers=signed_headers(intent, "whsec_forgedForgedForged0123456"),
    )
    assert refused.status_code == 400

    tave.rate_limit(1, retry_after=1)  # the push fails once and is retried
    pushed = await publish(studio.api, "Push", _push_flow(), "push")
    await studio.api(
        "POST", "/enrollments", 201, json={"contact_id": couple["contact_id"], "journey_id": pushed}
    )

    async def pushed_to_tave() -> bool:
        return any(r.method == "PUT" for r in tave.requests)

    await until(pushed_to_tave, 30)
    return studio.api, studio.id, job


async def test_credentials_stay_hidden_and_rotating_the_key_re_encrypts_them(
    store: Store, tmp_path: Path, tave: FakeTave, zapier: FakeHoneyBookZapier
) -> None:
    data = tmp_path / "data"
    async with live_server(store, data) as live:
        api, studio_id, job = await _use_every_secret(live, tave, zapier)
        answers = await _api_answers(api, studio_id)
        refusals = await api("GET", "/log", params={"kind": "crm.webhook_refused"})
    output = "\n".join([*live.served.lines, live.served.stderr])
    assert "refused a webhook for CRM connection" in output  # the log was captured
    for secret in SECRETS:
        assert secret not in output
        assert secret not in answers
    assert len(refusals["items"]) == 1
    database = await _database_text(store.db)
    for secret in CREDENTIALS:
        assert secret not in database

    # The operator rotates: the old key moves to AISLE_PREVIOUS_SECRET_KEYS, then the
    # connections are re-encrypted with the new one.
    before = await _stored_credentials(store.db)
    rotated = await rotate_credentials(crm_deps(store, data, NEW_KEY, previous=(KEY,)))
    after = await _stored_credentials(store.db)
    assert rotated == 2
    assert set(after) == {"tave", "honeybook"}
    for provider, token in after.items():
        assert token != before[provider]
        with pytest.raises(CredentialError):
            CredentialCipher(KEY).decrypt(token)
    assert CredentialCipher(NEW_KEY).decrypt(after["tave"])["api_key"] == TAVE_KEY
    assert CredentialCipher(NEW_KEY).decrypt(after["honeybook"])["webhook_secret"] == HB_SECRET

    # A server with only the new key reads them: a second payment is fetched from Tave.
    [second] = tave.seed("payments", [{"jobId": job, "amount": 20000, "status": "posted"}])
    async with live_server(store, data, AISLE_SECRET_KEY=NEW_KEY) as renewed:
        [connection] = await store.for_org(studio_id).crm_connections.list(provider="tave")
        thin = json.dumps({"event": "payment.created", "targetId": second}).encode()
        taken = await renewed.client.post(renewed.inbound(connection.id), content=thin)
        assert taken.json() == {"accepted": 1, "replayed": 0}, taken.text
        logged = await renewed.client.get(
            "/api/v1/log", params={"kind": "crm.credentials_rotated"}, headers=api.headers
        )
        assert len(logged.json()["items"]) == 2
    assert all(s not in renewed.served.stderr for s in (NEW_KEY, *CREDENTIALS))
