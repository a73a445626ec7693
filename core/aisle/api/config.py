"""The API's own operator settings: CORS origins, rate limits, body and graph limits.

Read from the ``AISLE_*`` environment captured in :class:`aisle.settings.Settings`:

=============================  =========  =============================================
``AISLE_CORS_ORIGINS``         (none)     comma-separated origins a canvas may call from
``AISLE_RATE_LIMIT``           ``600/minute``  requests per token (``N/second|minute|hour``)
``AISLE_MAX_BODY_BYTES``       ``5000000``  largest request body accepted
``AISLE_MAX_GRAPH_NODES``      ``2000``   nodes per journey graph
``AISLE_MAX_GRAPH_EDGES``      ``5000``   edges per journey graph
=============================  =========  =============================================
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from aisle.api.admission import GraphLimits

__all__ = ["ApiConfig", "ApiConfigError"]

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


class ApiConfigError(ValueError):
    """An API setting is malformed; the message names the variable."""


class ApiConfig(msgspec.Struct, frozen=True, kw_only=True):
    cors_origins: tuple[str, ...] = ()
    rate_limit: int = 600
    """Requests per token per :attr:`rate_window_seconds`; 0 turns limiting off."""
    rate_window_seconds: int = 60
    max_body_bytes: int = 5_000_000
    graph_limits: GraphLimits = GraphLimits()

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> ApiConfig:
        origins = tuple(
            o.strip().rstrip("/") for o in env.get("AISLE_CORS_ORIGINS", "").split(",") if o.strip()
        )
        limit, window = _rate(env.get("AISLE_RATE_LIMIT") or "600/minute")
        return cls(
            cors_origins=origins,
            rate_limit=limit,
            rate_window_seconds=window,
            max_body_bytes=_positive(env, "AISLE_MAX_BODY_BYTES", 5_000_000),
            graph_limits=GraphLimits(
                max_nodes=_positive(env, "AISLE_MAX_GRAPH_NODES", 2000),
                max_edges=_positive(env, "AISLE_MAX_GRAPH_EDGES", 5000),
            ),
        )


def _rate(raw: str) -> tuple[int, int]:
    count, _, unit = raw.strip().partition("/")
    try:
        limit = int(count)
    except ValueError:
        limit = -1
    if limit < 0 or unit not in _UNITS:
        raise ApiConfigError(
            f"AISLE_RATE_LIMIT must look like 600/minute (units: {', '.join(_UNITS)}), got {raw!r}"
        )
    return limit, _UNITS[unit]


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ApiConfigError(f"{name} must be a positive integer, got {raw!r}")
    return value
