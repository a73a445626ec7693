"""Helpers for the studio pages' tests: a studio with a signed-in browser of one role."""

from __future__ import annotations

import httpx

from aisle.domain import Contact, Partner
from aisle.domain.user import Role
from aisle.storage.store import OrgScope, Store

from .forms import csrf_from, sign_in

__all__ = ["couple", "post_form", "studio"]


async def studio(
    store: Store, browser: httpx.AsyncClient, slug: str, role: Role = "admin"
) -> OrgScope:
    """A new studio, ``browser`` signed in to it with a token of ``role``."""
    org = await store.organizations.create(slug=slug, name=f"{slug.title()} Studio")
    scope = store.for_org(org)
    _, token = await scope.tokens.create(name=f"{role} desk", role=role)
    signed = await sign_in(browser, token)
    assert signed.status_code == 303, signed.text
    return scope


async def couple(scope: OrgScope, first: str, second: str, email: str) -> Contact:
    return await scope.contacts.create(
        Contact(
            email=email,
            partners=(Partner(first_name=first, last_name="Ng"), Partner(first_name=second)),
        )
    )


async def post_form(
    browser: httpx.AsyncClient, page: str, action: str, data: dict[str, str] | None = None
) -> httpx.Response:
    """Post a form of ``page`` (read first for its CSRF token) to ``action``."""
    shown = await browser.get(page)
    assert shown.status_code == 200, shown.text
    return await browser.post(action, data={**(data or {}), "_csrf_token": csrf_from(shown.text)})
