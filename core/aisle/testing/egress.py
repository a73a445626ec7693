"""Outbound HTTP seen by the suites: every request must leave through the SSRF guard.

Aisle makes outbound clients in one place, :func:`aisle.http_client`, whose transport
connects only to addresses the operator allows. A plugin that builds its own
``httpx.AsyncClient`` (or calls ``httpx.post``) skips that check, and a studio's
webhook URL could then reach the cloud metadata service or the database next door.
:func:`watch_egress` notes every request sent through such a client, and where.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import httpx

from aisle.http import uses_guard

__all__ = ["GUARD_ADVICE", "Bypass", "watch_egress"]

GUARD_ADVICE = (
    "create every HTTP client with aisle.http_client(allow=services.setting('HTTP_ALLOW'), "
    "...) — it refuses private, loopback and cloud-metadata addresses unless the operator "
    "allows them (AISLE_HTTP_ALLOW); never httpx.AsyncClient(), httpx.Client() or httpx.get()"
)
"""What to do instead, for the suites' failure messages."""

_HTTPX = str(Path(httpx.__file__).parent)
_ASYNCIO = str(Path(sys.modules["asyncio"].__file__ or "").parent)


@dataclass(frozen=True)
class Bypass:
    """A request that left through a client of the plugin's own making."""

    origin: str
    """``scheme://host:port`` only: paths and queries may carry secrets."""
    where: str
    """``file:line`` of the code that sent it."""

    def __str__(self) -> str:
        return f"a request to {self.origin} (sent at {self.where})"


def _origin(url: httpx.URL) -> str:
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}"


def _sender() -> str:
    """The innermost frame outside httpx, asyncio and this module: the plugin's call."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if not (name.startswith((_HTTPX, _ASYNCIO)) or name == __file__):
            return f"{name}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return "an unknown place"


@contextmanager
def watch_egress() -> Iterator[list[Bypass]]:
    """Record, while open, each request sent by an httpx client not made by
    :func:`aisle.http_client` (every synchronous ``httpx.Client`` is one: Aisle has no
    guarded synchronous client). The requests still go out; the caller judges."""
    seen: list[Bypass] = []
    async_send = httpx.AsyncClient.send
    sync_send = httpx.Client.send

    async def watched_async_send(
        self: httpx.AsyncClient, request: httpx.Request, **options: Any
    ) -> httpx.Response:
        if not uses_guard(self._transport_for_url(request.url)):
            seen.append(Bypass(_origin(request.url), _sender()))
        return await async_send(self, request, **options)

    def watched_sync_send(
        self: httpx.Client, request: httpx.Request, **options: Any
    ) -> httpx.Response:
        seen.append(Bypass(_origin(request.url), _sender()))
        return sync_send(self, request, **options)

    with (
        mock.patch.object(httpx.AsyncClient, "send", watched_async_send),
        mock.patch.object(httpx.Client, "send", watched_sync_send),
    ):
        yield seen
