"""Packaging that cannot mislead: Aisle's distribution is ``aisle-journeys``.

``aisle`` on the public package index is an unrelated project that satisfies
``aisle>=0.1,<0.2``: a plugin, the scaffold or the docs naming it would install the wrong
thing outside this workspace.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from aisle.cli.new_plugin import DISTRIBUTION, scaffold
from aisle.plugins.manager import BUILTIN_DISTRIBUTION

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = sorted(
    path
    for pattern in ("pyproject.toml", "*/pyproject.toml", "*/*/pyproject.toml")
    for path in ROOT.glob(pattern)
    if ".venv" not in path.parts
)


def _requirements(pyproject: Path) -> list[Requirement]:
    project = tomllib.loads(pyproject.read_text())["project"]
    lines = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        lines.extend(extra)
    return [Requirement(line) for line in lines]


def test_the_root_distribution_is_aisle_journeys() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == DISTRIBUTION == BUILTIN_DISTRIBUTION == "aisle-journeys"


def test_the_workspace_is_every_project() -> None:
    names = {p.parent.relative_to(ROOT).as_posix() for p in PROJECTS}
    assert {".", "dashboard", "plugins/actions", "examples/aisle-node-checklist"} <= names


@pytest.mark.parametrize("pyproject", PROJECTS, ids=lambda p: p.parent.name or "root")
def test_no_project_requires_the_unrelated_aisle(pyproject: Path) -> None:
    names = {r.name for r in _requirements(pyproject)}
    assert "aisle" not in names, f"{pyproject}: require aisle-journeys, not aisle"
    if pyproject.parent != ROOT:
        assert "aisle-journeys" in names


@pytest.mark.parametrize("kind", ["node", "trigger", "action", "crm"])
def test_the_scaffold_requires_aisle_journeys(kind: str, tmp_path: Path) -> None:
    scaffold(f"x-{kind}", kind, tmp_path)
    requirements = _requirements(tmp_path / "pyproject.toml")
    assert "aisle" not in {r.name for r in requirements}
    [core] = [r for r in requirements if r.name == "aisle-journeys" and not r.extras]
    [testing] = [r for r in requirements if r.name == "aisle-journeys" and r.extras]
    assert testing.extras == {"testing"}
    assert core.specifier == testing.specifier
    assert "msgspec" in {r.name for r in requirements}


def test_no_doc_tells_anyone_to_install_aisle() -> None:
    """``pip install aisle``, ``'aisle[testing]'`` and ``aisle>=`` name the unrelated
    project; ``aisle-journeys`` and plugin names like ``aisle-actions`` do not match."""
    wrong = re.compile(r"pip install ['\"]?aisle(?![\w-])|\baisle\[|[\"']aisle[<>=~!]")
    docs = [ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("*/*/README.md")]
    templates = (ROOT / "core/aisle/cli/templates").rglob("*.tmpl")
    for path in [*docs, *templates]:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            assert not wrong.search(line), f"{path.relative_to(ROOT)}:{number}: {line}"
