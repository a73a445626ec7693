"""Templates cannot freeze or exhaust the process that renders them.

The sandbox refuses what it can see coming (a huge power, width, repetition or
replacement) before computing it; what it cannot (nested loops, a chain of doublings)
runs out of time or memory in a bounded worker process, which is killed and replaced,
while the event loop that awaited it keeps running. An email or SMS run whose template
overruns is dead at once with the reason, not retried.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from aisle import BoundExceeded, PermanentError, RetryableError, run_bounded
from aisle.bounded import configure, shared_pool
from aisle.clock import TestClock
from aisle.contracts.registry import Registry
from aisle.domain import Contact, Edge, Graph, JourneySettings, Partner, Step
from aisle.jobs.embedded import drain
from aisle.runtime.service import Runtime
from aisle.settings import Settings
from aisle.storage.store import Store
from aisle.testing.samples import sample_contact, sample_studio
from aisle_actions import mail, sms, task
from aisle_actions.templates import render
from aisle_actions.wedding_context import wedding_context
from tests.actions.conftest import MakeContext

NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
TIMEOUT = 1.5
BOUNDS = {
    "AISLE_TEMPLATE_TIMEOUT_SECONDS": str(TIMEOUT),
    "AISLE_TEMPLATE_MAX_MEMORY_MB": "128",
    "AISLE_TEMPLATE_WORKERS": "2",
}

# Ten thousand million loop turns: hours of CPU, no output.
SPIN = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
# Ten thousand million characters (10 GB), ten at a time: each '~' looks harmless.
GROW = (
    '{% set a = "x" * 100000 %}{% set b = a~a~a~a~a~a~a~a~a~a %}'
    "{% set c = b~b~b~b~b~b~b~b~b~b %}{% set d = c~c~c~c~c~c~c~c~c~c %}"
    "{% set e = d~d~d~d~d~d~d~d~d~d %}{{ e | length }}"
)


@pytest.fixture(scope="module")
def bounds() -> Iterator[None]:
    configure(BOUNDS)
    yield
    configure({})


@pytest.fixture
def context() -> dict[str, Any]:
    return wedding_context(sample_contact().activation(), sample_studio(), NOW)


@pytest.mark.parametrize(
    "source",
    [
        "{{ ((9**999)**999)**20 }}",
        "{{ 10 ** 1000000 }}",
        "{{ (10 ** 30000) * (10 ** 30000) }}",
        '{{ "%01000000000d" % 1 }}',
        '{{ "%.1000000000f" % 1 }}',
        '{{ "%*d" % (1000000000, 1) }}',
        '{{ "%01000000000d" | format(1) }}',
        '{{ "{:>1000000000}".format(1) }}',
        '{{ "{:{w}}".format(1, w=1000000000) }}',
        '{{ "x".center(10**8) }}',
        '{{ "x".ljust(10**8) }}',
        '{{ "x".zfill(10**8) }}',
        '{{ "x" | center(10**8) }}',
        '{{ "x" * 10**9 }}',
        '{{ ("x" * 100000).replace("x", "x" * 100000) }}',
        '{{ ("x" * 100000) | replace("x", "x" * 100000) }}',
        '{{ ("x" * 100000).join(["a"] * 100000) }}',
        '{{ range(100000) | join("x" * 100000) }}',
        '{{ ("x" * 100000) + ("x" * 100000) * 5 }}',
        '{{ "a\nb" | indent(10**8) }}',
        "{{ [1, [2]] | tojson(indent=10**8) }}",
    ],
)
def test_the_sandbox_refuses_a_huge_value_before_building_it(
    context: dict[str, Any], source: str
) -> None:
    started = time.perf_counter()
    with pytest.raises(PermanentError, match=r"template field 'html'.*too large"):
        render("html", source, context, html=True)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    "source",
    ["{{ range(10**9) | list }}", "{{ lipsum(10**7) }}", "{% for i in range(10**9) %}{% endfor %}"],
)
def test_huge_ranges_and_generators_are_refused(context: dict[str, Any], source: str) -> None:
    with pytest.raises(PermanentError, match=r"template field 'text'"):
        render("text", source, context)


def test_ordinary_arithmetic_and_formatting_still_work(context: dict[str, Any]) -> None:
    source = (
        "{{ 3 * 200000 }} {{ 2 ** 64 }} {{ '%05.1f' % 3.14159 }} {{ '{:>6}'.format('ab') }} "
        "{{ 'ab'.center(6, '*') }} {{ 'a-b'.replace('-', '+') }} {{ ', '.join(['x', 'y']) }} "
        "{{ 'x' * 3 }}{{ 'ab' + 'cd' }} {{ [1, 2] | join('/') }}"
    )
    assert render("text", source, context) == (
        "600000 18446744073709551616 003.1     ab **ab** a+b x, y xxxabcd 1/2"
    )


async def _max_stall(work: Any) -> tuple[Any, float]:
    """Await ``work`` while a ticker measures the longest the event loop went unserved."""
    stalls: list[float] = []
    done = asyncio.Event()

    async def tick() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            stalls.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    try:
        result: Any = await work
    except Exception as exc:
        result = exc
    finally:
        done.set()
        await ticker
    return result, max(stalls, default=0.0)


@pytest.fixture
async def warm(bounds: None) -> AsyncIterator[None]:
    # Workers start on first use; start them outside the timed part.
    await asyncio.gather(
        *(run_bounded(render, "text", "ok", {}, organization=f"warm-{n}") for n in range(2))
    )
    yield


async def test_a_runaway_loop_is_stopped_at_the_time_bound_without_holding_the_loop(
    warm: None, context: dict[str, Any]
) -> None:
    started = time.perf_counter()
    error, stall = await _max_stall(
        run_bounded(render, "text", SPIN, context, organization="org-a")
    )
    took = time.perf_counter() - started
    assert isinstance(error, BoundExceeded) and isinstance(error, PermanentError)
    assert error.bound == "time" and error.where == "template field 'text'"
    assert "template field 'text' took longer than 1.5 s" in str(error)
    assert TIMEOUT <= took < TIMEOUT + 5
    assert stall < 0.5, f"the event loop stalled for {stall:.2f} s"
    # The worker was replaced: the next render is served.
    assert await run_bounded(render, "text", "Hi {{ couple }}", context, organization="b") == (
        "Hi Ada & Charles"
    )


async def test_a_chain_of_doublings_runs_out_of_memory_in_the_worker(
    warm: None, context: dict[str, Any]
) -> None:
    before = _rss_mb()
    error, stall = await _max_stall(
        run_bounded(render, "text", GROW, context, organization="org-a")
    )
    assert isinstance(error, PermanentError) and not isinstance(error, RetryableError)
    assert "template field 'text' needs more memory" in str(error)
    assert stall < 0.5
    assert _rss_mb() - before < 100, "the parent process grew"


async def test_cancelling_a_render_kills_its_worker(warm: None, context: dict[str, Any]) -> None:
    before = _worker_pids()
    running = asyncio.create_task(run_bounded(render, "text", SPIN, context, organization="org-a"))
    await asyncio.sleep(0.5)  # running now
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    # Well before the time bound would have ended it.
    assert await _eventually(lambda: not all(_alive(pid) for pid in before), TIMEOUT / 2), (
        "a cancelled render kept running"
    )


async def test_one_organizations_runaway_renders_do_not_delay_another(
    warm: None, context: dict[str, Any]
) -> None:
    await asyncio.gather(  # both workers up (an earlier test may have had one killed)
        *(run_bounded(render, "text", "ok", {}, organization=f"warm-{n}") for n in range(2))
    )
    runaway = [
        asyncio.create_task(run_bounded(render, "text", SPIN, context, organization="org-a"))
        for _ in range(4)
    ]
    await asyncio.sleep(0.2)  # org-a's calls are queued and one is running
    started = time.perf_counter()
    shown = await run_bounded(render, "text", "Hi {{ couple }}", context, organization="org-b")
    waited = time.perf_counter() - started
    assert shown == "Hi Ada & Charles"
    assert waited < TIMEOUT, f"org-b waited {waited:.2f} s behind org-a"
    for pending in runaway:
        pending.cancel()
    await asyncio.gather(*runaway, return_exceptions=True)


async def test_email_sms_and_task_executors_render_in_the_bounded_worker(
    warm: None, make_context: MakeContext, action_settings: dict[str, str]
) -> None:
    action_settings.update(
        SMTP_HOST="127.0.0.1", SMTP_PORT="9", SMTP_FROM="studio@example.com",
        SMS_ACCOUNT_SID="AC1", SMS_AUTH_TOKEN="t", SMS_FROM="+12025550100",
        SMS_BASE_URL="http://127.0.0.1:9", CAPTURE_MESSAGES="off",
    )  # fmt: skip
    email = {"to": "couple", "subject": "Hi", "text": "ok", "html": SPIN}
    error, stall = await _max_stall(mail.execute(make_context(email)))
    assert isinstance(error, BoundExceeded), error
    assert "template field 'html' took longer than" in str(error)
    assert stall < 0.5
    error, stall = await _max_stall(sms.execute(make_context({"body": GROW, "to": "partner1"})))
    assert isinstance(error, PermanentError), error
    assert "template field 'body' needs more memory" in str(error)
    assert stall < 0.5
    error, stall = await _max_stall(task.execute(make_context({"title": SPIN})))
    assert isinstance(error, BoundExceeded), error
    assert "template field 'title' took longer than" in str(error)
    assert stall < 0.5


@pytest.fixture
def runtime(store: Store, registry: Registry, settings: Settings, clock: TestClock) -> Runtime:
    clock.set(NOW)
    environ = {
        "AISLE_SMS_ACCOUNT_SID": "AC1",
        "AISLE_SMS_AUTH_TOKEN": "token",
        "AISLE_SMS_FROM": "+12025550100",
        "AISLE_SMS_BASE_URL": "http://127.0.0.1:9",
        "AISLE_HTTP_ALLOW": "127.0.0.1/32",
        "AISLE_CAPTURE_MESSAGES": "off",
    }
    return Runtime(store, registry, settings.with_changes(environ=environ))


async def test_an_sms_run_whose_template_overruns_is_dead_with_the_reason(
    warm: None, runtime: Runtime
) -> None:
    org = await runtime.store.organizations.create(slug="gh", name="GH", timezone="UTC")
    scope = runtime.for_org(org.id)
    graph = Graph(
        steps=(
            Step(id="text", type="sms", config={"body": SPIN, "to": "partner1"}),
            Step(id="done", type="end"),
        ),
        edges=(Edge(id="e1", source="text", target="done", trigger="immediate"),),
        settings=JourneySettings(start_step="text"),
    )
    contact = await runtime.create_contact(
        org.id, Contact(partners=(Partner(first_name="Ada", phone="+12025550111"),))
    )
    journey = await scope.journeys.create(name="Text", draft=graph)
    await scope.journeys.publish(journey.id, graph)
    enrollment = await runtime.enroll(org.id, contact_id=contact.id, journey_id=journey.id)
    (run,) = await scope.action_runs.list(enrollment_id=enrollment.id)
    await drain(runtime)
    dead = await scope.action_runs.get(run.id)
    assert (dead.status, dead.attempts) == ("dead", 1)
    assert "template field 'body' took longer than 1.5 s" in (dead.last_error or "")


async def _eventually(condition: Callable[[], bool], seconds: float) -> bool:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


def _worker_pids() -> set[int]:
    pool = shared_pool()
    with pool._lock:
        return {worker.process.pid for worker in pool._workers}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child is a zombie until reaped; the pool reaps it as it replaces it.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return False


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0
