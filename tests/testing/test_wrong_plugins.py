"""Deliberately wrong plugins fail the suites, with messages that say what to fix.

Each test writes a plugin author's test module into a scratch directory and runs
pytest on it with ``pytester``, exactly as the author would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# Imported here, before any inline run: pytester forgets modules first imported during a
# run, and a re-imported copy of the built-ins would not match the classes already seen.
import aisle.builtins  # noqa: F401

pytest_plugins = ["pytester"]

HERE = Path(__file__).parent

# The inner run happens inside this test's call phase. pytest-playwright (>=0.7.3, installed
# for the dashboard's browser tests) wraps every call in a process-wide soft-assertion scope
# that refuses to nest, so left on it fails every inner test before it starts.
INNER_RUN = ("-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:playwright")

PRELUDE = """
from collections.abc import Mapping
import pytest
from aisle import hookimpl
from aisle.plugins.manager import load_registry
from aisle.testing import *
"""


@pytest.fixture
def author(pytester: pytest.Pytester) -> pytest.Pytester:
    """A scratch project that can import the small plugins of tests/testing."""
    pytester.syspathinsert(HERE.parent)
    pytester.makeini(
        "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"
    )
    return pytester


def run(author: pytest.Pytester, source: str) -> pytest.RunResult:
    author.makepyfile(test_plugin=PRELUDE + source)
    return author.runpytest(*INNER_RUN, "-rs", "-q")


NOTIFY_SANDBOX = """
from testing.notify import NOTIFY, NotifyConfig

class NotifySandbox:
    executor = NOTIFY

    @pytest.fixture
    def registry(self, executor):
        class Plugin:
            @hookimpl
            def aisle_action_executors(self):
                return [executor]
        return load_registry(extra_plugins=[("wrong", Plugin())], entry_points=False)

    @pytest.fixture
    def receiver(self):
        with HTTPReceiver() as receiver:
            yield receiver

    @pytest.fixture
    def valid_config(self, receiver):
        return {"url": receiver.url}

    @pytest.fixture
    def settings(self):
        return {"HTTP_ALLOW": "127.0.0.1"}

    @pytest.fixture
    def observed_effects(self, receiver):
        return lambda: [Effect(key=r.headers.get("idempotency-key")) for r in receiver.requests]
"""


def test_non_idempotent_executor_is_told_to_use_the_key(author: pytest.Pytester) -> None:
    result = run(
        author,
        NOTIFY_SANDBOX
        + """
import dataclasses, uuid
from aisle import ActionResult
from aisle.http import client

async def careless(context):
    async with client(allow=context.services.setting("HTTP_ALLOW")) as http:
        await http.post(context.config.url, headers={"Idempotency-Key": str(uuid.uuid4())})
    return ActionResult()

class TestCareless(NotifySandbox, ActionExecutorSuite):
    unsupported = {
        "retryable_errors": "not under test here",
        "permanent_errors": "not under test here",
        "timeouts": "not under test here",
    }

    @pytest.fixture
    def executor(self):
        return dataclasses.replace(NOTIFY, execute=careless)
""",
    )
    result.assert_outcomes(passed=11, failed=3, skipped=5)
    result.stdout.fnmatch_lines(
        [
            "*TestCareless.test_effects_carry_the_idempotency_key*",
            "E *instead of the run's idempotency key 'conformance-key-1': pass ActionContext."
            "idempotency_key to the remote*",
            "*TestCareless.test_same_key_twice_is_one_effect*",
            "E *Derive every key from ActionContext.idempotency_key alone*",
            "*TestCareless.test_distinct_keys_are_distinct_effects*",
            "E *each run must reach the remote with its own key*",
        ]
    )
    result.stdout.fnmatch_lines(["*SKIPPED*does not claim 'timeouts': not under test here*"])


def test_executor_that_misclassifies_errors_is_told_which_error_to_raise(
    author: pytest.Pytester,
) -> None:
    result = run(
        author,
        NOTIFY_SANDBOX
        + """
import dataclasses
from aisle import ActionResult
from aisle.http import client

async def blunt(context):
    async with client(allow=context.services.setting("HTTP_ALLOW")) as http:
        response = await http.post(
            context.config.url, headers={"Idempotency-Key": context.idempotency_key}
        )
    response.raise_for_status()
    return ActionResult()

class TestBlunt(NotifySandbox, ActionExecutorSuite):
    unsupported = {"timeouts": "not under test here"}

    @pytest.fixture
    def executor(self):
        return dataclasses.replace(NOTIFY, execute=blunt)

    @pytest.fixture
    def failure_cases(self, receiver):
        return [
            FailureCase(name="503", expect="retryable", arm=lambda: receiver.reply(Reply(503))),
        ]
