"""Studio secrets: values a studio sets (its webhook signing secret), stored encrypted.

The rows hold ciphertext only, encrypted with
:class:`~aisle.storage.credentials.CredentialCipher` (the operator's credential key,
rotated like CRM credentials). ``fingerprint`` is a short hash a studio may see to
tell which secret is set, never the secret; it is mirrored into the studio's settings
as ``<name>_fingerprint`` so that what executors and publish-time checks see of the
studio says whether the secret is set, without the secret.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from piccolo.columns import Text, Timestamptz
from piccolo.table import Table

from aisle.domain.organization import secret_fingerprint
from aisle.storage.credentials import CredentialCipher
from aisle.storage.database import Database, register_tables
from aisle.storage.rows import dump, from_row, load
from aisle.storage.scoped import Scoped
from aisle.storage.tables import OrganizationTable

__all__ = ["StudioSecret", "StudioSecretRepository", "StudioSecretSystem", "StudioSecretTable"]


class StudioSecretTable(Table, tablename="studio_secrets"):
    # The real key is (organization_id, name); piccolo needs one column marked.
    organization_id = Text()
    name = Text(primary_key=True)
    ciphertext = Text()
    fingerprint = Text()
    updated_at = Timestamptz()


register_tables(StudioSecretTable)

T = StudioSecretTable


class StudioSecret(msgspec.Struct, frozen=True, kw_only=True):
    """That a secret is set, and which one (by fingerprint): never its value."""

    name: str
    fingerprint: str
    updated_at: datetime | None = None


class StudioSecretRepository(Scoped):
    table = T
    kind = "studio secret"

    async def ciphertext(self, name: str) -> str | None:
        row = await self._first(T.name == name)
        return str(row["ciphertext"]) if row else None

    async def describe(self, name: str) -> StudioSecret | None:
        row = await self._select(T.name == name).first()
        if row is None:
            return None
        return from_row(StudioSecret, T, row)

    async def put(self, name: str, value: str | None, cipher: CredentialCipher | None) -> None:
        """Encrypt and store secret ``name``; ``None`` removes it (no cipher needed).
        One transaction with the fingerprint mirrored into the organization's settings."""
        if value is not None and cipher is None:
            raise ValueError(f"storing the secret {name!r} needs a cipher")
        Org = OrganizationTable
        fingerprint = secret_fingerprint(value) if value is not None else None
        async with self.db.transaction():
            await self._delete(T.name == name)
            if value is not None and cipher is not None:
                await self._insert(
                    name=name,
                    ciphertext=cipher.encrypt(value),
                    fingerprint=fingerprint,
                    updated_at=self.clock.now(),
                )
            row = await Org.select(Org.settings).where(Org.id == self.org_id).first()
            settings = dict(load(row["settings"]) or {}) if row else {}
            settings.pop(f"{name}_fingerprint", None)
            if fingerprint is not None:
                settings[f"{name}_fingerprint"] = fingerprint
            await Org.update({Org.settings: dump(settings)}).where(Org.id == self.org_id)

    async def reveal(self, name: str, cipher: CredentialCipher) -> str | None:
        """The decrypted secret (for the executor that uses it), or ``None`` if unset.

        :raises CredentialError: the credential key cannot decrypt it.
        """
        ciphertext = await self.ciphertext(name)
        return None if ciphertext is None else str(cipher.decrypt(ciphertext))


class StudioSecretSystem:
    """Every organization's secrets, for re-encrypting them under a new key."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def all_ciphertexts(self) -> list[tuple[str, str, str]]:
        """``(organization id, name, ciphertext)`` of every stored secret."""
        rows = await T.select(T.organization_id, T.name, T.ciphertext).order_by(T.organization_id)
        return [(r["organization_id"], r["name"], r["ciphertext"]) for r in rows]

    async def replace_ciphertext(self, org_id: str, name: str, old: str, new: str) -> bool:
        """Swap a secret's ciphertext if it is still ``old`` (a concurrent change wins)."""
        rows = await (
            T.update({T.ciphertext: new})
            .where((T.organization_id == org_id) & (T.name == name) & (T.ciphertext == old))
            .returning(T.name)
        )
        return bool(rows)
