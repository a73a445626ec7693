"""Plugin loading: built-ins first, entry points fail-soft, duplicates named, selection."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from aisle import ActionExecutor, ActionResult, NodeType, Stay, hookimpl
from aisle.plugins.manager import load_registry

GOOD = """
import msgspec
from aisle import ActionExecutor, ActionResult, hookimpl

async def _run(ctx):
    return ActionResult()

@hookimpl
def aisle_action_executors():
    return [ActionExecutor(name="confetti", label="Throw confetti", execute=_run)]
"""


def _plugin_names(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in report["plugins"]}


def test_builtins_and_shipped_distributions_are_listed(plugins_json: Any) -> None:
    report = plugins_json()
    plugins = _plugin_names(report)
    assert plugins["builtins"]["distribution"] == "aisle-journeys"
    for dist in (
        "aisle-actions",
        "aisle-dashboard",
        "aisle-crm-tave",
        "aisle-crm-honeybook",
        "aisle-crm-dubsado",
        "aisle-crm-studioninja",
    ):
        assert dist in {p["distribution"] for p in plugins.values()}, dist
    assert report["errors"] == []


def test_third_party_plugin_is_loaded_with_its_version(
    install_plugin: Any, plugins_json: Any
) -> None:
    install_plugin("aisle-confetti", "confetti", "aisle_confetti", GOOD)
    plugin = _plugin_names(plugins_json())["confetti"]
    assert plugin["distribution"] == "aisle-confetti"
    assert plugin["version"] == "1.2.3"
    assert plugin["registers"]["action_executors"] == ["confetti"]


def test_plugin_that_fails_to_import_is_reported_and_others_load(
    install_plugin: Any, plugins_json: Any
) -> None:
    install_plugin("aisle-broken", "broken", "aisle_broken", "raise RuntimeError('boom')\n")
    install_plugin("aisle-confetti", "confetti", "aisle_confetti", GOOD)
    report = plugins_json()
    assert "confetti" in _plugin_names(report)
    assert "broken" not in _plugin_names(report)
    [error] = [e for e in report["errors"] if e["plugin"] == "broken"]
    assert error["distribution"] == "aisle-broken"
    assert "RuntimeError: boom" in error["reason"]


def test_plugin_raising_inside_a_hook_is_reported(install_plugin: Any, plugins_json: Any) -> None:
    install_plugin(
        "aisle-angry",
        "angry",
        "aisle_angry",
        """
        from aisle import hookimpl

        @hookimpl
        def aisle_node_types():
            raise ValueError("no nodes today")
        """,
    )
    [error] = [e for e in plugins_json()["errors"] if e["plugin"] == "angry"]
    assert error["hook"] == "aisle_node_types"
    assert "no nodes today" in error["reason"]


def test_unknown_hook_is_a_spec_violation(install_plugin: Any, plugins_json: Any) -> None:
    install_plugin(
        "aisle-typo",
        "typo",
        "aisle_typo",
        """
        from aisle import hookimpl

        @hookimpl
        def aisle_node_typez():
            return []
        """,
    )
    [error] = [e for e in plugins_json()["errors"] if e["plugin"] == "typo"]
    assert error["distribution"] == "aisle-typo"
    assert "aisle_node_typez" in error["reason"]


def test_duplicate_name_names_both_distributions(install_plugin: Any, plugins_json: Any) -> None:
    install_plugin("aisle-confetti", "confetti", "aisle_confetti", GOOD)
    install_plugin("aisle-confetti-two", "confetti_two", "aisle_confetti_two", GOOD)
    report = plugins_json()
    [error] = [e for e in report["errors"] if "duplicate" in e["reason"]]
    assert "aisle-confetti " in error["reason"] + " "
    assert "aisle-confetti-two" in error["reason"]
    assert _plugin_names(report)["confetti"]["registers"]["action_executors"] == ["confetti"]
    assert _plugin_names(report)["confetti_two"]["registers"]["action_executors"] == []


def test_aisle_plugins_selects_and_disable_skips(install_plugin: Any, plugins_json: Any) -> None:
    install_plugin("aisle-confetti", "confetti", "aisle_confetti", GOOD)
    only = _plugin_names(plugins_json(AISLE_PLUGINS="confetti"))
    assert set(only) == {"builtins", "confetti"}
    without = _plugin_names(plugins_json(AISLE_DISABLE_PLUGINS="confetti, crm_tave"))
    assert "confetti" not in without
    assert "crm_tave" not in without
    assert "actions" in without


class _Config(msgspec.Struct):
    colour: str


async def _noop(ctx: Any) -> ActionResult:
    return ActionResult()


class _WrongReturn:
    @hookimpl
    def aisle_node_types(self) -> list[object]:
        return [ActionExecutor(name="not_a_node", execute=_noop)]


def test_wrong_registration_type_is_rejected_by_name() -> None:
    registry = load_registry(entry_points=False, extra_plugins=[("wrong", _WrongReturn())])
    [error] = registry.errors
    assert error.plugin == "wrong"
    assert "returned ActionExecutor, expected NodeType" in error.reason
    assert "not_a_node" not in registry.node_types


class _ShadowsBuiltin:
    @hookimpl
    def aisle_node_types(self) -> list[NodeType]:
        return [NodeType(name="email", on_enter=lambda ctx: Stay())]


def test_builtins_win_over_a_plugin_reusing_their_name() -> None:
    registry = load_registry(entry_points=False, extra_plugins=[("shadow", _ShadowsBuiltin())])
    assert registry.owners[("aisle_node_types", "email")] == "aisle-journeys"
    [error] = registry.errors
    assert "registered by aisle-journeys" in error.reason


@pytest.mark.parametrize("name", ["Email", "1st", "with-dash", "", "x" * 64])
def test_registration_names_are_validated(name: str) -> None:
    with pytest.raises(ValueError, match="invalid"):
        NodeType(name=name, on_enter=lambda ctx: Stay())


def test_config_must_be_a_struct() -> None:
    with pytest.raises(TypeError, match=r"msgspec\.Struct"):
        ActionExecutor(name="bad", execute=_noop, config=dict)  # type: ignore[arg-type]


def test_registry_as_json_lists_hooks_and_names() -> None:
    class Plugin:
        @hookimpl
        def aisle_action_executors(self) -> list[ActionExecutor]:
            return [ActionExecutor(name="paint", execute=_noop, config=_Config)]

    registry = load_registry(entry_points=False, extra_plugins=[("paint", Plugin())])
    [info] = [p for p in registry.as_json()["plugins"] if p["name"] == "paint"]
    assert info["hooks"] == ["aisle_action_executors"]
    assert info["registers"] == {"action_executors": ["paint"]}
    assert registry.action_executors["paint"].config is _Config
