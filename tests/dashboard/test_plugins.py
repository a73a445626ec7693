"""The plugins page: every loaded plugin with what it registers, and load errors."""

from __future__ import annotations

import httpx
import pytest

from aisle.storage.store import Store

from .studio import studio

pytestmark = pytest.mark.asyncio


async def test_the_built_ins_are_listed_with_what_they_register(
    store: Store, browser: httpx.AsyncClient
) -> None:
    await studio(store, browser, "plugins", role="viewer")
    shown = await browser.get("/dashboard/plugins")
    assert shown.status_code == 200
    html = shown.text
    builtins = html.split('id="plugin-builtins"')[1].split("</article>")[0]
    assert "aisle-journeys" in builtins
    assert "node types" in builtins and "wait" in builtins and "time_delay" in builtins
    assert "Every plugin loaded." in html
    assert 'aria-current="page">Plugins' in html


async def test_signed_out_the_plugins_page_sends_to_sign_in(browser: httpx.AsyncClient) -> None:
    response = await browser.get("/dashboard/plugins")
    assert response.status_code == 303
