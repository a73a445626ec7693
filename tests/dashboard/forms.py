"""Helpers that post the dashboard's forms as a browser would (no JavaScript): read the
form's CSRF token, sign in."""

from __future__ import annotations

import re

import httpx

BASE_URL = "http://testserver"
_CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token a rendered form carries."""
    match = _CSRF_INPUT.search(html)
    assert match, "the page has no CSRF token in its form"
    return match.group(1)


async def sign_in(browser: httpx.AsyncClient, token: str) -> httpx.Response:
    form = await browser.get("/dashboard/login")
    return await browser.post(
        "/dashboard/login", data={"token": token, "_csrf_token": csrf_from(form.text)}
    )
