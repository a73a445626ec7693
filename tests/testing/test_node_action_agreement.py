"""NodeTypeSuite checks a node and its executor agree on every optional field.

Issue 11 item 4: the webhook node and executor disagreed about ``headers``. A node that
offers an optional setting in a shape its executor rejects passes the required-fields
checks and fails this one, naming the field and the executor.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import aisle.builtins  # noqa: F401 (see tests/testing/test_wrong_plugins.py)

pytest_plugins = ["pytester"]

SOURCE = """
import msgspec
import pytest
from aisle import ActionExecutor, ActionResult, ActionRequest, NodeType, Stay, hookimpl
from aisle.plugins.manager import load_registry
from aisle.testing import NodeTypeSuite


class HookAction(msgspec.Struct, forbid_unknown_fields=True):
    url: str
    headers: dict[str, str] = {}


async def execute(ctx):
    return ActionResult()


HOOK_EXECUTOR = ActionExecutor(name="hook", execute=execute, config=HookAction)


class HookNode(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    url: str
    headers: list[str] = []  # the executor takes a mapping


def enter(ctx):
    config = {"url": ctx.config.url}
    if ctx.config.headers:
        config["headers"] = ctx.config.headers
    return Stay(actions=[ActionRequest(executor="hook", config=config)])


HOOK = NodeType(name="hook", label="Hook", on_enter=enter, config=HookNode)


class Plugin:
    @hookimpl
    def aisle_node_types(self):
        return [HOOK]

    @hookimpl
    def aisle_action_executors(self):
        return [HOOK_EXECUTOR]


class TestHook(NodeTypeSuite):
    @pytest.fixture
    def node_type(self):
        return HOOK

    @pytest.fixture
    def valid_config(self):
        return {"url": "https://hooks.example"}

    @pytest.fixture
    def registry(self):
        return load_registry(extra_plugins=[("hook", Plugin())], entry_points=False)
"""


def test_a_node_offering_a_field_its_executor_rejects_fails_the_suite(
    pytester: pytest.Pytester,
) -> None:
    pytester.syspathinsert(Path(__file__).parent.parent)
    pytester.makeini(
        "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(test_plugin=SOURCE)
    # no:playwright: see INNER_RUN in tests/testing/test_wrong_plugins.py.
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:playwright", "-q"
    )
    result.stdout.fnmatch_lines(
        [
            "*TestHook.test_every_optional_field_set_still_plans_actions_the_executor_accepts*",
            "E *optional fields ?'headers'? set: executor 'hook' rejects what the node plans*",
        ]
    )
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 1, result.stdout.str()
