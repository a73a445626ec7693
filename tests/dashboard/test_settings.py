"""The settings page: studio settings changed by owners (fields named when wrong), users
and roles and API tokens managed by admins (a new token shown once), disabled webhook
endpoints re-enabled; viewers see the studio's settings and no control."""

from __future__ import annotations

import re

import httpx
import pytest

from aisle.services.webhook_endpoints import DISABLED_PREFIX, WEBHOOK_EXECUTOR
from aisle.storage.store import Store

from .forms import csrf_from
from .studio import post_form, studio

pytestmark = pytest.mark.asyncio

PAGE = "/dashboard/settings"


async def test_an_owner_changes_timezone_country_and_send_window(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope = await studio(store, browser, "owner", role="owner")
    done = await post_form(
        browser,
        PAGE,
        f"{PAGE}/studio",
        {
            "timezone": "America/New_York",
            "country": "us",
            "window": "1",
            "start": "09:00",
            "end": "17:30",
            "days": "mon",
        },
    )
    assert done.status_code == 303, done.text
    org = await store.organizations.get(scope.org_id)
    assert org.timezone == "America/New_York"
    assert org.settings["country"] == "US"
    assert org.settings["send_window"] == {"start": "09:00", "end": "17:30", "days": ["mon"]}


async def test_a_wrong_value_is_refused_naming_its_field_and_nothing_changes(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope = await studio(store, browser, "wrong", role="owner")
    refused = await post_form(
        browser,
        PAGE,
        f"{PAGE}/studio",
        {
            "timezone": "Mars/Olympus",
            "window": "1",
            "start": "25:00",
            "end": "17:00",
            "days": "mon",
        },
    )
    assert refused.status_code == 422
    assert 'role="alert"' in refused.text
    assert "send_window.start" in refused.text
    refused = await post_form(browser, PAGE, f"{PAGE}/studio", {"timezone": "Mars/Olympus"})
    assert refused.status_code == 422
    assert "timezone: &#39;Mars/Olympus&#39; is not an IANA timezone" in refused.text
    assert (await store.organizations.get(scope.org_id)).timezone != "Mars/Olympus"


async def test_an_admin_creates_a_token_shown_once_and_revokes_it(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope = await studio(store, browser, "tokens")
    created = await post_form(browser, PAGE, f"{PAGE}/tokens", {"name": "Zapier", "role": "editor"})
    assert created.status_code == 201
    plain = re.search(r'id="new-token".*?<code>([^<]+)</code>', created.text, re.S)
    assert plain
    token = next(t for t in await scope.tokens.list() if t.name == "Zapier")
    assert token.role == "editor"
    assert await store.system.authenticate(plain.group(1)) is not None
    again = await browser.get(PAGE)
    assert plain.group(1) not in again.text
    assert "Zapier" in again.text

    revoked = await browser.post(
        f"{PAGE}/tokens/{token.id}/revoke", data={"_csrf_token": csrf_from(again.text)}
    )
    assert revoked.status_code == 303
    assert await store.system.authenticate(plain.group(1)) is None
    assert "Zapier" not in (await browser.get(PAGE)).text


async def test_an_admin_cannot_make_an_owner_token_and_is_told_why(
    store: Store, browser: httpx.AsyncClient
) -> None:
    await studio(store, browser, "noowner")
    refused = await post_form(browser, PAGE, f"{PAGE}/tokens", {"name": "x", "role": "owner"})
    assert refused.status_code == 403
    assert "cannot grant the &#39;owner&#39; role" in refused.text


async def test_an_admin_adds_a_user_changes_their_role_and_disables_them(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope = await studio(store, browser, "users")
    added = await post_form(
        browser,
        PAGE,
        f"{PAGE}/users",
        {"email": "june@example.com", "name": "June", "role": "viewer"},
    )
    assert added.status_code == 303
    (june,) = [u for u in await scope.users.list() if u.email == "june@example.com"]
    assert june.role == "viewer"
    changed = await post_form(browser, PAGE, f"{PAGE}/users/{june.id}/role", {"role": "editor"})
    assert changed.status_code == 303
    assert (await scope.users.get(june.id)).role == "editor"
    off = await post_form(browser, PAGE, f"{PAGE}/users/{june.id}/disable")
    assert off.status_code == 303
    assert (await scope.users.get(june.id)).disabled_at is not None


async def test_an_admin_re_enables_a_webhook_endpoint_that_answered_410(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope = await studio(store, browser, "hooks")
    url = "https://hooks.example.com/gone"
    await scope.executor_memory.remember(
        WEBHOOK_EXECUTOR, DISABLED_PREFIX + url, {"at": "2026-01-05T09:00:00Z", "status": 410}
    )
    shown = await browser.get(PAGE)
    assert url in shown.text
    action = re.search(r'action="(/dashboard/settings/webhooks/[^"]+/enable)"', shown.text)
    assert action
    done = await browser.post(action.group(1), data={"_csrf_token": csrf_from(shown.text)})
    assert done.status_code == 303
    assert await scope.executor_memory.entries(WEBHOOK_EXECUTOR, DISABLED_PREFIX) == []
    assert "No webhook endpoint is disabled." in (await browser.get(PAGE)).text


async def test_a_viewer_sees_the_studio_settings_without_a_control_and_is_refused(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope = await studio(store, browser, "viewer", role="viewer")
    _, secret_token = await scope.tokens.create(name="Secret desk", role="admin")
    shown = await browser.get(PAGE)
    assert shown.status_code == 200
    assert "Timezone" in shown.text
    assert "<form" not in shown.text.split("<main", 1)[1]
    assert "Secret desk" not in shown.text
    for action, data in [
        (f"{PAGE}/studio", {"timezone": "UTC"}),
        (f"{PAGE}/tokens", {"name": "mine", "role": "viewer"}),
        (f"{PAGE}/users", {"email": "x@example.com", "role": "viewer"}),
    ]:
        refused = await browser.post(action, data={**data, "_csrf_token": csrf_from(shown.text)})
        assert refused.status_code == 403, action
    assert {t.name for t in await scope.tokens.list()} == {"viewer desk", "Secret desk"}
    assert secret_token not in shown.text
