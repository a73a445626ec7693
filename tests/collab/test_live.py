"""The live stream over real sockets: WebSocket and SSE, replay on reconnect, roles."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from aisle.api import create_app
from aisle.api.config import ApiConfig
from aisle.contracts.registry import Registry
from aisle.settings import Settings
from aisle.storage.store import Store
from aisle.testing.servers import serve_in_loop

from .conftest import Studio


def ws_url(base_url: str, studio: Studio, query: str = "") -> str:
    return (
        base_url.replace("http://", "ws://") + f"/api/v1/journeys/{studio.journey.id}/live" + query
    )


async def receive(ws: ClientConnection, *types: str) -> list[dict[str, Any]]:
    """The next messages, checked against ``types`` in order (5 s at most)."""
    out = []
    async with asyncio.timeout(5):
        for expected in types:
            message = json.loads(await ws.recv())
            assert message["type"] == expected, message
            out.append(message)
    return out


def op(op_id: str, node_id: str, base: int) -> dict[str, Any]:
    return {
        "base_revision": base,
        "ops": [
            {
                "op": "update_node",
                "id": op_id,
                "node_id": node_id,
                "label": f"label {op_id}",
            }
        ],
    }


async def test_websocket_carries_presence_locks_and_ops(
    http: httpx.AsyncClient, base_url: str, studio: Studio
):
    j = studio.journey.id
    async with connect(
        ws_url(base_url, studio), additional_headers=studio.auth(studio.viewer)
    ) as ws:
        [hello] = await receive(ws, "hello")
        assert hello["revision"] == 0 and hello["sessions"] == [] and hello["locks"] == []

        joined = await http.post(
            f"/api/v1/journeys/{j}/presence", json={}, headers=studio.auth(studio.planner)
        )
        [event] = await receive(ws, "presence.joined")
        assert event["session"]["id"] == joined.json()["id"]

        await http.post(
            f"/api/v1/journeys/{j}/locks",
            json={"nodes": ["wait"]},
            headers=studio.auth(studio.planner),
        )
        [event] = await receive(ws, "lock.granted")
        assert event["locks"][0]["holder_name"] == "Pia Planner"
        token = event["locks"][0]["fencing_token"]

        applied = await http.post(
            f"/api/v1/journeys/{j}/flow/ops",
            json={**op("o1", "wait", 0), "fences": {"node:wait": token}},
            headers=studio.auth(studio.planner),
        )
        assert applied.status_code == 200
        [event] = await receive(ws, "ops.applied")
        assert event["revision"] == 1 and event["ops"][0]["id"] == "o1"
        assert event["actor"] == f"user:{studio.planner.id}"
        assert event["changes"][0]["id"] == "wait"

        await ws.send(json.dumps({"type": "ping"}))
        await receive(ws, "pong")
        await ws.send("not json")
        [error] = await receive(ws, "error")
        assert error["status"] == 400

        # Concurrent edits of one field: the loser's op is refused and announced.
        await http.post(
            f"/api/v1/journeys/{j}/flow/ops",
            json=op("o2", "end", 1),
            headers=studio.auth(studio.photographer),
        )
        await receive(ws, "ops.applied")
        refused = await http.post(
            f"/api/v1/journeys/{j}/flow/ops",
            json=op("o3", "end", 1),
            headers=studio.auth(studio.owner),
        )
        assert refused.status_code == 409
        [conflict] = await receive(ws, "conflict")
        assert conflict["conflicts"][0]["op_id"] == "o3"


async def test_websocket_heartbeats_and_owned_sessions(
    http: httpx.AsyncClient, base_url: str, studio: Studio
):
    j = studio.journey.id
    joined = await http.post(
        f"/api/v1/journeys/{j}/presence", json={}, headers=studio.auth(studio.planner)
    )
    session_id = joined.json()["id"]
    async with connect(
        ws_url(base_url, studio), additional_headers=studio.auth(studio.owner)
    ) as watcher:
        await receive(watcher, "hello")
        async with connect(
            ws_url(base_url, studio, f"?session_id={session_id}"),
            additional_headers=studio.auth(studio.planner),
        ) as canvas:
            [hello] = await receive(canvas, "hello")
            assert [s["id"] for s in hello["sessions"]] == [session_id]
            await canvas.send(
                json.dumps(
                    {
                        "type": "heartbeat",
                        "session_id": session_id,
                        "cursor": {"x": 120.5, "y": 80},
                        "selection": ["wait"],
                    }
                )
            )
            [moved] = await receive(watcher, "presence.updated")
            assert moved["cursor"] == {"x": 120.5, "y": 80} and moved["selection"] == ["wait"]
            # Someone else's session cannot be driven from this socket.
            await canvas.send(json.dumps({"type": "heartbeat", "session_id": "nope"}))
            [error] = (await receive(canvas, "presence.updated", "error"))[-1:]
            assert error["status"] == 404 and error["session_id"] == "nope"
        # Closing the canvas's socket ended its session at once.
        [left] = await receive(watcher, "presence.left")
        assert left["session_id"] == session_id and left["reason"] == "left"


async def test_reconnecting_with_a_revision_replays_what_was_missed(
    http: httpx.AsyncClient, base_url: str, studio: Studio
):
    j = studio.journey.id
    for n, node in enumerate(["start", "wait", "end"]):
        answer = await http.post(
            f"/api/v1/journeys/{j}/flow/ops",
            json=op(f"r{n}", node, n),
            headers=studio.auth(studio.planner),
        )
        assert answer.status_code == 200
    async with connect(
        ws_url(base_url, studio, "?since=1"), additional_headers=studio.auth(studio.viewer)
    ) as ws:
        hello, second, third = await receive(ws, "hello", "ops.applied", "ops.applied")
        assert hello["revision"] == 3 and hello["since"] == 1
        assert [second["revision"], third["revision"]] == [2, 3]
        assert second["replayed"] and second["ops"][0]["id"] == "r1"
        # Live ops follow the replay without a gap or a duplicate.
        await http.post(
            f"/api/v1/journeys/{j}/flow/ops",
            json=op("r3", "decide", 3),
            headers=studio.auth(studio.planner),
        )
        [live] = await receive(ws, "ops.applied")
        assert live["revision"] == 4 and not live["replayed"]

    async with connect(
        ws_url(base_url, studio, "?since=99"), additional_headers=studio.auth(studio.viewer)
    ) as ws:
        _, refetch = await receive(ws, "hello", "refetch")
        assert refetch["revision"] == 4 and "ahead" in refetch["reason"]

    # A whole-flow save cannot be replayed op by op: refetch.
    flow = await http.get(f"/api/v1/journeys/{j}/flow", headers=studio.auth(studio.planner))
    put = await http.put(
        f"/api/v1/journeys/{j}/flow",
        json=flow.json() | {"viewport": {"x": 1, "y": 2, "zoom": 1.5}},
        headers={**studio.auth(studio.planner), "If-Match": flow.headers["etag"]},
    )
    assert put.status_code == 200, put.text
    async with connect(
        ws_url(base_url, studio, "?since=3"), additional_headers=studio.auth(studio.viewer)
    ) as ws:
        _, refetch = await receive(ws, "hello", "refetch")
        assert refetch["revision"] == 5


async def test_who_may_watch(base_url: str, studio: Studio):
    with pytest.raises(InvalidStatus) as refused:
        async with connect(ws_url(base_url, studio)):
            pass
    assert refused.value.response.status_code in (401, 403)
    async with connect(ws_url(base_url, studio), additional_headers=studio.auth("other")) as ws:
        [error] = await receive(ws, "error")
        assert error["status"] == 404
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404


async def test_browsers_authenticate_with_a_subprotocol(base_url: str, studio: Studio):
    token = studio.tokens[studio.viewer.id]
    async with connect(
        ws_url(base_url, studio), subprotocols=["aisle.v1", f"aisle.bearer.{token}"]
    ) as ws:
        assert ws.subprotocol == "aisle.v1"
        await receive(ws, "hello")


async def test_sse_stream_for_the_dashboard(http: httpx.AsyncClient, base_url: str, studio: Studio):
    j = studio.journey.id
    await http.post(
        f"/api/v1/journeys/{j}/flow/ops",
        json=op("s0", "wait", 0),
        headers=studio.auth(studio.planner),
    )
    url = f"/api/v1/journeys/{j}/live/sse"
    async with http.stream(
        "GET", url, headers={**studio.auth(studio.viewer), "Last-Event-ID": "0"}
    ) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = _sse_events(stream)
        hello = await anext(events)
        assert hello["event"] == "hello" and hello["id"] == "1"
        replayed = await anext(events)
        assert replayed["event"] == "ops.applied" and json.loads(replayed["data"])["replayed"]
        await http.post(
            f"/api/v1/journeys/{j}/locks",
            json={"nodes": ["end"]},
            headers=studio.auth(studio.planner),
        )
        granted = await anext(events)
        assert granted["event"] == "lock.granted"
        assert json.loads(granted["data"])["locks"][0]["target_id"] == "end"


async def _sse_events(stream: httpx.Response) -> AsyncIterator[dict[str, str]]:
    event: dict[str, str] = {}
    async with asyncio.timeout(10):
        async for line in stream.aiter_lines():
            if not line:
                if event:
                    yield event
                event = {}
                continue
            if line.startswith(":"):
                continue
            key, _, value = line.partition(":")
            event[key] = value.removeprefix(" ")


@pytest.mark.redis
async def test_a_lost_redis_connection_tells_canvases_to_refetch(
    store: Store,
    registry: Registry,
    tmp_path: Path,
    redis_url: str,
    redis_namespace: str,
    studio: Studio,
):
    import os

    import redis.asyncio as aioredis

    settings = Settings(
        data_dir=str(tmp_path / "data"),
        database_url=store.db.url,
        redis_url=redis_url,
        queue_namespace=redis_namespace,
        secret_key="dGVzdC1vbmx5LWtleS10ZXN0LW9ubHkta2V5LXRlc3Q=",
    )
    app = create_app(settings, registry, store=store, config=ApiConfig(rate_limit=0))
    async with (
        serve_in_loop(app) as base,
        connect(ws_url(base, studio), additional_headers=studio.auth(studio.viewer)) as ws,
    ):
        await receive(ws, "hello")
        admin = aioredis.Redis.from_url(redis_url)
        try:
            # This process's hub connections are named after it; kill its pub/sub one.
            name = f"aisle-live-{os.getpid()}"
            pubsub = [c for c in await admin.client_list(_type="pubsub") if c["name"] == name]
            assert len(pubsub) == 1
            await admin.execute_command("CLIENT", "KILL", "ID", pubsub[0]["id"])
        finally:
            await admin.aclose()
        [refetch] = await receive(ws, "refetch")
        assert refetch["revision"] == 0 and "missed" in refetch["reason"]
        # The stream carries on over the new connection.
        async with httpx.AsyncClient(base_url=base) as http:
            await http.post(
                f"/api/v1/journeys/{studio.journey.id}/locks",
                json={"nodes": ["end"]},
                headers=studio.auth(studio.planner),
            )
        await receive(ws, "lock.granted")
