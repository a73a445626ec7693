"""Local HTTP servers on real sockets for plugin tests: a base and a scripted receiver.

They run ``http.server`` in a thread on ``127.0.0.1``, so async code under test talks
to them over a real socket (through :func:`aisle.http_client` with ``127.0.0.1``
allowed), and so can a worker subprocess.

::

    with HTTPReceiver() as receiver:
        receiver.reply(Reply(503, {"Retry-After": "30"}))   # the next request fails
        receiver.hang()                                      # the one after never answers
        ...
        [request.headers["idempotency-key"] for request in receiver.requests]
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

__all__ = ["HTTPReceiver", "LocalHTTPServer", "ReceivedRequest", "Reply"]

_HANG_LIMIT_SECONDS = 60.0  # a hanging reply gives up by itself, so no thread outlives a run


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the server saw it (header names lowercased)."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    """What the server answers; ``hang`` holds the connection open without answering."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    hang: bool = False


class LocalHTTPServer:
    """A threaded HTTP server on ``127.0.0.1``; subclasses answer in :meth:`respond`.

    Every request is appended to :attr:`requests` before it is answered.
    """

    def __init__(self) -> None:
        self.requests: list[ReceivedRequest] = []
        self.lock = threading.Lock()
        self._released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def respond(self, request: ReceivedRequest) -> Reply:
        """The reply to ``request`` (called with :attr:`lock` held)."""
        raise NotImplementedError

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()  # lets hanging replies go
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _answer(self, request: ReceivedRequest) -> Reply:
        with self.lock:
            self.requests.append(request)
            reply = self.respond(request)
        if reply.hang:
            self._released.wait(_HANG_LIMIT_SECONDS)
        return reply


class HTTPReceiver(LocalHTTPServer):
    """Records requests and answers from a queue of replies, then with ``default``."""

    def __init__(self, default: Reply | None = None) -> None:
        super().__init__()
        self.default = default or Reply(200, {"Content-Type": "application/json"}, b"{}")
        self._queue: list[Reply] = []

    def reply(self, reply: Reply, times: int = 1) -> None:
        """Answer the next ``times`` requests with ``reply``."""
        with self.lock:
            self._queue.extend([reply] * times)

    def hang(self, times: int = 1) -> None:
        """Never answer the next ``times`` requests (until the server stops)."""
        self.reply(Reply(hang=True), times)

    def respond(self, request: ReceivedRequest) -> Reply:
        return self._queue.pop(0) if self._queue else self.default


def _handler_for(server: LocalHTTPServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = ReceivedRequest(
                method=self.command,
                path=split.path,
                query={k: v[-1] for k, v in parse_qs(split.query).items()},
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            reply = server._answer(request)
            if reply.hang:
                return  # the client gave up long ago; close without a reply
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:
            # The default writes every request to stderr; tests read server.requests.
            pass

    return Handler
