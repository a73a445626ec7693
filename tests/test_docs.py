"""The plugin guide stays true: every hook and registration field is documented in
``docs/plugin-guide.md``, every Python block compiles, and the complete example runs.

Like Datasette's ``test_docs.py``: add a hook or a field and this fails until the guide
says what it is.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
import tomllib
import types
from pathlib import Path

import pytest

import aisle
import aisle.testing
from aisle.contracts.hooks import HOOKS, AisleSpecs
from aisle.contracts.registrations import Registration
from aisle.plugins.manager import load_registry

GUIDE_PATH = Path(__file__).resolve().parent.parent / "docs" / "plugin-guide.md"
GUIDE = GUIDE_PATH.read_text()
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", GUIDE, flags=re.DOTALL)

SPECS = sorted(
    name
    for name, function in inspect.getmembers(AisleSpecs, inspect.isfunction)
    if hasattr(function, "aisle_spec")
)
REGISTRATIONS = sorted(
    {Registration, *HOOKS.values()}
    | {
        cls
        for cls in (getattr(aisle, name) for name in aisle.__all__)
        if isinstance(cls, type) and issubclass(cls, Registration)
    },
    key=lambda cls: cls.__name__,
)


def section(title: str) -> str:
    """The text under the ``### `title` `` heading, up to the next heading."""
    match = re.search(
        rf"^### `{re.escape(title)}`\n(.*?)(?=^##)", GUIDE + "\n##", flags=re.DOTALL | re.M
    )
    assert match, f"docs/plugin-guide.md has no section '### `{title}`'"
    return match.group(1)


def test_the_hook_table_and_the_specs_agree() -> None:
    assert set(SPECS) == set(HOOKS)


@pytest.mark.parametrize("hook", SPECS)
def test_every_hook_is_documented_with_its_exact_signature(hook: str) -> None:
    spec = getattr(AisleSpecs, hook)
    signature = inspect.signature(spec)
    parameters = [p for name, p in signature.parameters.items() if name != "self"]
    # Under `from __future__ import annotations` the return annotation is its source text.
    shown = f"def {hook}({', '.join(map(str, parameters))}) -> {signature.return_annotation}"
    text = section(hook)
    assert shown in text, f"the section on {hook} must show its signature: {shown}"
    assert "@hookimpl" in text, f"the section on {hook} must show an implementation"
    # Every hook returns registrations of one type; the section links to its reference.
    returned = HOOKS[hook].__name__
    assert f"[`{returned}`](#{returned.lower()})" in text


@pytest.mark.parametrize("registration", REGISTRATIONS, ids=lambda cls: cls.__name__)
def test_every_registration_field_is_documented(registration: type) -> None:
    own = section(registration.__name__)
    shared = section("Registration")
    inherited = {f.name for f in dataclasses.fields(Registration)}
    missing = [
        field.name
        for field in dataclasses.fields(registration)
        if f"| `{field.name}` |" not in (shared if field.name in inherited else own)
    ]
    assert not missing, (
        f"docs/plugin-guide.md does not document {registration.__name__}."
        f"{', '.join(missing)} (a table row starting | `field` |)"
    )


def test_every_public_testing_name_is_mentioned() -> None:
    missing = [name for name in aisle.testing.__all__ if f"`{name}" not in GUIDE]
    assert not missing, f"docs/plugin-guide.md never mentions aisle.testing's {missing}"


@pytest.mark.parametrize("number", range(len(PYTHON_BLOCKS)))
def test_every_python_block_compiles(number: int) -> None:
    compile(PYTHON_BLOCKS[number], f"plugin-guide.md python block {number}", "exec")


def test_the_complete_example_loads_as_a_plugin() -> None:
    [source] = [block for block in PYTHON_BLOCKS if block.startswith('"""aisle-gallery')]
    module = types.ModuleType("aisle_gallery_example")
    exec(compile(source, "plugin-guide.md example", "exec"), module.__dict__)
    registry = load_registry(extra_plugins=[("gallery", module)], entry_points=False)
    assert not registry.errors, registry.errors
    assert "gallery_ready" in registry.trigger_types
    assert "gallery_link" in registry.node_types


# -- docs/architecture.md ------------------------------------------------------------

ROOT = GUIDE_PATH.parent.parent
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text()


def _architecture_section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", ARCHITECTURE, re.S | re.M)
    assert match, f"docs/architecture.md has no section '## {title}'"
    return match.group(1)


def _resolve(dotted: str) -> object:
    """The object ``dotted`` names: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for name in parts[split:]:
            found = getattr(found, name)
        return found
    raise ModuleNotFoundError(dotted)


EVENT_PATH = re.findall(r"`(aisle\w*(?:\.\w+)+)`", _architecture_section("The path of one event"))


def test_the_event_path_is_followed_through_every_layer() -> None:
    packages = {name.split(".")[1] for name in EVENT_PATH if name.startswith("aisle.")}
    assert {"api", "runtime", "engine", "storage", "jobs", "http"} <= packages
    assert any(name.startswith("aisle_actions.") for name in EVENT_PATH)


@pytest.mark.parametrize("dotted", sorted(set(EVENT_PATH)))
def test_every_function_on_the_event_path_exists(dotted: str) -> None:
    try:
        found = _resolve(dotted)
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"docs/architecture.md names {dotted}, which does not exist: {exc}")
    assert callable(found), f"docs/architecture.md names {dotted}, which is not a function"


def test_the_picture_shows_every_layer_lint_imports_checks() -> None:
    [picture] = re.findall(r"```mermaid\n(.*?)```", ARCHITECTURE, re.S)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    [layers] = [c for c in config["contracts"] if c["type"] == "layers"]
    names = {name for layer in layers["layers"] for name in re.findall(r"\w+", layer)}
    missing = sorted(name for name in names if not re.search(rf"\b{name}\b", picture))
    assert not missing, f"the layer picture in docs/architecture.md does not show {missing}"


def test_every_package_of_aisle_has_an_owner() -> None:
    table = _architecture_section("Who owns what")
    owned = set(re.findall(r"`(aisle(?:\.\w+)?)`", table))
    modules = {f"aisle.{m.name}" for m in pkgutil.iter_modules(aisle.__path__)}
    missing = sorted(modules - owned)
    assert not missing, f"docs/architecture.md's ownership table has no row for {missing}"
