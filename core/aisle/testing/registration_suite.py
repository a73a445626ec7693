"""Checks every suite shares: the registration is valid, installed, and its config is sound.

A suite for one hook kind subclasses :class:`RegistrationSuite`, says which registry
table its registrations live in, and maps the ``registration`` fixture to its own
(``node_type``, ``trigger_type``, ``executor``, ``provider``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import msgspec
import pytest

from aisle.contracts.registrations import Registration
from aisle.contracts.registry import Registry
from aisle.plugins.manager import load_registry
from aisle.testing.config_schema import (
    json_schema,
    parse_config,
    schema_errors,
    schema_is_valid,
    wrong_values,
)
from aisle.testing.requirements import CapabilitySuite, requires

__all__ = ["ConfigCase", "RegistrationSuite"]

STRICT_CONFIG = (
    "its config rejects unknown fields (msgspec.Struct with forbid_unknown_fields=True), "
    "so a misspelt setting is reported instead of silently ignored"
)


class ConfigCase(msgspec.Struct, frozen=True):
    """A config that must be rejected, and the field the error must name."""

    config: Mapping[str, Any]
    field: str


def _override(fixture: str, what: str) -> str:
    return f"override the `{fixture}` fixture in your test class to return {what}"


class RegistrationSuite(CapabilitySuite):
    """Registration validity, installation through the plugin system, config schema."""

    registry_table: ClassVar[str] = ""
    """The :class:`~aisle.contracts.registry.Registry` attribute holding this kind."""

    capabilities: ClassVar[Mapping[str, str]] = {"strict_config": STRICT_CONFIG}

    # -- fixtures a plugin's test class overrides -----------------------------------

    @pytest.fixture
    def registration(self) -> Registration:
        """The registration under test (each suite maps it to its own fixture)."""
        pytest.fail(_override("registration", "the registration under test"))

    @pytest.fixture
    def config_type(self, registration: Any) -> type[msgspec.Struct]:
        """The msgspec Struct that validates the registration's settings."""
        config: type[msgspec.Struct] = registration.config
        return config

    @pytest.fixture
    def valid_config(self, registration: Registration, config_type: type[msgspec.Struct]) -> Any:
        """A config (JSON-shaped) the registration must accept; ``{}`` when that parses."""
        try:
            parse_config(config_type, {})
        except msgspec.ValidationError as exc:
            pytest.fail(
                f"{self.kind} {registration.name!r} has required config fields ({exc}); "
                + _override("valid_config", "a config dict it accepts")
            )
        return {}

    @pytest.fixture
    def invalid_configs(self) -> Sequence[ConfigCase]:
        """Configs that must be rejected, each with the field its error must name.

        The suite already tries a wrong-typed value for every field and an unknown
        field; add the rules only your code knows (a currency code, a date range).
        """
        return ()

    @pytest.fixture
    def registry(self) -> Registry:
        """The plugins as Aisle loads them: built-ins, then installed entry points."""
        return load_registry()

    # -- checks ---------------------------------------------------------------------

    def test_registration_is_valid(self, registration: Registration) -> None:
        """The registration has a name Aisle accepts and a label the canvas can show."""
        registration.__post_init__()  # the checks a registration runs when built
        assert isinstance(registration.label, str) and registration.label.strip(), (
            f"{self.kind} {registration.name!r} has no label: set label= to the name the "
            "canvas and dashboard show (e.g. 'Checklist item')"
        )

    def test_registered_by_an_installed_plugin(
        self, registration: Registration, registry: Registry
    ) -> None:
        """Aisle finds the registration through the plugin system, unchanged."""
        table: Mapping[str, Registration] = getattr(registry, self.registry_table)
        found = table.get(registration.name)
        errors = "; ".join(f"{e.plugin} ({e.distribution}): {e.reason}" for e in registry.errors)
        assert found is not None, (
            f"{self.kind} {registration.name!r} is not registered by any installed plugin. "
            "Is your distribution installed (pip install -e .), with an entry point in the "
            "'aisle' group pointing at the module whose @hookimpl returns it?"
            + (f" Plugin load errors: {errors}" if errors else "")
        )
        owner = registry.owner(type(registration), registration.name)
        assert found == registration, (
            f"the {self.kind} registered as {registration.name!r} (by {owner}) is not the one "
            "under test: another plugin took the name first, or your hook builds a "
            "different object than your test fixture returns"
        )

    def test_config_schema_is_valid_json_schema(
        self, registration: Registration, config_type: type[msgspec.Struct]
    ) -> None:
        """The config's JSON Schema renders and is a valid Draft 2020-12 schema."""
        schema = self._schema(registration, config_type)
        problem = schema_is_valid(schema)
        assert problem is None, (
            f"the config schema of {self.kind} {registration.name!r} is not valid JSON "
            f"Schema (Draft 2020-12): {problem}"
        )

    def test_valid_config_is_accepted(
        self, registration: Registration, config_type: type[msgspec.Struct], valid_config: Any
    ) -> None:
        """The valid config parses, and its JSON Schema (used by the canvas) agrees."""
        try:
            parse_config(config_type, valid_config)
        except msgspec.ValidationError as exc:
            pytest.fail(
                f"{self.kind} {registration.name!r} rejects its own valid_config "
                f"{valid_config!r}: {exc}"
            )
        problems = schema_errors(self._schema(registration, config_type), valid_config)
        assert not problems, (
            f"the JSON Schema of {self.kind} {registration.name!r} rejects a config the "
            f"Struct accepts ({valid_config!r}): {'; '.join(problems)}. The canvas "
            "validates with the schema, so fix the field's type or Meta constraints"
        )

    @requires("strict_config")
    def test_unknown_config_field_is_rejected(
        self, registration: Registration, config_type: type[msgspec.Struct], valid_config: Any
    ) -> None:
        """A misspelt setting is an error naming it, not silently ignored."""
        bad = {**valid_config, "aisle_conformance_unknown_field": 1}
        with pytest.raises(msgspec.ValidationError) as caught:
            parse_config(config_type, bad)
            pytest.fail(
                f"{self.kind} {registration.name!r} accepts a config with an unknown field: "
                f"declare {config_type.__name__} with forbid_unknown_fields=True, or add "
                f"'strict_config' to unsupported with a reason"
            )
        assert "aisle_conformance_unknown_field" in str(caught.value)

    def test_wrong_types_are_rejected_naming_the_field(
        self, registration: Registration, config_type: type[msgspec.Struct], valid_config: Any
    ) -> None:
        """For every field, a value its schema rejects is rejected with the field named."""
        problems = []
        schema = self._schema(registration, config_type)
        for field, bad in wrong_values(config_type, schema, valid_config):
            try:
                parse_config(config_type, bad)
            except msgspec.ValidationError as exc:
                if field not in str(exc):
                    problems.append(f"{field}: the error {str(exc)!r} does not name the field")
            else:
                problems.append(
                    f"{field}: {bad[field]!r} is accepted although the JSON Schema rejects it"
                )
        assert not problems, f"config of {self.kind} {registration.name!r}: " + "; ".join(problems)

    def test_invalid_configs_are_rejected_naming_the_field(
        self,
        registration: Registration,
        config_type: type[msgspec.Struct],
        invalid_configs: Sequence[ConfigCase],
    ) -> None:
        """The author's own invalid configs are rejected, each error naming its field."""
        problems = []
        for case in invalid_configs:
            try:
                parse_config(config_type, case.config)
            except msgspec.ValidationError as exc:
                if case.field not in str(exc):
                    problems.append(
                        f"{case.config!r}: the error {str(exc)!r} does not name {case.field!r}"
                        " (raise ValueError mentioning the field in __post_init__)"
                    )
            else:
                problems.append(
                    f"{case.config!r} is accepted (expected an error on {case.field!r})"
                )
        assert not problems, f"config of {self.kind} {registration.name!r}: " + "; ".join(problems)

    def _schema(
        self, registration: Registration, config_type: type[msgspec.Struct]
    ) -> dict[str, Any]:
        try:
            return json_schema(config_type)
        except (TypeError, ValueError) as exc:
            pytest.fail(
                f"the config of {self.kind} {registration.name!r} ({config_type.__name__}) "
                f"cannot be rendered as JSON Schema: {' '.join(str(exc).split())}. Use "
                "JSON-friendly field types "
                "(str, int, float, bool, Literal, enums, lists, dicts with str keys, "
                "date/datetime, nested Structs)"
            )