""",
    )
    result.assert_outcomes(passed=14, failed=2, skipped=3)
    result.stdout.fnmatch_lines(
        [
            "*TestBlunt.test_transient_failures_are_retried*",
            "E *case '503' is transient but HTTPStatusError*would stop the run: raise "
            "aisle.RetryableError*",
            "*TestBlunt.test_permanent_failures_stop_the_run*",
            "E *add a FailureCase(expect='permanent')*or declare unsupported = "
            "{'permanent_errors': *",
        ]
    )


def test_executors_bypassing_the_ssrf_guard_are_told_to_use_aisle_http(
    author: pytest.Pytester,
) -> None:
    result = run(
        author,
        NOTIFY_SANDBOX
        + """
import dataclasses
from aisle import ActionResult
import httpx

async def own_client(context):
    # A client of its own: nothing stands between a studio's URL and the private network.
    async with httpx.AsyncClient(timeout=5.0) as http:
        response = await http.post(
            context.config.url, headers={"Idempotency-Key": context.idempotency_key}
        )
    return ActionResult(detail={"status": response.status_code})

async def blocking_call(context):
    response = httpx.post(
        context.config.url, headers={"Idempotency-Key": context.idempotency_key}
    )
    return ActionResult(detail={"status": response.status_code})

NOT_HERE = {
    "retryable_errors": "not under test here",
    "permanent_errors": "not under test here",
    "timeouts": "not under test here",
}

class TestOwnClient(NotifySandbox, ActionExecutorSuite):
    unsupported = NOT_HERE

    @pytest.fixture
    def executor(self):
        return dataclasses.replace(NOTIFY, execute=own_client)

class TestBlockingCall(NotifySandbox, ActionExecutorSuite):
    unsupported = NOT_HERE

    @pytest.fixture
    def executor(self):
        return dataclasses.replace(NOTIFY, execute=blocking_call)
""",
    )
    result.assert_outcomes(passed=26, failed=2, skipped=10)
    advice = (
        "through an HTTP client it made itself, which skips Aisle's SSRF guard: create "
        "every HTTP client with aisle.http_client(*"
    )
    result.stdout.fnmatch_lines(
        [
            "*TestOwnClient.test_requests_go_through_the_ssrf_guard*",
            "E *'notify' sent a request to http://127.0.0.1:* (sent at *test_plugin.py:*) "
            + advice,
            "*TestBlockingCall.test_requests_go_through_the_ssrf_guard*",
            "E *'notify' sent a request to http://127.0.0.1:* (sent at *test_plugin.py:*) "
            + advice,
        ]
    )


def test_bad_config_schemas_are_reported(author: pytest.Pytester) -> None:
    result = run(
        author,
        NOTIFY_SANDBOX
        + """
import dataclasses, re
import msgspec

class LooseConfig(msgspec.Struct):
    url: str
    message: str = "Hello"

class UnrenderableConfig(msgspec.Struct, forbid_unknown_fields=True):
    url: str
    message: str = "Hello"
    pattern: re.Pattern = re.compile(".")

class TestLoose(NotifySandbox, ActionExecutorSuite):
    unsupported = {
        "retryable_errors": "n/a", "permanent_errors": "n/a", "timeouts": "n/a",
        "retires": "a typo",
    }

    @pytest.fixture
    def executor(self):
        return dataclasses.replace(NOTIFY, config=LooseConfig, label="")

class TestUnrenderable(NotifySandbox, ActionExecutorSuite):
    unsupported = {"retryable_errors": "n/a", "permanent_errors": "n/a", "timeouts": "n/a"}

    @pytest.fixture
    def executor(self):
        return dataclasses.replace(NOTIFY, config=UnrenderableConfig)
""",
    )
    result.stdout.fnmatch_lines(
        [
            "*TestLoose.test_unsupported_capabilities_are_known_and_explained*",
            "E *unsupported names 'retires', which TestLoose does not know (its capabilities: "
            "permanent_errors, retryable_errors, strict_config, timeouts)*",
            "*TestLoose.test_registration_is_valid*",
            "E *has no label: set label= to the name the canvas and dashboard show*",
            "*TestLoose.test_unknown_config_field_is_rejected*",
            "E *accepts a config with an unknown field: declare LooseConfig with "
            "forbid_unknown_fields=True*",
            "*TestUnrenderable.test_config_schema_is_valid_json_schema*",
            "E *cannot be rendered as JSON Schema: *type <class 're.Pattern'> is not "
            "supported. Use JSON-friendly field types*",
        ]
    )
    assert result.parseoutcomes()["failed"] == 6


MINICRM_SANDBOX = """
from testing.minicrm import MINICRM, MiniClient, Credentials

