"""Collaboration over HTTP against a real server: locks, fencing, presence, roles.

The app runs under uvicorn in the test's event loop (real sockets, the test's store
and clock), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx

from aisle.clock import TestClock
from aisle.storage.store import Store

from .conftest import NODE_IDS, Studio, token_for


def locks_url(studio: Studio, suffix: str = "") -> str:
    return f"/api/v1/journeys/{studio.journey.id}/locks{suffix}"


def move(op_id: str, node_id: str, base: int, fences: dict[str, int] | None = None) -> Any:
    body: dict[str, Any] = {
        "base_revision": base,
        # A position of its own per op id, so that every op changes something.
        "ops": [
            {
                "op": "move_node",
                "id": op_id,
                "node_id": node_id,
                "position": {"x": sum(map(ord, op_id)), "y": len(op_id)},
            }
        ],
    }
    if fences is not None:
        body["fences"] = fences
    return body


async def test_fifty_clients_race_for_one_edit_lock(
    http: httpx.AsyncClient, store: Store, studio: Studio, clock: TestClock
):
    scope = store.for_org(studio.org)
    racers = []
    for i in range(50):
        user = await scope.users.create(
            email=f"racer{i}@rose.test", role="editor", name=f"Racer {i}"
        )
        racers.append((user, await token_for(store, user)))

    async def race(token: str) -> httpx.Response:
        return await http.post(
            locks_url(studio),
            json={"nodes": ["brochure"], "mode": "edit"},
            headers={"Authorization": f"Bearer {token}"},
        )

    answers = await asyncio.gather(*(race(token) for _, token in racers))
    statuses = [a.status_code for a in answers]
    assert statuses.count(200) == 1, statuses
    assert statuses.count(409) == 49, statuses
    winner_index = statuses.index(200)
    winner, winner_token = racers[winner_index]
    [lock] = answers[winner_index].json()["locks"]
    assert lock["holder"] == winner.id and lock["fencing_token"] == 1
    for answer in answers:
        if answer.status_code == 409:
            problem = answer.json()
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert f"locked for editing by {winner.name}" in problem["detail"]
            assert problem["holders"][0]["holder"] == winner.id
            assert problem["holders"][0]["expires_at"] == lock["expires_at"]
            assert problem["errors"][0]["node_id"] == "brochure"

    # The winner writes with its token.
    wrote = await http.post(
        f"/api/v1/journeys/{studio.journey.id}/flow/ops",
        json=move("w1", "brochure", 0, {"node:brochure": 1}),
        headers={"Authorization": f"Bearer {winner_token}"},
    )
    assert wrote.status_code == 200, wrote.text

    # The winner's laptop sleeps past the lease; someone else takes the node.
    clock.advance(minutes=5)
    late_user, late_token = racers[(winner_index + 1) % 50]
    taken = await http.post(
        locks_url(studio),
        json={"nodes": ["brochure"]},
        headers={"Authorization": f"Bearer {late_token}"},
    )
    assert taken.status_code == 200, taken.text
    assert taken.json()["locks"][0]["fencing_token"] == 2

    # The first holder's write with its old token is refused, naming holder and expiry.
    stale = await http.post(
        f"/api/v1/journeys/{studio.journey.id}/flow/ops",
        json=move("w2", "brochure", 1, {"node:brochure": 1}),
        headers={"Authorization": f"Bearer {winner_token}"},
    )
    assert stale.status_code == 423, stale.text
    problem = stale.json()
    assert late_user.name in problem["detail"]
    assert taken.json()["locks"][0]["expires_at"].replace("+00:00", "Z")[:19] in problem["detail"]
    assert problem["refusals"][0]["reason"] == "stale_token"
    assert problem["holders"][0]["holder"] == late_user.id
    assert problem["errors"][0]["node_id"] == "brochure"
    flow = await http.get(
        f"/api/v1/journeys/{studio.journey.id}/flow", headers=studio.auth(studio.owner)
    )
    assert flow.headers["etag"].endswith('.r1"')  # only the winner's first write landed
    data = {n["id"]: n["data"] for n in flow.json()["nodes"]}
    assert data["brochure"]["lock"]["edit"]["holder"] == late_user.id
    assert data["wait"]["lock"] is None


async def test_batch_acquire_over_http_is_all_or_nothing_under_contention(
    http: httpx.AsyncClient, store: Store, studio: Studio
):
    rng = random.Random(11)
    scope = store.for_org(studio.org)
    clients = []
    for i in range(20):
        user = await scope.users.create(email=f"b{i}@rose.test", role="editor", name=f"B{i}")
        batch = rng.sample(NODE_IDS, rng.randint(2, 4))
        clients.append((user, await token_for(store, user), batch))

    async def grab(token: str, batch: list[str]) -> int:
        answer = await http.post(
            locks_url(studio),
            json={"nodes": batch, "edges": []},
            headers={"Authorization": f"Bearer {token}"},
        )
        return answer.status_code

    statuses = await asyncio.gather(*(grab(t, b) for _, t, b in clients))
    assert set(statuses) <= {200, 409} and 200 in statuses
    listed = await http.get(locks_url(studio), headers=studio.auth(studio.viewer))
    held: dict[str, set[str]] = {}
    for lock in listed.json()["locks"]:
        held.setdefault(lock["holder"], set()).add(lock["target_id"])
    for (user, _, batch), status in zip(clients, statuses, strict=True):
        assert held.get(user.id, set()) == (set(batch) if status == 200 else set())


async def test_lock_lifecycle_and_roles(
    http: httpx.AsyncClient, store: Store, studio: Studio, clock: TestClock
):
    pia, vic, owner = studio.planner, studio.viewer, studio.owner
    got = await http.post(
        locks_url(studio),
        json={"nodes": ["wait"], "edges": ["e-wait-decide"]},
        headers=studio.auth(pia),
    )
    assert got.status_code == 200
    tokens = {
        f"{x['target_kind']}:{x['target_id']}": x["fencing_token"] for x in got.json()["locks"]
    }

    # Viewers watch but may not lock; another studio does not see the journey at all.
    refused = await http.post(locks_url(studio), json={"nodes": ["end"]}, headers=studio.auth(vic))
    assert refused.status_code == 403
    listed = await http.get(locks_url(studio), headers=studio.auth(vic))
    assert len(listed.json()["locks"]) == 2
    hidden = await http.get(locks_url(studio), headers=studio.auth("other"))
    assert hidden.status_code == 404
    unknown = await http.post(locks_url(studio), json={"nodes": ["nope"]}, headers=studio.auth(pia))
    assert unknown.status_code == 404 and "nope" in unknown.json()["detail"]
    empty = await http.post(locks_url(studio), json={}, headers=studio.auth(pia))
    assert empty.status_code == 422

    # The holder writes without its token: refused, and told which token to send.
    forgot = await http.post(
        f"/api/v1/journeys/{studio.journey.id}/flow/ops",
        json=move("p1", "wait", 0),
        headers=studio.auth(pia),
    )
    assert forgot.status_code == 423 and "node:wait=" in forgot.json()["detail"]
    # Someone else's write on the locked node is refused; on a free node it merges.
    other = await http.post(
        f"/api/v1/journeys/{studio.journey.id}/flow/ops",
        json=move("p2", "wait", 0),
        headers=studio.auth(studio.photographer),
    )
    assert other.status_code == 423 and "Pia Planner" in other.json()["detail"]
    free = await http.post(
        f"/api/v1/journeys/{studio.journey.id}/flow/ops",
        json=move("p3", "end", 0),
        headers=studio.auth(studio.photographer),
    )
    assert free.status_code == 200
    # Removing a node takes its edges with it: a locked edge blocks that too.
    remove = await http.post(
        f"/api/v1/journeys/{studio.journey.id}/flow/ops",
        json={
            "base_revision": 1,
            "ops": [{"op": "remove_node", "id": "p4", "node_id": "decide"}],
        },
        headers=studio.auth(studio.photographer),
    )
    assert remove.status_code == 423 and remove.json()["errors"][0]["edge_id"] == "e-wait-decide"
    # A whole-flow save carries tokens in a header.
    flow = await http.get(f"/api/v1/journeys/{studio.journey.id}/flow", headers=studio.auth(pia))
    document = flow.json()
    for node in document["nodes"]:
        if node["id"] == "wait":
            node["position"] = {"x": 42, "y": 42}
    put = await http.put(
        f"/api/v1/journeys/{studio.journey.id}/flow",
        json=document,
        headers={**studio.auth(pia), "If-Match": flow.headers["etag"]},
    )
    assert put.status_code == 423
    put = await http.put(
        f"/api/v1/journeys/{studio.journey.id}/flow",
        json=document,
        headers={
            **studio.auth(pia),
            "If-Match": flow.headers["etag"],
            "Aisle-Fencing-Tokens": ", ".join(f"{k}={v}" for k, v in tokens.items()),
        },
    )
    assert put.status_code == 200, put.text

    # Renew, then lose one lease to an admin's force-release.
    clock.advance(minutes=4)
    renewed = await http.post(
        locks_url(studio, "/renew"), json={"nodes": ["wait"]}, headers=studio.auth(pia)
    )
    assert renewed.status_code == 200
    assert renewed.json()["locks"][0]["expires_at"].startswith("2026-01-05T09:09:00")
    not_admin = await http.post(
        locks_url(studio, "/force-release"),
        json={"nodes": ["wait"]},
        headers=studio.auth(studio.photographer),
    )
    assert not_admin.status_code == 403
    forced = await http.post(
        locks_url(studio, "/force-release"),
        json={"nodes": ["wait"], "reason": "Pia is at a wedding"},
        headers=studio.auth(owner),
    )
    assert forced.status_code == 200 and forced.json()["locks"][0]["holder"] == pia.id
    lost = await http.post(
        locks_url(studio, "/renew"),
        json={"nodes": ["wait"], "edges": ["e-wait-decide"]},
        headers=studio.auth(pia),
    )
    assert lost.status_code == 409
    assert lost.json()["lost"] == ["node:wait"]
    assert [r["target_id"] for r in lost.json()["renewed"]] == ["e-wait-decide"]
    log = await store.for_org(studio.org).log.list()  # type: ignore[attr-defined]
    assert any(e.kind == "lock.force_released" and "at a wedding" in e.message for e in log)

    released = await http.post(
        locks_url(studio, "/release"), json={"all": True}, headers=studio.auth(pia)
    )
    assert [r["target_id"] for r in released.json()["locks"]] == ["e-wait-decide"]
    assert (await http.get(locks_url(studio), headers=studio.auth(pia))).json()["locks"] == []


async def test_presence_over_http(http: httpx.AsyncClient, studio: Studio, clock: TestClock):
    url = f"/api/v1/journeys/{studio.journey.id}/presence"
    pia = await http.post(
        url, json={"viewport": {"x": 0, "y": 0, "zoom": 1}}, headers=studio.auth(studio.planner)
    )
    phil = await http.post(url, json={}, headers=studio.auth(studio.photographer))
    assert pia.status_code == phil.status_code == 201
    assert pia.json()["color"] != phil.json()["color"]
    assert pia.json()["display_name"] == "Pia Planner"
    assert (await http.post(url, json={}, headers=studio.auth(studio.viewer))).status_code == 403

    session = pia.json()["id"]
    beat = await http.post(
        f"{url}/{session}/heartbeat",
        json={"cursor": {"x": 3, "y": 4}, "selection": ["wait"]},
        headers=studio.auth(studio.planner),
    )
    assert beat.status_code == 200 and beat.json()["cursor"] == {"x": 3, "y": 4}
    bad = await http.post(
        f"{url}/{session}/heartbeat",
        json={"cursor": {"x": "left"}},
        headers=studio.auth(studio.planner),
    )
    assert bad.status_code in (400, 422) and "cursor" in bad.text
    stolen = await http.post(
        f"{url}/{session}/heartbeat", json={}, headers=studio.auth(studio.photographer)
    )
    assert stolen.status_code == 404
    listed = await http.get(url, headers=studio.auth(studio.viewer))
    assert [s["id"] for s in listed.json()["sessions"]] == [session, phil.json()["id"]]

    gone = await http.delete(f"{url}/{session}", headers=studio.auth(studio.planner))
    assert gone.status_code == 204
    again = await http.post(
        f"{url}/{session}/heartbeat", json={}, headers=studio.auth(studio.planner)
    )
    assert again.status_code == 404
    clock.advance(seconds=30)
    assert (await http.get(url, headers=studio.auth(studio.viewer))).json()["sessions"] == []
