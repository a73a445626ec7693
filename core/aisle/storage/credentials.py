"""Encrypting CRM credentials at rest with the operator's key, with key rotation.

``AISLE_SECRET_KEY`` encrypts; ``AISLE_PREVIOUS_SECRET_KEYS`` still decrypt, so an
operator rotates by moving the old key there, then re-encrypting (:meth:`rotate`).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import msgspec
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from aisle.settings import Settings

__all__ = ["CredentialCipher", "CredentialError"]


class CredentialError(ValueError):
    """Credentials could not be decrypted (wrong or rotated-out key, or tampered)."""


def _fernet(secret: str) -> Fernet:
    # Any operator string works as a key: derive the 32 bytes Fernet needs from it.
    digest = hashlib.sha256(b"aisle-credentials:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


class CredentialCipher:
    def __init__(self, secret_key: str, previous: tuple[str, ...] = ()) -> None:
        if not secret_key:
            raise CredentialError("no AISLE_SECRET_KEY configured: cannot encrypt credentials")
        self._fernet = MultiFernet([_fernet(secret_key), *(_fernet(k) for k in previous)])

    @classmethod
    def from_settings(cls, settings: Settings) -> CredentialCipher:
        return cls(settings.secret_key, settings.previous_secret_keys)

    def encrypt(self, credentials: Any) -> str:
        """Encrypt a JSON-able value (a dict, a msgspec struct)."""
        return self._fernet.encrypt(msgspec.json.encode(credentials)).decode()

    def decrypt(self, token: str) -> Any:
        if not token:
            return {}
        try:
            return msgspec.json.decode(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise CredentialError(
                "stored credentials cannot be decrypted with AISLE_SECRET_KEY or "
                "AISLE_PREVIOUS_SECRET_KEYS"
            ) from None

    def rotate(self, token: str) -> str:
        """Re-encrypt with the current key."""
        return self._fernet.rotate(token.encode()).decode()