class MiniCRMSandbox:
    @pytest.fixture
    def registry(self, provider):
        class Plugin:
            @hookimpl
            def aisle_crm_providers(self):
                return [provider]
        return load_registry(extra_plugins=[("wrong", Plugin())], entry_points=False)

    @pytest.fixture
    def fake(self):
        with FakeCRMServer(api_key="k-0123456789", page_size=3) as server:
            yield server

    @pytest.fixture
    def credentials(self, fake):
        return {"api_key": "k-0123456789", "base_url": fake.url}
"""


def test_provider_ignoring_429_is_told_to_raise_rate_limited(author: pytest.Pytester) -> None:
    result = run(
        author,
        MINICRM_SANDBOX
        + """
import dataclasses, json

class Impatient(MiniClient):
    async def list_records(self, kind, cursor):
        try:
            return await super().list_records(kind, cursor)
        except RateLimited:
            return Page(records=[])

from aisle import Page, RateLimited

class TestImpatient(MiniCRMSandbox, CRMProviderSuite):
    unsupported = {"webhook_signatures": "not under test here"}

    @pytest.fixture
    def provider(self):
        return dataclasses.replace(
            MINICRM, client=Impatient, capabilities=frozenset({"pull", "push"})
        )
""",
    )
    result.assert_outcomes(failed=1, passed=22, skipped=7)
    result.stdout.fnmatch_lines(
        [
            "*TestImpatient.test_429_becomes_rate_limited_with_retry_after*",
            "E *answered a 429 with a page of 0 records: raise aisle.RateLimited(retry_after="
            "<the Retry-After header, in seconds>)*",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*SKIPPED*does not claim 'webhooks': not declared in CRMProvider.capabilities*"]
    )


def test_provider_leaking_its_key_is_caught(author: pytest.Pytester) -> None:
    result = run(
        author,
        MINICRM_SANDBOX
        + """
import dataclasses, logging
import msgspec

class Chatty(MiniClient):
    async def list_records(self, kind, cursor):
        logging.getLogger("chatty").debug("listing with %s", self._credentials.api_key)
        return await super().list_records(kind, cursor)

class PlainCredentials(msgspec.Struct, forbid_unknown_fields=True):
    api_key: str
    base_url: str = ""

class TestChatty(MiniCRMSandbox, CRMProviderSuite):
    unsupported = {"webhook_signatures": "n/a"}

    @pytest.fixture
    def provider(self):
        return dataclasses.replace(
            MINICRM,
            client=lambda c, http: Chatty(Credentials(c.api_key, c.base_url), http),
            credentials=PlainCredentials,
            capabilities=frozenset({"pull"}),
        )
""",
    )
    result.stdout.fnmatch_lines(
        [
            "*TestChatty.test_credentials_repr_hides_secrets*",
            "E *repr() of PlainCredentials shows a secret*",
            "*TestChatty.test_pulling_never_leaks_credentials*",
            "E *leaks a secret into a log record*",
        ]
    )
    assert result.parseoutcomes()["failed"] == 2


REGISTER = """
from aisle import *

def registry_with(**kinds):
    class Plugin:
        @hookimpl
        def aisle_node_types(self):
            return kinds.get("nodes", [])

        @hookimpl
        def aisle_trigger_types(self):
            return kinds.get("triggers", [])
    return load_registry(extra_plugins=[("wrong", Plugin())], entry_points=False)
"""


def test_impure_node_types_are_told_to_use_their_context(author: pytest.Pytester) -> None:
    result = run(
        author,
        REGISTER
        + """
import itertools
from datetime import datetime, timezone

counter = itertools.count()

def stamped(ctx):
    return Stay(actions=[ActionRequest(executor="task", config={"n": next(counter)})])

def meddling(ctx):
    ctx.contact["email"] = "changed@example.com"
    return Stay()

STAMPED = NodeType(name="stamped", label="Stamped", on_enter=stamped)
MEDDLING = NodeType(name="meddling", label="Meddling", on_enter=meddling)

class TestStamped(NodeTypeSuite):
    @pytest.fixture
    def node_type(self):
        return STAMPED

    @pytest.fixture
    def registry(self):
        return registry_with(nodes=[STAMPED])

class TestMeddling(NodeTypeSuite):
    @pytest.fixture
    def node_type(self):
        return MEDDLING

    @pytest.fixture
    def registry(self):
        return registry_with(nodes=[MEDDLING])
