"""Previews of templates that would freeze or exhaust the server: each is a 422 naming
the field, the work given up on is killed, and one organization's burst of slow
previews does not hold up another organization's preview."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from aisle.api import previews
from aisle.bounded import configure, shared_pool
from tests.api.conftest import Org
from tests.api.test_previews_api import EMAIL, problem

TIMEOUT = 1.5
SPIN = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
GROW = (
    '{% set a = "x" * 100000 %}{% set b = a~a~a~a~a~a~a~a~a~a %}'
    "{% set c = b~b~b~b~b~b~b~b~b~b %}{% set d = c~c~c~c~c~c~c~c~c~c %}"
    "{% set e = d~d~d~d~d~d~d~d~d~d %}{{ e | length }}"
)


@pytest.fixture(scope="module")
def bounds() -> Iterator[None]:
    configure(
        {
            "AISLE_TEMPLATE_TIMEOUT_SECONDS": str(TIMEOUT),
            "AISLE_TEMPLATE_MAX_MEMORY_MB": "128",
            "AISLE_TEMPLATE_WORKERS": "2",
        }
    )
    yield
    configure({})


async def _preview(
    client: httpx.AsyncClient, org: Org, executor: str, config: dict[str, Any]
) -> httpx.Response:
    return await client.post(
        f"/api/v1/action-executors/{executor}/preview",
        json={"config": config},
        headers=org.auth("viewer"),
    )


@pytest.fixture
async def warm(
    bounds: None, client: httpx.AsyncClient, org_a: Org, org_b: Org
) -> AsyncIterator[None]:
    """Both workers up before anything is timed."""
    for answer in await asyncio.gather(
        _preview(client, org_a, "sms", {"body": "Hi"}),
        _preview(client, org_b, "sms", {"body": "Hi"}),
    ):
        assert answer.status_code == 200, answer.text
    yield


@pytest.mark.parametrize(
    ("field", "source", "code", "says"),
    [
        ("html", "{{ ((9**999)**999)**20 }}", "template_error", "too large"),
        ("text", '{{ "%01000000000d" % 1 }}', "template_error", "too large"),
        ("subject", '{{ "x".center(10**8) }}', "template_error", "too large"),
        ("text", SPIN, "template_timeout", "took longer than 1.5 s"),
        ("html", GROW, "template_error", "needs more memory"),
    ],
)
async def test_a_template_beyond_the_bounds_is_a_422_naming_the_field(
    warm: None,
    client: httpx.AsyncClient,
    org_a: Org,
    field: str,
    source: str,
    code: str,
    says: str,
) -> None:
    started = time.perf_counter()
    response = await _preview(client, org_a, "email", {**EMAIL, field: source})
    refused = problem(response, 422)
    assert refused["type"].endswith("/template-error")
    assert refused["errors"][0]["field"] == f"config.{field}"
    assert refused["errors"][0]["code"] == code
    assert says in refused["detail"]
    assert time.perf_counter() - started < TIMEOUT + 5
    # The next request is answered at once.
    started = time.perf_counter()
    fine = await _preview(client, org_a, "sms", {"body": "Hi {{ couple }}"})
    assert fine.status_code == 200 and fine.json()["rendered"]["body"] == "Hi Alex & Sam"
    assert time.perf_counter() - started < 3.0, "the next preview waited"


async def test_a_preview_given_up_on_is_killed(
    warm: None, client: httpx.AsyncClient, org_a: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = shared_pool()
    with pool._lock:
        before = {worker.process.pid for worker in pool._workers}
    # The request gives up well before the template's own bound would end it.
    monkeypatch.setattr(previews, "PREVIEW_SECONDS", 0.5)
    gave_up = problem(await _preview(client, org_a, "sms", {"body": SPIN}), 422)
    assert gave_up["errors"][0]["code"] == "template_timeout"
    for _ in range(25):  # half a second: well before the template's own bound
        with pool._lock:
            current = {worker.process.pid for worker in pool._workers}
        if not before <= current:
            break
        await asyncio.sleep(0.02)
    assert not before <= current, "the given-up render's worker is still running"


async def test_a_burst_of_slow_previews_does_not_block_another_organization(
    warm: None, client: httpx.AsyncClient, org_a: Org, org_b: Org
) -> None:
    burst = [asyncio.create_task(_preview(client, org_a, "sms", {"body": SPIN})) for _ in range(3)]
    await asyncio.sleep(0.3)
    started = time.perf_counter()
    theirs = await _preview(client, org_b, "email", EMAIL)
    waited = time.perf_counter() - started
    assert theirs.status_code == 200, theirs.text
    assert theirs.json()["rendered"]["subject"].startswith("Alex & Sam")
    assert waited < TIMEOUT, f"organization B waited {waited:.2f} s behind A's burst"
    for answer in await asyncio.gather(*burst):
        assert answer.status_code == 422
        assert answer.json()["errors"][0]["code"] == "template_timeout"
