"""The browser tests' parts: a live ``aisle serve`` in a subprocess, and the checks every
page gets (no console errors, no serious or critical axe-core violation, a screenshot).

The server is real (its own process, SQLite in a temporary folder, a free port), so the
browser sees exactly what a studio sees after ``./scripts/serve``.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import ConsoleMessage, Error, Page

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "SCREENSHOTS",
    "LiveServer",
    "PageWatch",
    "aisle",
    "live_server",
]

CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium, headless, in a sandbox-less container with no network to reach.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-output" / "screenshots"
_BANNER = re.compile(r"^Aisle \S+ on (http://\S+) ")
_SIGN_IN = re.compile(r"^Dashboard sign-in \(shown once, keep it\): (\S+) / (\S+)$")
_TOKEN = re.compile(r'^Owner token for "demo" \(shown once, keep it\): (\S+)$')
_AXE = Axe()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def aisle(data_dir: Path, *args: str, stdin: str | None = None) -> str:
    """Run an ``aisle`` command against the server's data; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "aisle.cli", *args, "--data-dir", str(data_dir)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@dataclass
class LiveServer:
    url: str
    data_dir: Path
    owner_email: str
    owner_password: str
    owner_token: str

    def add_user(self, email: str, role: str, password: str) -> None:
        """A user of the demo studio who signs in with ``password``."""
        aisle(self.data_dir, "user", "add", email, "--org", "demo", "--role", role)
        aisle(
            self.data_dir,
            "user",
            "set-password",
            email,
            "--org",
            "demo",
            "--password-stdin",
            stdin=password + "\n",
        )


@contextmanager
def live_server(data_dir: Path, **environ: str) -> Iterator[LiveServer]:
    """``aisle serve`` on a free port with the demo studio (its log in ``serve.log``),
    stopped as Ctrl-C stops it."""
    env = {**os.environ, "AISLE_DATA_DIR": str(data_dir), **environ}
    env.pop("AISLE_REDIS_URL", None)  # jobs in-process, as on a studio's laptop
    env.pop("AISLE_DATABASE_URL", None)
    log = data_dir / "serve.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "aisle.cli", "serve", "--port", str(_free_port())],
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        assert process.stdout is not None
        url = email = password = token = ""
        deadline = time.monotonic() + 60
        while not (url and password and token):
            line = process.stdout.readline()
            assert line, f"aisle serve exited ({process.poll()}): {log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, "aisle serve did not print its banner"
            if match := _BANNER.match(line):
                url = match.group(1)
            elif match := _SIGN_IN.match(line.rstrip("\n")):
                email, password = match.groups()
            elif match := _TOKEN.match(line.rstrip("\n")):
                token = match.group(1)
        assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
        yield LiveServer(url, data_dir, email, password, token)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class PageWatch:
    """What a page did wrong while a test used it: console errors, uncaught exceptions,
    and requests that left the server (the dashboard must work offline)."""

    page: Page
    server_url: str
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", self._console)
        self.page.on("pageerror", self._page_error)
        self.page.context.route("**/*", self._route)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} ({message.location.get('url', '')})")

    def _page_error(self, error: Error) -> None:
        self.errors.append(f"uncaught: {error}")

    def _route(self, route: object) -> None:
        request = route.request  # type: ignore[attr-defined]
        if request.url.startswith(self.server_url) or request.url.startswith("data:"):
            route.continue_()  # type: ignore[attr-defined]
        else:
            self.outside.append(request.url)
            route.abort()  # type: ignore[attr-defined]

    def check(self, name: str, *, axe_exclude: list[str] | None = None) -> None:
        """This page as it stands: a screenshot written, no console error or outside
        request so far, and no serious or critical accessibility violation."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
        assert self.errors == [], f"{name}: console errors {self.errors}"
        assert self.outside == [], f"{name}: requests left the server {self.outside}"
        context: dict[str, object] | None = (
            {"exclude": [[selector] for selector in axe_exclude]} if axe_exclude else None
        )
        results = _AXE.run(self.page, context=context)
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], f"{name}: accessibility violations {serious}"
