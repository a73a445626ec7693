"""The README stays true: every setting the code reads is in its configuration table,
every ``aisle`` subcommand is in its command table, and the scripts it names exist."""

from __future__ import annotations

import re
from pathlib import Path

from aisle.cli.main import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
SOURCES = [
    *(
        path
        for folder in ("core", "plugins", "dashboard", "bench")
        for path in (ROOT / folder).rglob("*.py")
    ),
    ROOT / "tests" / "conftest.py",
]
_LITERAL = re.compile(r"\bAISLE_[A-Z0-9_]*[A-Z0-9]\b")
# ActionServices.setting("smtp_host") reads AISLE_SMTP_HOST.
_SHORT = re.compile(r"\.setting\(\s*\"([a-z0-9_]+)\"")
_TABLE_NAME = re.compile(r"`(AISLE_[A-Z0-9_]+)`")


def settings_read_by_the_code() -> set[str]:
    found: set[str] = set()
    for path in SOURCES:
        text = path.read_text()
        found.update(_LITERAL.findall(text))
        found.update(f"AISLE_{name.upper()}" for name in _SHORT.findall(text))
    return found


def test_every_setting_is_documented_in_the_readme() -> None:
    documented = set(_TABLE_NAME.findall(README))
    missing = sorted(settings_read_by_the_code() - documented)
    assert not missing, f"README.md's configuration table lacks {', '.join(missing)}"


def test_the_readme_documents_no_setting_that_does_not_exist() -> None:
    stale = sorted(set(_TABLE_NAME.findall(README)) - settings_read_by_the_code())
    assert not stale, f"README.md documents settings nothing reads: {', '.join(stale)}"


def test_every_aisle_command_is_in_the_readme() -> None:
    for name in COMMANDS:
        assert f"`aisle {name}" in README, f"README.md does not describe `aisle {name}`"


def test_the_two_setup_commands_exist_and_are_executable() -> None:
    for script in ("scripts/serve", "scripts/test", ".ci/run"):
        path = ROOT / script
        assert path.exists(), script
        assert path.stat().st_mode & 0o111, f"{script} is not executable"
        assert f"./{script}" in README or script == ".ci/run"
    assert "./scripts/test" in (ROOT / ".ci/run").read_text()
