"""The studio-settings and disabled-webhook-endpoint services without HTTP: the role each
needs, refusals that store nothing, and one logged transaction for each change."""

from __future__ import annotations

import msgspec
import pytest

from aisle.contracts.registry import Registry
from aisle.runtime import Runtime
from aisle.services.errors import Refused
from aisle.services.roles import Operator
from aisle.services.studio_settings import SettingsPatch, StudioSettings
from aisle.services.webhook_endpoints import (
    DISABLED_PREFIX,
    WEBHOOK_EXECUTOR,
    WebhookEndpoints,
    endpoint_id,
)
from aisle.settings import Settings
from aisle.storage.errors import NotFound
from aisle.storage.store import Store

OWNER = Operator(actor="operator:cli")
ADMIN = Operator(actor="user:a", role="admin", user_id="a")


def _patch(**fields: object) -> SettingsPatch:
    return msgspec.convert(fields, SettingsPatch)


async def test_settings_change_as_one_logged_write_and_the_runtime_sees_it(
    store: Store, registry: Registry, settings: Settings
) -> None:
    org = await store.organizations.create(slug="s", name="S")
    runtime = Runtime(store, registry, settings)
    assert (await runtime.organization(org.id)).timezone == "UTC"
    scope = store.for_org(org)
    studio = StudioSettings(runtime, scope, OWNER, settings=settings)
    changed = await studio.change(
        _patch(
            timezone="Europe/London",
            send_window={"start": "09:00", "end": "17:00"},
            country="GB",
            webhook_secret="whsec_" + "QUJDREVGR0hJSktMTU5PUA==",
        )
    )
    assert changed.timezone == "Europe/London"
    assert changed.settings["country"] == "GB"
    assert "timezone" not in changed.settings["send_window"]
    assert (await scope.secrets.describe("webhook_secret")) is not None
    # The runtime's cached organization was dropped, so the next event sees London.
    assert (await runtime.organization(org.id)).timezone == "Europe/London"
    [entry] = await scope.log.list(kind="settings.changed")
    assert entry.data == {"fields": ["timezone", "send_window", "country", "webhook_secret"]}


async def test_settings_refusals_name_each_field_and_store_nothing(
    store: Store, registry: Registry, settings: Settings
) -> None:
    org = await store.organizations.create(slug="s", name="S")
    runtime = Runtime(store, registry, settings)
    scope = store.for_org(org)
    with pytest.raises(Refused, match="changing studio settings needs the 'owner' role"):
        await StudioSettings(runtime, scope, ADMIN, settings=settings).change(_patch(name="X"))
    studio = StudioSettings(runtime, scope, OWNER, settings=settings)
    with pytest.raises(Refused) as refused:
        await studio.change(
            _patch(
                name="Renamed",
                timezone="Mars/Olympus",
                email_templates={"hi": {"subject": "{{ oops"}},
                default_sender="nobody",
            )
        )
    assert (refused.value.status, refused.value.slug) == (422, "validation")
    assert [e.field for e in refused.value.errors] == [
        "timezone",
        "email_templates.hi.subject",
        "default_sender",
    ]
    keyless = Settings(data_dir=settings.data_dir, database_url=settings.database_url)
    with pytest.raises(Refused, match="webhook_secret cannot be stored") as no_key:
        await StudioSettings(runtime, scope, OWNER, settings=keyless).change(
            _patch(name="Renamed", webhook_secret=None)
        )
    assert no_key.value.status == 503
    assert (await store.organizations.get(org.id)).name == "S"
    assert await scope.log.list() == []


async def test_a_disabled_endpoint_is_listed_and_re_enabled_by_an_admin_only(
    store: Store,
) -> None:
    org = await store.organizations.create(slug="s", name="S")
    scope = store.for_org(org)
    url = "https://hooks.example/gone"
    await scope.executor_memory.remember(
        WEBHOOK_EXECUTOR, DISABLED_PREFIX + url, {"status": 410, "run_id": "r1", "at": "now"}
    )
    editor = WebhookEndpoints(store, scope, Operator(actor="user:e", role="editor"))
    with pytest.raises(Refused, match="listing disabled webhook endpoints needs the 'admin'"):
        await editor.disabled()
    admin = WebhookEndpoints(store, scope, ADMIN)
    [found] = await admin.disabled()
    assert (found.id, found.url, found.status, found.run_id) == (
        endpoint_id(DISABLED_PREFIX + url),
        url,
        410,
        "r1",
    )
    with pytest.raises(Refused, match="re-enabling a webhook endpoint needs the 'admin'"):
        await editor.enable(found.id)
    with pytest.raises(NotFound):
        await admin.enable("whe_unknown")
    assert (await admin.enable(found.id)).url == url
    assert await admin.disabled() == []
    [entry] = await scope.log.list(kind="webhook.endpoint_enabled")
    assert (entry.actor, entry.data["run_id"]) == ("user:a", "r1")
