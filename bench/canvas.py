"""The journey canvas: its bundle's size (gzip) and how long a 500-step journey takes to
become interactive in headless Chromium (page load to a step's form open after a click),
against a live ``aisle serve``. Needs the built bundle (./scripts/bootstrap) and
Debian's Chromium (/usr/bin/chromium)."""

from __future__ import annotations

import gzip
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from bench.registry import Result, bench, from_samples

BUNDLE = Path(__file__).resolve().parents[1] / "dashboard/aisle_dashboard/static/canvas"
CHROMIUM = "/usr/bin/chromium"
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
_BANNER = re.compile(r"^Aisle \S+ on (http://\S+) ")
_SIGN_IN = re.compile(r"^Dashboard sign-in \(shown once, keep it\): (\S+) / (\S+)$")
_TOKEN = re.compile(r'^Owner token for "demo" \(shown once, keep it\): (\S+)$')


@bench("canvas.bundle", "the canvas's script and stylesheet, gzip-compressed")
def bundle(quick: bool) -> Result:
    sizes = {
        name: len(gzip.compress((BUNDLE / name).read_bytes(), 9))
        for name in ("canvas.js", "canvas.css")
    }
    total = sum(sizes.values())
    note = ", ".join(f"{name} {size / 1024:.0f} KiB" for name, size in sizes.items())
    return Result(name="canvas.bundle", n=total, rate=0.0, unit="byte", note=f"gzip: {note}")


@contextmanager
def _server(data_dir: Path) -> Iterator[tuple[str, str, str, str]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "AISLE_DATA_DIR": str(data_dir)}
    env.pop("AISLE_REDIS_URL", None)
    env.pop("AISLE_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "aisle.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = email = password = token = ""
        while not (url and password and token):
            line = process.stdout.readline().rstrip("\n")
            if not line:
                raise RuntimeError("aisle serve exited before its banner")
            if match := _BANNER.match(line):
                url = match.group(1)
            elif match := _SIGN_IN.match(line):
                email, password = match.groups()
            elif match := _TOKEN.match(line):
                token = match.group(1)
        yield url, email, password, token
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def _journey(url: str, token: str, steps: int) -> str:
    """A chain of ``steps`` waits in a 25-wide grid."""
    nodes = [
        {
            "id": f"s{i}",
            "type": "wait",
            "position": {"x": (i % 25) * 240, "y": (i // 25) * 140},
            "data": {"label": f"Step {i}", "config": {}},
        }
        for i in range(steps)
    ]
    edges = [
        {"id": f"e{i}", "source": f"s{i}", "target": f"s{i + 1}", "data": {"trigger": "immediate"}}
        for i in range(steps - 1)
    ]
    made = httpx.post(
        f"{url}/api/v1/journeys",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "name": f"{steps} steps",
            "settings": {"start_step": "s0", "entry": {"event_type": "form.submitted"}},
            "flow": {"nodes": nodes, "edges": edges},
        },
        timeout=60,
    )
    made.raise_for_status()
    return str(made.json()["id"])


@bench(
    "canvas.interactive_500",
    "a 500-step journey's canvas from navigation to a step's form open (goal < 1.5 s)",
)
def interactive(quick: bool) -> Result:
    steps = 500
    samples = []
    with tempfile.TemporaryDirectory() as data, _server(Path(data)) as served:
        url, email, password, token = served
        journey_id = _journey(url, token, steps)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(base_url=url, viewport={"width": 1400, "height": 900})
            page.goto("/dashboard/login")
            page.get_by_label("Email").fill(email)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Sign in", exact=True).click()
            page.wait_for_url("**/dashboard/")
            for _ in range(1 if quick else 5):
                began = time.perf_counter()
                page.goto(f"/dashboard/journeys/{journey_id}/canvas")
                page.locator('[data-step-id="s0"]').click()
                page.get_by_role("complementary", name="Step settings").wait_for()
                samples.append(time.perf_counter() - began)
            browser.close()
    return from_samples("canvas.interactive_500", samples, unit="load", note=f"{steps} steps")
