"""``aisle serve`` as a user runs it: a real process on a free port, on SQLite."""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from aisle.testing.servers import free_port

from .processes import AISLE, clean_env

pytestmark = pytest.mark.slow

BANNER = re.compile(r"^Aisle \S+ on (http://127\.0\.0\.1:\d+) ")


@dataclass
class Served:
    url: str
    lines: list[str]
    process: asyncio.subprocess.Process
    stderr: str = ""
    """Everything the process wrote to stderr (complete once it has exited)."""

    def line(self, prefix: str) -> str | None:
        return next((line for line in self.lines if line.startswith(prefix)), None)


@asynccontextmanager
async def serving(
    data_dir: Path, *args: str, env: dict[str, str] | None = None
) -> AsyncIterator[Served]:
    """Start ``aisle serve``, read its banner, stop it with SIGTERM and check it exits 0."""
    process = await asyncio.create_subprocess_exec(
        AISLE,
        "serve",
        "--data-dir",
        str(data_dir),
        *args,
        env=env if env is not None else clean_env(),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    stderr = asyncio.create_task(process.stderr.read())
    lines: list[str] = []
    served: Served | None = None
    try:
        async with asyncio.timeout(60):
            while not any(line.startswith("API:") for line in lines):
                raw = await process.stdout.readline()
                assert raw, f"aisle serve exited early (code {await process.wait()}): {lines}"
                lines.append(raw.decode().rstrip("\n"))
            # The token line, when there is one, directly follows the API line.
            if process.stdout.at_eof() is False:
                try:
                    async with asyncio.timeout(0.5):
                        raw = await process.stdout.readline()
                        if raw:
                            lines.append(raw.decode().rstrip("\n"))
                except TimeoutError:
                    pass
        match = BANNER.match(lines[0])
        assert match, lines
        served = Served(match.group(1), lines, process)
        yield served
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            code = await process.wait()
            errors = (await stderr).decode()
        if served is not None:
            served.stderr = errors
    assert code == 0, f"aisle serve exited with {code} on SIGTERM: {errors[-2000:]}"


async def test_serve_answers_healthz_and_prints_the_dashboard_and_a_working_token(
    tmp_path: Path,
) -> None:
    port = free_port()
    async with serving(tmp_path / "data", "--port", str(port)) as served:
        assert served.url == f"http://127.0.0.1:{port}"
        assert served.line("Dashboard:") == f"Dashboard:   {served.url}/dashboard/"
        token_line = served.line('Owner token for "demo"')
        assert token_line is not None, served.lines
        token = token_line.rsplit(" ", 1)[1]
        async with httpx.AsyncClient(base_url=served.url) as client:
            health = await client.get("/healthz")
            assert health.status_code == 200
            assert health.json()["status"] == "ok"
            journeys = await client.get(
                "/api/v1/journeys", headers={"Authorization": f"Bearer {token}"}
            )
            assert journeys.status_code == 200, journeys.text
            assert "Wedding photography client journey" in journeys.text
            login = await client.get("/dashboard/login")
            assert login.status_code == 200
    assert (tmp_path / "data" / "aisle.sqlite3").exists()
    assert (tmp_path / "data" / "secret.key").stat().st_mode & 0o077 == 0

    # A second run keeps the data and shows no token: it was shown once.
    async with serving(tmp_path / "data", "--port", "0") as again:
        assert again.line("Owner token") is None
        async with httpx.AsyncClient(base_url=again.url) as client:
            assert (await client.get("/healthz")).status_code == 200
            ok = await client.get("/api/v1/journeys", headers={"Authorization": f"Bearer {token}"})
            assert ok.status_code == 200


@pytest.mark.redis
async def test_with_redis_serve_leaves_the_jobs_to_workers_and_schedulers(
    tmp_path: Path, redis_url: str, redis_namespace: str
) -> None:
    env = clean_env(
        AISLE_REDIS_URL=redis_url,
        AISLE_SECRET_KEY="c2VydmUtdGVzdC1rZXktc2VydmUtdGVzdC1rZXktc2U=",
        AISLE_QUEUE_NAMESPACE=redis_namespace,
    )
    async with serving(tmp_path / "data", "--port", "0", env=env) as served:
        assert served.lines[0].endswith("jobs: aisle worker + aisle scheduler (Redis))")
        async with httpx.AsyncClient(base_url=served.url) as client:
            assert (await client.get("/healthz")).status_code == 200
    assert not (tmp_path / "data" / "secret.key").exists()  # the shared key is given
