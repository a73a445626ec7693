"""``aisle new-plugin`` scaffolds a distribution that installs with pip and passes its suite.

Each kind is scaffolded into a temporary directory, linted with its own ruff settings,
checked by deptry (every import declared, nothing more), pip-installed (``--no-deps``,
into a target directory put on ``PYTHONPATH`` rather than into the shared virtualenv),
then its own tests run in a fresh interpreter, as its author would run them, and
``aisle plugins`` finds it through its entry point.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from aisle.cli.main import main
from aisle.cli.new_plugin import KINDS

pytestmark = pytest.mark.slow

REGISTERS = {
    "node": "node_types",
    "trigger": "trigger_types",
    "action": "action_executors",
    "crm": "crm_providers",
}


def _env(site: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AISLE_", "PYTEST_"))}
    env["PYTHONPATH"] = str(site)
    return env


def test_every_kind_installs_registers_and_passes_its_suite(tmp_path: Path) -> None:
    """One test for all kinds: the pip install and the interpreters are the slow part,
    so they run once (the four suites side by side), wherever xdist puts the test."""
    for kind in KINDS:
        result = CliRunner().invoke(
            main, ["new-plugin", f"scaffold-{kind}", "--kind", kind, "-d", str(tmp_path / kind)]
        )
        assert result.exit_code == 0, result.output
        assert "pip install -e '.[test]'" in result.output
        deptry = str(Path(sys.executable).with_name("deptry"))
        # deptry: the scaffold declares every distribution its template imports.
        for check in (
            [sys.executable, "-m", "ruff", "check", "."],
            [sys.executable, "-m", "ruff", "format", "--check", "."],
            [deptry, "."],
        ):
            lint = subprocess.run(
                check,
                cwd=tmp_path / kind,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert lint.returncode == 0, f"{kind}: {lint.stdout}{lint.stderr}"

    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site)]
        + [str(tmp_path / kind) for kind in KINDS],
        check=True,
        capture_output=True,
        timeout=600,
    )

    suites = {
        kind: subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=tmp_path / kind,
            env=_env(site),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for kind in KINDS
    }
    for kind, suite in suites.items():
        output, _ = suite.communicate(timeout=300)
        assert suite.returncode == 0, f"{kind}:\n{output}"
        assert " passed" in output and "failed" not in output, f"{kind}:\n{output}"

    listing = json.loads(
        subprocess.run(
            [sys.executable, "-m", "aisle.cli", "plugins", "--json"],
            env=_env(site),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
    )
    by_distribution = {p["distribution"]: p for p in listing["plugins"]}
    for kind, table in REGISTERS.items():
        plugin = by_distribution[f"aisle-scaffold-{kind}"]
        assert plugin["registers"][table] == [f"scaffold_{kind}"]
    assert not [e for e in listing["errors"] if "scaffold" in e["distribution"]]


def test_bad_names_and_occupied_directories_are_refused(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(
        main, ["new-plugin", "Gallery!", "--kind", "node", "-d", str(tmp_path / "x")]
    )
    assert bad.exit_code == 2
    assert "use lowercase letters and digits" in bad.output
    occupied = tmp_path / "taken"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine")
    refused = runner.invoke(main, ["new-plugin", "gallery", "--kind", "node", "-d", str(occupied)])
    assert refused.exit_code == 2
    assert "exists and is not empty" in refused.output
    assert [p.name for p in occupied.iterdir()] == ["keep.txt"]
