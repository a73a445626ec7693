"""docs/api.md lists every /api/v1 endpoint the app serves, and nothing it does not."""

from __future__ import annotations

import re
from pathlib import Path

from litestar import Litestar
from litestar.routes import HTTPRoute, WebSocketRoute

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
_ROW = re.compile(r"^\| `(GET|POST|PUT|PATCH|DELETE|WS) (/api/v1/[^`]*)` \|", re.MULTILINE)


def _served(app: Litestar) -> set[tuple[str, str]]:
    served: set[tuple[str, str]] = set()
    for route in app.routes:
        if not route.path.startswith("/api/v1"):
            continue
        # Litestar writes parameters with their type ({journey_id:str}); docs do not.
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        if isinstance(route, WebSocketRoute):
            served.add(("WS", path))
        elif isinstance(route, HTTPRoute):
            served.update((method, path) for method in route.methods if method != "OPTIONS")
    return served


def test_every_endpoint_is_documented_and_every_documented_one_exists(app: Litestar) -> None:
    documented = set(_ROW.findall(DOC.read_text()))
    served = _served(app)
    assert served - documented == set(), "add these endpoints to docs/api.md"
    assert documented - served == set(), "docs/api.md lists endpoints the app does not serve"
