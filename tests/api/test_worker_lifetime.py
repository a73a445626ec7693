"""The template and condition worker processes live as long as the app: when its
lifespan ends they are stopped and waited for, none left running or unreaped."""

from __future__ import annotations

import os
from pathlib import Path

from litestar import Litestar

from tests.api.conftest import Org, open_client
from tests.api.helpers import edge, node

# A comprehension: the condition runs in the condition pool, not in-process.
LOOPING = "contact.custom.tags.exists(t, t == 'vip')"


def _our_workers() -> set[int]:
    """This process's children running the bounded worker loop (zombies included: a
    worker killed but never waited for still counts)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        zombie = stat.rsplit(")", 1)[1].split()[0] == "Z"
        if parent == os.getpid() and (zombie or b"aisle._bounded_worker" in command):
            found.add(int(entry.name))
    return found


def _remaining(pids: set[int]) -> set[int]:
    return {pid for pid in pids if Path(f"/proc/{pid}").exists()}


async def test_no_worker_process_outlives_the_app(app: Litestar, org_a: Org) -> None:
    clients = open_client(app)
    client = await anext(clients)
    preview = await client.post(
        "/api/v1/action-executors/sms/preview",
        json={"config": {"body": "Hi {{ couple }}"}},
        headers=org_a.auth("viewer"),
    )
    assert preview.status_code == 200, preview.text
    flow = {
        "nodes": [node("start", "decision"), node("yes", "end", 200), node("no", "end", 200, 100)],
        "edges": [
            edge("vip", "start", "yes", "condition", expression=LOOPING),
            edge("else", "start", "no", "otherwise"),
        ],
        "viewport": {"x": 0, "y": 0, "zoom": 1},
    }
    made = await client.post(
        "/api/v1/journeys", json={"name": "VIP", "flow": flow}, headers=org_a.auth("editor")
    )
    assert made.status_code == 201, made.text
    simulated = await client.post(
        f"/api/v1/journeys/{made.json()['id']}/simulate",
        json={"contact": {"custom": {"tags": ["vip"]}}, "start_at": "2026-03-01T09:00:00Z"},
        headers=org_a.auth("viewer"),
    )
    assert simulated.status_code == 200, simulated.text
    assert simulated.json()["path"] == ["start", "yes"], simulated.text
    workers = _our_workers()
    assert len(workers) >= 2, "the template and condition pools should have started"

    async for _ in clients:  # the lifespan ends
        raise AssertionError("open_client yields once")

    assert not _remaining(workers), "worker processes outlived the app"
    assert not _our_workers()