""",
    )
    result.stdout.fnmatch_lines(
        [
            "*TestStamped.test_on_enter_is_pure*",
            "E *must not read the clock, randomness or anything outside its NodeContext*",
            "*TestStamped.test_entering_under_the_engine_is_deterministic*",
            "E *a replayed step would plan different actions*",
            "*TestStamped.test_actions_go_to_installed_executors_that_accept_them*",
            "E *asks for executor 'task', which no installed plugin provides*",
            "*TestMeddling.test_on_enter_is_pure*",
            "E *changed the contact or variables it was given*",
        ]
    )


def test_trigger_types_out_of_step_with_the_clock_are_caught(author: pytest.Pytester) -> None:
    result = run(
        author,
        REGISTER
        + """
from datetime import timedelta

def receding(ctx):
    # Always "an hour from now": the moment never comes.
    return FireAt(at=ctx.now + timedelta(hours=1))

def eager(ctx):
    if ctx.event is not None:
        return Fire()
    return NotYet()

def backdated(ctx):
    return FireAt(at=ctx.entered_at - timedelta(days=1))

RECEDING = TriggerType(name="receding", label="Receding", evaluate=receding, time_based=True)
EAGER = TriggerType(
    name="eager", label="Eager", evaluate=eager, event_types=frozenset({"form.submitted"})
)
BACKDATED = TriggerType(name="backdated", label="Backdated", evaluate=backdated)

class Wrong(TriggerTypeSuite):
    @pytest.fixture
    def registry(self, trigger_type):
        return registry_with(triggers=[trigger_type])

class TestReceding(Wrong):
    @pytest.fixture
    def trigger_type(self):
        return RECEDING

class TestEager(Wrong):
    @pytest.fixture
    def trigger_type(self):
        return EAGER

class TestBackdated(Wrong):
    @pytest.fixture
    def trigger_type(self):
        return BACKDATED
""",
    )
    result.stdout.fnmatch_lines(
        [
            "*TestReceding.test_fires_only_when_due_as_the_clock_moves*",
            "E *promised FireAt(*) but at that moment answers FireAt(*): once the time has "
            "come it must answer Fire*",
            "*TestReceding.test_engine_moves_on_when_it_fires*",
            "E *the engine did not take the edge*",
            "*TestEager.test_undeclared_events_never_fire_it*",
            "E *fires on an event of type 'conformance.undeclared', which it does not declare*",
            "*TestBackdated.test_fire_at_is_aware_and_declared_time_based*",
            "E *answers FireAt but is not declared time_based=True*",
            "*TestBackdated.test_fire_at_is_never_before_entry*",
            "E *before the client arrived: answer Fire (or NotYet) for a moment already past*",
        ]
    )


def test_trigger_types_reading_the_machine_clock_are_told_to_use_context_now(
    author: pytest.Pytester,
) -> None:
    result = run(
        author,
        REGISTER
        + """
import time
from datetime import datetime, timedelta, timezone

def wall_clock(ctx):
    # Two days after entry, by the machine's clock instead of the engine's (ctx.now).
    due = ctx.entered_at + timedelta(days=2)
    if datetime.now(timezone.utc) >= due:
        return Fire()
    return FireAt(at=due)

def epoch(ctx):
    due = ctx.entered_at + timedelta(days=2)
    if time.time() >= due.timestamp():
        return Fire()
    return FireAt(at=due)

class Wrong(TriggerTypeSuite):
    @pytest.fixture
    def registry(self, trigger_type):
        return registry_with(triggers=[trigger_type])

class TestWallClock(Wrong):
    @pytest.fixture
    def trigger_type(self):
        return TriggerType(name="wall_clock", label="Wall", evaluate=wall_clock, time_based=True)

class TestEpoch(Wrong):
    @pytest.fixture
    def trigger_type(self):
        return TriggerType(name="epoch", label="Epoch", evaluate=epoch, time_based=True)
""",
    )
    # The clock checks move only the engine's clock, which these triggers ignore: no other
    # check fails.
    assert result.parseoutcomes()["failed"] == 2
    advice = "*it reads the machine's clock (datetime.now, date.today, time.time). Use context.now*"
    result.stdout.fnmatch_lines(
        [
            "*TestWallClock.test_answers_follow_the_engine_clock_not_the_machine_clock*",
            "E *trigger type 'wall_clock', asked with the engine's clock at 2026-03-02T10:30:00"
            "+00:00, answered FireAt(*) while the machine's clock said 1990 and Fire() when it "
            "said 2090: " + advice,
            "*TestEpoch.test_answers_follow_the_engine_clock_not_the_machine_clock*",
            "E *trigger type 'epoch'*" + advice,
        ]
    )
