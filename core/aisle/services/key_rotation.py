"""Key rotation: everything encrypted with the operator's credential key re-encrypted
with the current ``AISLE_SECRET_KEY``.

The operator moves the old key to ``AISLE_PREVIOUS_SECRET_KEYS``, sets the new one and
runs this once: CRM connections' credentials and studio secrets (webhook signing
secrets, event sources' secrets such as Stripe's) are rewritten under the new key, so
the old one can then be dropped. Each value is swapped only if unchanged since it was
read, so a concurrent edit (already under the new key) is kept. A value no configured
key decrypts is left as it is and named in the report, never fatal to the others.
"""

from __future__ import annotations

import msgspec
from cryptography.fernet import InvalidToken

from aisle.contracts.log import LogKind
from aisle.settings import Settings
from aisle.storage.credentials import CredentialCipher
from aisle.storage.crm import CRMSystem
from aisle.storage.store import Store
from aisle.storage.studio_secrets import StudioSecretSystem

__all__ = ["RotationReport", "rotate_crm_credentials", "rotate_secrets"]


class RotationReport(msgspec.Struct, frozen=True, kw_only=True):
    """How many values of each kind were re-encrypted, and what no key could read."""

    crm_credentials: int
    studio_secrets: int
    unreadable: tuple[str, ...] = ()
    """``crm connection <id>`` / ``studio secret <name> of <organization id>``: left
    under a key that is not configured (add it to ``AISLE_PREVIOUS_SECRET_KEYS`` and
    rotate again)."""


async def rotate_secrets(store: Store, settings: Settings) -> RotationReport:
    """Re-encrypt CRM credentials and studio secrets with ``settings``' current key.

    :raises CredentialError: no ``AISLE_SECRET_KEY`` is configured.
    """
    cipher = CredentialCipher.from_settings(settings)
    crm, unreadable_crm = await rotate_crm_credentials(store, cipher)
    secrets, unreadable_secrets = await _rotate_studio_secrets(store, cipher)
    return RotationReport(
        crm_credentials=crm,
        studio_secrets=secrets,
        unreadable=(
            *(f"crm connection {c}" for c in unreadable_crm),
            *unreadable_secrets,
        ),
    )


async def rotate_crm_credentials(store: Store, cipher: CredentialCipher) -> tuple[int, list[str]]:
    """Re-encrypt every connection's credentials with ``cipher``'s current key: how many
    were, and the ids of connections no key of ``cipher`` decrypts (left as they are).

    Each is swapped only if unchanged since it was read, so a concurrent edit is kept.
    """
    system = CRMSystem(store.db, store.clock)
    rotated = 0
    unreadable: list[str] = []
    for org_id, connection_id, token in await system.all_credentials():
        if not token:
            continue
        try:
            fresh = cipher.rotate(token)
        except InvalidToken:
            unreadable.append(connection_id)
            continue
        if await system.replace_credentials(connection_id, token, fresh):
            rotated += 1
            await store.for_org(org_id).log.append(
                LogKind.CRM_CREDENTIALS_ROTATED,
                message="CRM connection credentials re-encrypted with the current key",
                data={"connection_id": connection_id},
            )
    return rotated, unreadable


async def _rotate_studio_secrets(store: Store, cipher: CredentialCipher) -> tuple[int, list[str]]:
    system = StudioSecretSystem(store.db)
    rotated = 0
    unreadable: list[str] = []
    for org_id, name, token in await system.all_ciphertexts():
        try:
            fresh = cipher.rotate(token)
        except InvalidToken:
            unreadable.append(f"studio secret {name} of {org_id}")
            continue
        if await system.replace_ciphertext(org_id, name, token, fresh):
            rotated += 1
    return rotated, unreadable
