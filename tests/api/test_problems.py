"""Every error is an RFC 9457 problem document naming what is at fault; never a bare 500."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import get

from aisle.api import create_app
from aisle.api.config import ApiConfig
from aisle.api.ratelimit import MemoryRateLimiter, RedisRateLimiter
from aisle.contracts.registry import Registry
from aisle.settings import Settings
from aisle.storage.store import Store
from tests.api.conftest import Org, make_org, open_client
from tests.api.helpers import big_flow, edge, node, small_flow

PROBLEM = "application/problem+json"


def is_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["type"].startswith("https://")
    return body


async def test_malformed_json(client: httpx.AsyncClient, org_a: Org) -> None:
    response = await client.post(
        "/api/v1/journeys",
        content=b'{"name": "x",',
        headers=org_a.auth() | {"content-type": "application/json"},
    )
    assert "not valid JSON" in is_problem(response, 400)["detail"]


async def test_wrong_types_name_the_field(client: httpx.AsyncClient, org_a: Org) -> None:
    flow = small_flow()
    flow["nodes"][1]["position"]["x"] = "left"
    response = await client.post(
        "/api/v1/journeys", json={"name": "x", "flow": flow}, headers=org_a.auth()
    )
    body = is_problem(response, 400)
    assert body["errors"][0]["field"] == "flow.nodes[1].position.x"


async def test_unknown_fields_in_aisle_bodies_are_refused(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    response = await client.post(
        "/api/v1/journeys", json={"name": "x", "colour": "red"}, headers=org_a.auth()
    )
    assert "colour" in is_problem(response, 400)["detail"]


async def test_unknown_node_type_and_dangling_edge_name_node_and_edge(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    flow = {
        "nodes": [node("a", "email"), node("b", "teleport")],
        "edges": [edge("ab", "a", "b"), edge("ax", "a", "nowhere")],
        "viewport": {"x": 0, "y": 0, "zoom": 1},
    }
    created = await client.post("/api/v1/journeys", json={"name": "x"}, headers=org_a.auth())
    journey = created.json()
    response = await client.put(
        f"/api/v1/journeys/{journey['id']}/flow",
        json=flow,
        headers=org_a.auth() | {"If-Match": journey["etag"]},
    )
    body = is_problem(response, 422)
    by_code = {e["code"]: e for e in body["errors"]}
    assert by_code["unknown_node_type"]["node_id"] == "b"
    assert by_code["unknown_node_type"]["field"] == "nodes[1].type"
    assert by_code["dangling_edge"]["edge_id"] == "ax"
    assert by_code["dangling_edge"]["field"] == "edges[1].target"


async def test_ops_with_unknown_ids_name_the_op(client: httpx.AsyncClient, org_a: Org) -> None:
    journey = (
        await client.post("/api/v1/journeys", json={"name": "x"}, headers=org_a.auth())
    ).json()
    response = await client.post(
        f"/api/v1/journeys/{journey['id']}/flow/ops",
        json={
            "base_revision": 0,
            "ops": [
                {
                    "op": "add_edge",
                    "id": "o1",
                    "edge": {"id": "e", "source": "ghost", "target": "x"},
                }
            ],
        },
        headers=org_a.auth(),
    )
    body = is_problem(response, 422)
    assert body["errors"][0]["field"] == "ops[0].edge.source"
    assert body["errors"][0]["edge_id"] == "e"


async def test_oversized_body_and_graph(store: Store, registry: Registry, tmp_path: Path) -> None:
    org = await make_org(store, "sizes")
    config = ApiConfig(rate_limit=0, max_body_bytes=20_000)
    app = create_app(Settings(data_dir=str(tmp_path)), registry, store=store, config=config)
    async for client in open_client(app):
        big = await client.post(
            "/api/v1/journeys", json={"name": "x", "flow": big_flow(200)}, headers=org.auth()
        )
        assert "20000-byte" in is_problem(big, 413)["detail"]
    limited = ApiConfig(
        rate_limit=0,
        graph_limits=config.graph_limits.__class__(max_nodes=10, max_edges=10),
    )
    app = create_app(Settings(data_dir=str(tmp_path)), registry, store=store, config=limited)
    async for client in open_client(app):
        many = await client.post(
            "/api/v1/journeys", json={"name": "x", "flow": big_flow(11)}, headers=org.auth()
        )
        body = is_problem(many, 422)
        assert body["errors"][0]["code"] == "too_many_nodes"


async def test_routing_errors_and_auth_are_problems(client: httpx.AsyncClient, org_a: Org) -> None:
    is_problem(await client.get("/api/v1/nope", headers=org_a.auth()), 404)
    is_problem(await client.delete("/api/v1/node-types", headers=org_a.auth()), 405)
    missing = is_problem(await client.get("/api/v1/journeys"), 401)
    assert "Bearer" in missing["detail"]
    is_problem(await client.get("/api/v1/journeys", headers={"Authorization": "Basic x"}), 401)
    is_problem(await client.get("/api/v1/journeys/nope", headers=org_a.auth()), 404)


async def test_an_unexpected_error_is_a_500_problem_without_internals(
    store: Store, registry: Registry, tmp_path: Path
) -> None:
    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    app = create_app(Settings(data_dir=str(tmp_path)), registry, store=store, extra_handlers=[boom])
    async for client in open_client(app):
        response = await client.get("/boom")
    body = is_problem(response, 500)
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
    assert body["detail"]


async def test_cors_only_for_configured_origins(
    store: Store, registry: Registry, tmp_path: Path
) -> None:
    preflight = {
        "Origin": "https://canvas.example",
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "authorization,if-match",
    }
    closed = create_app(Settings(data_dir=str(tmp_path)), registry, store=store)
    async for client in open_client(closed):
        response = await client.options("/api/v1/journeys", headers=preflight)
        assert "access-control-allow-origin" not in response.headers
    opened = create_app(
        Settings(data_dir=str(tmp_path)),
        registry,
        store=store,
        config=ApiConfig(cors_origins=("https://canvas.example",)),
    )
    async for client in open_client(opened):
        response = await client.options("/api/v1/journeys", headers=preflight)
        assert response.headers["access-control-allow-origin"] == "https://canvas.example"
        other = await client.options(
            "/api/v1/journeys", headers=preflight | {"Origin": "https://evil.example"}
        )
        assert other.headers.get("access-control-allow-origin") != "https://evil.example"


def test_api_config_reads_the_environment() -> None:
    config = ApiConfig.from_environ(
        {
            "AISLE_CORS_ORIGINS": "https://a.example, https://b.example/",
            "AISLE_RATE_LIMIT": "30/second",
            "AISLE_MAX_BODY_BYTES": "1000",
            "AISLE_MAX_GRAPH_NODES": "7",
        }
    )
    assert config.cors_origins == ("https://a.example", "https://b.example")
    assert (config.rate_limit, config.rate_window_seconds) == (30, 1)
    assert config.max_body_bytes == 1000 and config.graph_limits.max_nodes == 7
    with pytest.raises(ValueError, match="AISLE_RATE_LIMIT"):
        ApiConfig.from_environ({"AISLE_RATE_LIMIT": "lots"})


async def _exhaust(
    store: Store, registry: Registry, tmp_path: Path, limiter: MemoryRateLimiter | RedisRateLimiter
) -> None:
    org = await make_org(store, "limited")
    app = create_app(
        Settings(data_dir=str(tmp_path)),
        registry,
        store=store,
        config=ApiConfig(rate_limit=3, rate_window_seconds=3600),
        limiter=limiter,
    )
    async for client in open_client(app):
        for _ in range(3):
            ok = await client.get("/api/v1/me", headers=org.auth("viewer"))
            assert ok.status_code == 200
            assert ok.headers["ratelimit-limit"] == "3"
        refused = await client.get("/api/v1/me", headers=org.auth("viewer"))
        body = is_problem(refused, 429)
        assert int(refused.headers["retry-after"]) > 0
        assert "3 requests" in body["detail"]
        # another token has a budget of its own
        assert (await client.get("/api/v1/me", headers=org.auth("editor"))).status_code == 200


async def test_rate_limit_per_token_in_memory(
    store: Store, registry: Registry, tmp_path: Path
) -> None:
    await _exhaust(store, registry, tmp_path, MemoryRateLimiter())


@pytest.mark.redis
async def test_rate_limit_per_token_in_redis_is_shared_between_processes(
    store: Store, registry: Registry, tmp_path: Path, redis_url: str, redis_namespace: str
) -> None:
    limiter = RedisRateLimiter(redis_url, namespace=redis_namespace)
    await _exhaust(store, registry, tmp_path, limiter)
    # a second limiter (another API process) sees the same counts
    one = RedisRateLimiter(redis_url, namespace=redis_namespace)
    two = RedisRateLimiter(redis_url, namespace=redis_namespace)
    try:
        first = await one.hit("token:shared", 2, 3600)
        again = await two.hit("token:shared", 2, 3600)
        third = await one.hit("token:shared", 2, 3600)
        assert (first.allowed, again.allowed, third.allowed) == (True, True, False)
        assert third.remaining == 0 and third.headers(3600)["Retry-After"]
    finally:
        await one.close()
        await two.close()


async def test_every_operation_declares_its_problems_as_problem_json(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    operations = 0
    for path, item in document["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            operations += 1
            responses = operation["responses"]
            expected = {"400", "401", "403", "429"}
            if "{" in path or "requestBody" in operation:
                expected.add("404")
            if "requestBody" in operation:
                expected |= {"413", "422"}
            if method != "get":
                expected.add("409")
            assert expected <= set(responses), f"{method} {path}: {sorted(responses)}"
            for status in expected:
                content = responses[status]["content"]
                assert set(content) == {PROBLEM}, f"{method} {path} {status}"
    assert operations > 50
    flow = document["paths"]["/api/v1/journeys/{journey_id}/flow"]["put"]["responses"]
    assert {"412", "423", "428"} <= set(flow)


async def test_strict_bodies_are_described_as_strict(client: httpx.AsyncClient) -> None:
    schemas = (await client.get("/schema/openapi.json")).json()["components"]["schemas"]
    assert schemas["ContactIn"]["additionalProperties"] is False
    # constraints inside containers, which Litestar alone leaves out
    nodes = schemas["AcquireLocks"]["properties"]["nodes"]
    assert nodes["items"]["minLength"] == 1


async def test_options_lists_every_method_of_a_path(client: httpx.AsyncClient, org_a: Org) -> None:
    response = await client.options("/api/v1/contacts/someone", headers=org_a.auth())
    assert set(response.headers["allow"].split(", ")) == {"DELETE", "GET", "OPTIONS", "PATCH"}


async def test_lenient_conversions_are_refused(client: httpx.AsyncClient, org_a: Org) -> None:
    # Litestar alone took 0 for false and a number for a date-time, which the
    # OpenAPI document does not admit.
    contact = (await client.post("/api/v1/contacts", json={}, headers=org_a.auth())).json()
    event = {"type": "a", "contact_id": contact["id"], "occurred_at": 0}
    sent = await client.post("/api/v1/events", json=event, headers=org_a.auth())
    assert is_problem(sent, 400)["errors"][0]["field"] == "occurred_at"
    numeric = await client.get("/api/v1/log", params={"until": "0.5"}, headers=org_a.auth())
    assert is_problem(numeric, 400)["errors"][0]["field"] == "until"
    twice = await client.get("/api/v1/log?kind=a&kind=b", headers=org_a.auth())
    assert is_problem(twice, 400)["errors"][0]["field"] == "kind"
    # a whole number written as 0.0 is still an integer, as JSON Schema has it
    journey = (
        await client.post(
            "/api/v1/journeys", json={"name": "x", "flow": small_flow()}, headers=org_a.auth()
        )
    ).json()
    move = {"op": "move_node", "id": "m", "node_id": "wait", "position": {"x": 1, "y": 1}}
    ops = await client.post(
        f"/api/v1/journeys/{journey['id']}/flow/ops",
        json={"base_revision": 0.0, "ops": [move]},
        headers=org_a.auth(),
    )
    assert ops.status_code == 200, ops.text
