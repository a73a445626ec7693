"""A plugin that fails to import is reported when ``aisle serve`` starts, and the rest of
Aisle serves regardless."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from .test_serve_command import serving

pytestmark = pytest.mark.slow


def install_broken_plugin(site: Path) -> None:
    """A distribution on ``site`` whose ``aisle`` entry point raises on import."""
    (site / "aisle_broken_demo.py").write_text("raise RuntimeError('this plugin is broken')\n")
    info = site / "aisle_broken_demo-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: aisle-broken-demo\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[aisle]\nbroken_demo = aisle_broken_demo\n")


async def test_serve_reports_the_broken_plugin_and_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install_broken_plugin(site)
    path = [str(site), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(path))
    async with (
        serving(tmp_path / "data", "--port", "0") as served,
        httpx.AsyncClient(base_url=served.url) as client,
    ):
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/dashboard/login")).status_code == 200
    assert (
        "Plugin broken_demo (aisle-broken-demo) was not loaded: RuntimeError: this plugin is broken"
    ) in served.stderr
