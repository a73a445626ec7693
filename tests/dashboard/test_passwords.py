"""Password sign-in: argon2id hashes, a session for the right password, the same refusal
for a wrong password and an unknown email, throttling per account, a choice of studio
when one email and password open several, and who may set whose password."""

from __future__ import annotations

import httpx
import pytest

from aisle.api import create_app
from aisle.api.config import ApiConfig
from aisle.contracts.registry import Registry
from aisle.domain.user import Role
from aisle.services.errors import Refused
from aisle.services.passwords import Passwords, verify_password
from aisle.services.roles import Operator
from aisle.settings import Settings
from aisle.storage.store import OrgScope, Store

from .forms import BASE_URL, csrf_from

pytestmark = pytest.mark.asyncio

PASSWORD = "correct horse battery staple"


async def _user_with_password(
    store: Store, slug: str, email: str, role: Role = "editor", password: str = PASSWORD
) -> tuple[OrgScope, str]:
    org = await store.organizations.create(slug=slug, name=f"{slug.title()} Studio")
    scope = store.for_org(org)
    user = await scope.users.create(email=email, role=role)
    await Passwords(store, scope, Operator(actor="test")).set_password(user.id, password)
    return scope, user.id


async def _sign_in(
    browser: httpx.AsyncClient, email: str, password: str, **extra: str
) -> httpx.Response:
    form = await browser.get("/dashboard/login")
    return await browser.post(
        "/dashboard/login",
        data={"email": email, "password": password, "_csrf_token": csrf_from(form.text), **extra},
    )


async def test_the_hash_is_argon2id_and_never_the_password(store: Store) -> None:
    scope, _ = await _user_with_password(store, "hashing", "ana@hashing.example")
    found = await scope.users.password_hash("ana@hashing.example")
    assert found is not None
    stored = found[1]
    assert stored is not None and stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert await verify_password(stored, PASSWORD)
    assert not await verify_password(stored, PASSWORD + "!")
    assert not await verify_password(None, PASSWORD)
    assert not await verify_password("not a hash", PASSWORD)
    log = await scope.log.list(limit=10)
    set_lines = [line for line in log if line.kind == "user.password_set"]
    assert set_lines and all(PASSWORD not in line.message for line in set_lines)


async def test_the_right_password_signs_in_and_a_wrong_one_or_unknown_email_does_not(
    store: Store, browser: httpx.AsyncClient
) -> None:
    await _user_with_password(store, "signin", "bo@signin.example")
    for email, password in [
        ("bo@signin.example", "wrong password here"),
        ("nobody@signin.example", PASSWORD),
    ]:
        refused = await _sign_in(browser, email, password)
        assert refused.status_code == 401
        assert "do not match an account" in refused.text
        assert "aisle_session" not in refused.headers.get("set-cookie", "")
        assert password not in refused.text  # never echoed
    signed = await _sign_in(browser, "  BO@signin.example ", PASSWORD)
    assert signed.status_code == 303, signed.text
    overview = await browser.get("/dashboard/")
    assert overview.status_code == 200
    assert "Signin Studio" in overview.text and "editor" in overview.text


async def test_a_new_password_ends_the_users_sessions(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope, user_id = await _user_with_password(store, "rotate", "cy@rotate.example")
    assert (await _sign_in(browser, "cy@rotate.example", PASSWORD)).status_code == 303
    assert (await browser.get("/dashboard/")).status_code == 200
    new = "an entirely new passphrase"
    await Passwords(store, scope, Operator(actor="test")).set_password(user_id, new)
    assert (await browser.get("/dashboard/")).status_code == 303
    assert (await _sign_in(browser, "cy@rotate.example", PASSWORD)).status_code == 401
    assert (await _sign_in(browser, "cy@rotate.example", new)).status_code == 303


async def test_one_email_in_two_studios_chooses_the_studio(
    store: Store, browser: httpx.AsyncClient
) -> None:
    await _user_with_password(store, "first", "di@both.example", role="viewer")
    second, _ = await _user_with_password(store, "second", "di@both.example", role="admin")
    choose = await _sign_in(browser, "di@both.example", PASSWORD)
    assert choose.status_code == 200
    assert "First Studio" in choose.text and "Second Studio" in choose.text
    assert "aisle_session" not in choose.headers.get("set-cookie", "")
    chosen = await _sign_in(browser, "di@both.example", PASSWORD, studio=second.org_id)
    assert chosen.status_code == 303
    overview = await browser.get("/dashboard/")
    assert "Second Studio" in overview.text and "admin" in overview.text


async def test_a_disabled_user_cannot_sign_in(store: Store, browser: httpx.AsyncClient) -> None:
    scope, user_id = await _user_with_password(store, "gone", "ed@gone.example")
    await scope.users.disable(user_id)
    assert (await _sign_in(browser, "ed@gone.example", PASSWORD)).status_code == 401


async def test_password_guesses_are_throttled_per_account_across_addresses(
    store: Store, registry: Registry, settings: Settings
) -> None:
    await _user_with_password(store, "guessed", "fi@guessed.example")
    app = create_app(
        settings,
        registry,
        store=store,
        config=ApiConfig(rate_limit=0, auth_failure_limit=3, auth_failure_window_seconds=60),
    )

    def browser_at(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 50000))
        return httpx.AsyncClient(transport=transport, base_url=BASE_URL)

    for n in range(3):  # each guess from another address
        async with browser_at(f"203.0.113.{n + 1}") as guesser:
            refused = await _sign_in(guesser, "fi@guessed.example", f"guess number {n}!")
            assert refused.status_code == 401
    async with browser_at("198.51.100.9") as owner:
        throttled = await _sign_in(owner, "fi@guessed.example", PASSWORD)
        assert throttled.status_code == 429
        assert int(throttled.headers["retry-after"]) > 0
        assert "Try again in" in throttled.text
        # Another account from that address is not held back.
        await _user_with_password(store, "other", "gu@other.example")
        assert (await _sign_in(owner, "gu@other.example", PASSWORD)).status_code == 303


async def test_who_may_set_whose_password(store: Store) -> None:
    org = await store.organizations.create(slug="roles", name="Roles Studio")
    scope = store.for_org(org)
    viewer = await scope.users.create(email="v@roles.example", role="viewer")
    admin = await scope.users.create(email="a@roles.example", role="admin")
    owner = await scope.users.create(email="o@roles.example", role="owner")

    def as_(user_role: Role, user_id: str) -> Passwords:
        return Passwords(
            store, scope, Operator(actor=f"user:{user_id}", role=user_role, user_id=user_id)
        )

    await as_("viewer", viewer.id).set_password(viewer.id, "my own new password")
    with pytest.raises(Refused) as refused:
        await as_("viewer", viewer.id).set_password(admin.id, "not mine to change")
    assert refused.value.status == 403
    with pytest.raises(Refused):
        await as_("admin", admin.id).set_password(owner.id, "above my own role")
    await as_("admin", admin.id).set_password(viewer.id, "an admin resets it")
    with pytest.raises(Refused) as short:
        await as_("owner", owner.id).set_password(owner.id, "short")
    assert short.value.status == 422
    assert [e.field for e in short.value.errors] == ["password"]
