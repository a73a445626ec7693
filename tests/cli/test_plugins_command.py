"""``aisle plugins``: every distribution and the built-ins, as a table and as JSON."""

from __future__ import annotations

import json

from click.testing import CliRunner

from aisle.builtins.nodes import NODE_TYPES
from aisle.builtins.triggers import TRIGGER_TYPES
from aisle.cli.main import main

DISTRIBUTIONS = {
    "aisle-journeys",
    "aisle-dashboard",
    "aisle-actions",
    "aisle-crm-tave",
    "aisle-crm-honeybook",
    "aisle-crm-dubsado",
    "aisle-crm-studioninja",
}


def test_plugins_json_lists_every_distribution_and_the_built_in_types() -> None:
    result = CliRunner().invoke(main, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    listing = json.loads(result.output)
    assert {p["distribution"] for p in listing["plugins"]} >= DISTRIBUTIONS
    builtins = next(p for p in listing["plugins"] if p["name"] == "builtins")
    assert builtins["registers"]["node_types"] == [n.name for n in NODE_TYPES]
    assert builtins["registers"]["trigger_types"] == [t.name for t in TRIGGER_TYPES]
    dashboard = next(p for p in listing["plugins"] if p["distribution"] == "aisle-dashboard")
    assert dashboard["registers"]["routes"] == ["dashboard"]
    assert listing["errors"] == []


def test_plugins_table_names_each_plugin_with_its_version() -> None:
    result = CliRunner().invoke(main, ["plugins"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["PLUGIN", "DISTRIBUTION", "VERSION"]
    rows = {line.split()[1]: line for line in lines[1:]}
    assert set(rows) >= DISTRIBUTIONS
    assert "0.1.0" in rows["aisle-dashboard"]


def test_version_names_the_installed_distribution() -> None:
    """``aisle --version`` reads the metadata of ``aisle-journeys``: a name that is not
    the installed distribution makes click fail."""
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0, result.output
    assert "0.1.0" in result.output
