"""Rotating the credential key re-encrypts CRM credentials and studio secrets: new
ciphertext, readable with the new key alone, no longer with the old one; a value no
configured key reads is named and left as it is. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from aisle.services.key_rotation import RotationReport, rotate_secrets
from aisle.settings import Settings
from aisle.storage.credentials import CredentialCipher, CredentialError
from aisle.storage.store import Store
from aisle.storage.studio_secrets import StudioSecretSystem

OLD = "b2xkLWtleS1vbGQta2V5LW9sZC1rZXktb2xkLWtleS0="
NEW = "bmV3LWtleS1uZXcta2V5LW5ldy1rZXktbmV3LWtleS0="
LOST = "bG9zdC1rZXktbG9zdC1rZXktbG9zdC1rZXktbG9zdC0="


async def _ciphertexts(store: Store) -> dict[str, str]:
    secrets = {name: c for _, name, c in await StudioSecretSystem(store.db).all_ciphertexts()}
    rows = await store.db.execute("SELECT name, credentials FROM crm_connections")
    return {**secrets, **{f"crm:{r['name']}": r["credentials"] for r in rows}}


async def test_every_secret_is_re_encrypted_under_the_new_key(store: Store) -> None:
    old = CredentialCipher(OLD)
    a = store.for_org(await store.organizations.create(slug="a", name="A"))
    b = store.for_org(await store.organizations.create(slug="b", name="B"))
    await a.secrets.put("webhook_signing_secret", "whsec_a_signing", old)
    await b.secrets.put("source_stripe", "whsec_stripe_b", old)
    await b.secrets.put("webhook_signing_secret", "whsec_lost", CredentialCipher(LOST))
    await a.crm_connections.create(
        provider="tave", name="Tave", credentials=old.encrypt({"api_key": "tave-a"})
    )
    await b.crm_connections.create(
        provider="honeybook", name="HB", credentials=old.encrypt({"webhook_secret": "hb-b"})
    )
    before = await _ciphertexts(store)
    settings = Settings(database_url=store.db.url, secret_key=NEW, previous_secret_keys=(OLD,))

    report = await rotate_secrets(store, settings)

    assert report.crm_credentials == 2 and report.studio_secrets == 2
    assert len(report.unreadable) == 1
    assert report.unreadable[0].startswith("studio secret webhook_signing_secret of ")
    after = await _ciphertexts(store)
    new = CredentialCipher(NEW)
    for name in ("source_stripe", "crm:Tave", "crm:HB"):
        assert after[name] != before[name]
        with pytest.raises(CredentialError):
            old.decrypt(after[name])
    assert await a.secrets.reveal("webhook_signing_secret", new) == "whsec_a_signing"
    assert await b.secrets.reveal("source_stripe", new) == "whsec_stripe_b"
    assert new.decrypt(after["crm:Tave"]) == {"api_key": "tave-a"}
    assert new.decrypt(after["crm:HB"]) == {"webhook_secret": "hb-b"}
    # What no configured key reads is left as it was.
    assert await b.secrets.reveal("webhook_signing_secret", CredentialCipher(LOST)) == "whsec_lost"
    # Nothing left under the old key: rotating again rewrites everything readable anew.
    again = await rotate_secrets(store, Settings(database_url=store.db.url, secret_key=NEW))
    assert again == RotationReport(
        crm_credentials=2, studio_secrets=2, unreadable=report.unreadable
    )
