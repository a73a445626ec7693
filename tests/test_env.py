"""Every ``AISLE_*`` number is read by :func:`aisle.env.env_number`: blank is the
default, anything else must be a finite number of the setting's type within its bound,
and a refusal names the variable and repeats what was given."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from aisle.api.config import ApiConfig
from aisle.bounded import BoundedConfig
from aisle.collab.config import CollabConfig
from aisle.engine.condition_limits import ConditionLimits
from aisle.env import SettingsError, env_number
from aisle.settings import Settings


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_unset_or_blank_is_the_default(raw: str | None) -> None:
    env = {} if raw is None else {"AISLE_X": raw}
    assert env_number(env, "AISLE_X", 7) == 7
    assert env_number(env, "AISLE_X", 2.5) == 2.5


def test_the_default_decides_the_type() -> None:
    env = {"AISLE_X": " 12 "}
    assert env_number(env, "AISLE_X", 1) == 12 and type(env_number(env, "AISLE_X", 1)) is int
    assert env_number({"AISLE_X": "0.25"}, "AISLE_X", 1.0) == 0.25
    assert type(env_number(env, "AISLE_X", 1.0)) is float


@pytest.mark.parametrize(
    ("raw", "default", "bound", "message"),
    [
        ("many", 1, "positive", "a positive integer"),
        ("1.5", 1, "positive", "a positive integer"),
        ("0", 1, "positive", "a positive integer"),
        ("-3", 1, "positive", "a positive integer"),
        ("0", 1.0, "positive", "a positive number"),
        ("inf", 1.0, "positive", "a positive number"),
        ("nan", 1.0, "positive", "a positive number"),
        ("-0.5", 1.0, "non-negative", "a number ≥ 0"),
        ("-1", 1, "non-negative", "an integer ≥ 0"),
        ("x", 1, "any", "an integer"),
        ("-inf", 1.0, "any", "a number"),
    ],
)
def test_a_refusal_names_the_variable_and_the_value(
    raw: str, default: float, bound: Any, message: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        env_number({"AISLE_X": raw}, "AISLE_X", default, bound=bound)
    assert str(refused.value) == f"AISLE_X must be {message}, got {raw!r}"


@pytest.mark.parametrize(
    ("raw", "default", "bound", "value"),
    [
        ("0", 1.0, "non-negative", 0.0),
        ("0", 1, "non-negative", 0),
        ("-4", 1, "any", -4),
        ("1e-3", 1.0, "positive", 0.001),
    ],
)
def test_values_within_the_bound_pass(raw: str, default: float, bound: Any, value: float) -> None:
    assert env_number({"AISLE_X": raw}, "AISLE_X", default, bound=bound) == value


READERS: dict[str, Callable[[Mapping[str, str]], object]] = {
    "AISLE_CEL_MAX_DEPTH": ConditionLimits.from_environ,
    "AISLE_MAX_BODY_BYTES": ApiConfig.from_environ,
    "AISLE_MAX_GRAPH_NODES": ApiConfig.from_environ,
    "AISLE_TEMPLATE_WORKERS": BoundedConfig.templates,
    "AISLE_TEMPLATE_TIMEOUT_SECONDS": BoundedConfig.templates,
    "AISLE_CEL_TIME_BUDGET_MS": BoundedConfig.conditions,
    "AISLE_LOCK_EDIT_LEASE_SECONDS": CollabConfig.from_environ,
    "AISLE_PRESENCE_BROADCAST_MS": CollabConfig.from_environ,
    "AISLE_WORKER_THREADS": lambda env: Settings.from_env(env, create_dirs=False),
    "AISLE_RETRY_BASE_SECONDS": lambda env: Settings.from_env(env, create_dirs=False),
}


@pytest.mark.parametrize("name", sorted(READERS))
def test_every_reader_refuses_through_env_number(name: str) -> None:
    with pytest.raises(SettingsError, match=f"^{name} must be "):
        READERS[name]({name: "lots"})


def test_readers_keep_their_bounds() -> None:
    # Collaboration's broadcast and persist intervals may be zero (no throttling);
    # its leases may not.
    zero = CollabConfig.from_environ(
        {"AISLE_PRESENCE_BROADCAST_MS": "0", "AISLE_PRESENCE_PERSIST_SECONDS": "0"}
    )
    assert zero.broadcast_interval.total_seconds() == zero.persist_interval.total_seconds() == 0
    with pytest.raises(SettingsError, match="AISLE_LOCK_VIEW_LEASE_SECONDS must be a positive"):
        CollabConfig.from_environ({"AISLE_LOCK_VIEW_LEASE_SECONDS": "0"})
    assert (
        CollabConfig.from_environ(
            {"AISLE_LOCK_EDIT_LEASE_SECONDS": "1.5"}
        ).edit_lease.total_seconds()
        == 1.5
    )
    assert BoundedConfig.conditions({"AISLE_CEL_TIME_BUDGET_MS": "100"}).timeout_seconds == 0.1
    assert Settings.from_env({"AISLE_DB_POOL_MIN": "0"}, create_dirs=False).db_pool_min == 0
