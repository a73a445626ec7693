"""The API's own operator settings: CORS origins, rate limits, body and graph limits.

Read from the ``AISLE_*`` environment captured in :class:`aisle.settings.Settings`:

============================  ==============  ==============================================
``AISLE_CORS_ORIGINS``        (none)          origins a canvas may call from (comma-separated)
``AISLE_RATE_LIMIT``          ``600/minute``  requests per token (``N/second|minute|hour|day``;
                                              ``0``: off)
``AISLE_AUTH_FAILURE_LIMIT``  ``20/minute``   failed authentications per client address before
                                              429 (``0``: off)
``AISLE_MAX_BODY_BYTES``      ``5000000``     largest request body accepted
``AISLE_MAX_GRAPH_NODES``     ``2000``        nodes per journey graph
``AISLE_MAX_GRAPH_EDGES``     ``5000``        edges per journey graph
============================  ==============  ==============================================
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from aisle.canvas.admission import GraphLimits
from aisle.env import SettingsError, env_number

__all__ = ["ApiConfig"]

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


class ApiConfig(msgspec.Struct, frozen=True, kw_only=True):
    cors_origins: tuple[str, ...] = ()
    rate_limit: int = 600
    """Requests per token per :attr:`rate_window_seconds`; 0 turns limiting off."""
    rate_window_seconds: int = 60
    auth_failure_limit: int = 20
    """Failed authentications per client address per :attr:`auth_failure_window_seconds`
    before further attempts get 429; 0 turns the throttle off."""
    auth_failure_window_seconds: int = 60
    max_body_bytes: int = 5_000_000
    graph_limits: GraphLimits = GraphLimits()

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> ApiConfig:
        origins = tuple(
            o.strip().rstrip("/") for o in env.get("AISLE_CORS_ORIGINS", "").split(",") if o.strip()
        )
        limit, window = _rate(env, "AISLE_RATE_LIMIT", "600/minute")
        failures, failure_window = _rate(env, "AISLE_AUTH_FAILURE_LIMIT", "20/minute")
        return cls(
            cors_origins=origins,
            rate_limit=limit,
            rate_window_seconds=window,
            auth_failure_limit=failures,
            auth_failure_window_seconds=failure_window,
            max_body_bytes=env_number(env, "AISLE_MAX_BODY_BYTES", 5_000_000),
            graph_limits=GraphLimits(
                max_nodes=env_number(env, "AISLE_MAX_GRAPH_NODES", 2000),
                max_edges=env_number(env, "AISLE_MAX_GRAPH_EDGES", 5000),
            ),
        )


def _rate(env: Mapping[str, str], name: str, default: str) -> tuple[int, int]:
    """``N/unit`` as (count, window seconds); ``0`` or ``off`` alone turn the limit off."""
    raw = env.get(name) or default
    count, _, unit = raw.strip().partition("/")
    try:
        limit = int(count)
    except ValueError:
        limit = 0 if count.strip().lower() == "off" and not unit else -1
    if limit == 0 and not unit:
        return 0, 60
    if limit < 0 or unit.strip() not in _UNITS:
        raise SettingsError(
            f"{name} must look like {default} (units: {', '.join(_UNITS)}) or 0 for off, "
            f"got {raw!r}"
        )
    return limit, _UNITS[unit.strip()]
