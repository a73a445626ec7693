"""``aisle new-plugin NAME --kind crm|action|node|trigger``: scaffold a plugin distribution.

The distribution it writes installs with pip, registers through the ``aisle`` entry
point, and passes the conformance suite of its kind out of the box::

    aisle-<name>/
        pyproject.toml              the entry point, the test extra, pytest and ruff
        README.md                   develop, test, publish
        src/aisle_<name>/__init__.py the registration and its @hookimpl
        src/aisle_<name>/py.typed
        tests/test_conformance.py   a subclass of the kind's suite

Templates are package data under ``aisle/cli/templates/new_plugin/``.
"""

from __future__ import annotations

import importlib.metadata
import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

import click

__all__ = ["KINDS", "Kind", "command", "scaffold"]

_NAME = re.compile(r"^[a-z][a-z0-9]*([_-][a-z0-9]+)*$")


DISTRIBUTION = "aisle-journeys"
"""Aisle's distribution name (the import package is ``aisle``; ``aisle`` on the public
index is an unrelated project)."""


@dataclass(frozen=True)
class Kind:
    """What one ``--kind`` scaffolds."""

    constant: str
    suite: str
    text: str
    sandbox: str = ""
    imports: tuple[str, ...] = ("msgspec",)
    """Distributions its template imports besides ``aisle``: declared as dependencies."""


KINDS: dict[str, Kind] = {
    "node": Kind("NODE_TYPE", "NodeTypeSuite", "node type"),
    "trigger": Kind("TRIGGER_TYPE", "TriggerTypeSuite", "trigger type"),
    "action": Kind(
        "EXECUTOR",
        "ActionExecutorSuite",
        "action executor",
        " and how to reach the local receiver standing in for the remote",
        ("msgspec", "httpx"),
    ),
    "crm": Kind(
        "PROVIDER",
        "CRMProviderSuite",
        "CRM provider",
        " and how to reach the fake CRM standing in for the real one",
        ("msgspec", "httpx"),
    ),
}


def _templates() -> Traversable:
    return files("aisle.cli").joinpath("templates", "new_plugin")


def _aisle_requirement(extra: str = "") -> str:
    """``aisle-journeys>=X.Y,<X.(Y+1)``: the minor series of the running Aisle (0.x moves
    fast)."""
    try:
        version = importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        version = "0.1.0"
    major, minor = (int(part) for part in version.split(".")[:2])
    return f"{DISTRIBUTION}{extra}>={major}.{minor},<{major}.{minor + 1}"


def _requirement(distribution: str) -> str:
    """``distribution`` with the range Aisle itself requires, so a plugin never asks for a
    version its Aisle cannot run with."""
    try:
        requires = importlib.metadata.requires(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        requires = []
    for line in requires:
        requirement = line.split(";")[0].strip()
        if re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0] == distribution:
            return requirement
    return distribution


def scaffold(name: str, kind: str, directory: Path, description: str = "") -> list[Path]:
    """Write the distribution for plugin ``name`` of ``kind`` into ``directory``.

    :raises click.UsageError: a bad name or kind, or a ``directory`` that is not empty.
    """
    name = name.removeprefix("aisle-").removeprefix("aisle_")
    if not _NAME.match(name) or len(name) > 40:
        raise click.BadParameter(
            f"{name!r}: use lowercase letters and digits, words joined by '-' or '_', "
            "starting with a letter (at most 40 characters)",
            param_hint="NAME",
        )
    if kind not in KINDS:
        raise click.BadParameter(f"{kind!r} is not one of {', '.join(KINDS)}", param_hint="--kind")
    if directory.exists() and any(directory.iterdir()):
        raise click.UsageError(f"{directory} exists and is not empty; choose another --directory")
    registration = name.replace("-", "_")
    spec = KINDS[kind]
    label = registration.replace("_", " ").capitalize()
    values = {
        "name": registration,
        "distribution": f"aisle-{name.replace('_', '-')}",
        "package": f"aisle_{registration}",
        "label": label,
        "class_name": "".join(word.capitalize() for word in registration.split("_")),
        "constant": spec.constant,
        "description": description or f"{label}: an Aisle {spec.text}.",
        "dependencies": ", ".join(
            f'"{r}"' for r in (_aisle_requirement(), *map(_requirement, spec.imports))
        ),
        "testing_requirement": _aisle_requirement("[testing]"),
        "kind_text": spec.text,
        "suite": spec.suite,
        "sandbox_text": spec.sandbox,
    }
    templates = _templates()
    package = directory / "src" / values["package"]
    layout = {
        directory / "pyproject.toml": templates / "common" / "pyproject.toml.tmpl",
        directory / "README.md": templates / "common" / "README.md.tmpl",
        package / "__init__.py": templates / kind / "__init__.py.tmpl",
        directory / "tests" / "test_conformance.py": templates / kind / "test_conformance.py.tmpl",
    }
    written = []
    for target, source in layout.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(Template(source.read_text()).substitute(values))
        written.append(target)
    (package / "py.typed").write_text("")
    written.append(package / "py.typed")
    return written


@click.command("new-plugin")
@click.argument("name")
@click.option(
    "--kind",
    type=click.Choice(sorted(KINDS)),
    required=True,
    help="What the plugin contributes: a node type, a trigger type, an action executor "
    "or a CRM provider.",
)
@click.option(
    "--directory",
    "-d",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write it (default: ./aisle-NAME).",
)
@click.option("--description", default="", help="One line for the package metadata.")
def command(name: str, kind: str, directory: Path | None, description: str) -> None:
    """Scaffold a plugin distribution NAME that passes Aisle's conformance suite."""
    target = directory or Path.cwd() / f"aisle-{name.removeprefix('aisle-').replace('_', '-')}"
    written = scaffold(name, kind, target, description)
    for path in written:
        click.echo(f"  created {path}")
    click.echo(
        f"\nNext:\n  cd {target}\n  pip install -e '.[test]'\n  pytest\n"
        "Then edit src/ and keep the suite passing; see docs/plugin-guide.md."
    )
