"""Standard Webhooks signatures: ``v1,<base64 HMAC-SHA256 of id.timestamp.body>``.

Secrets are ``whsec_`` followed by base64 key bytes (the prefix is optional on input).
Signing with several secrets yields several space-separated signatures, so a receiver
holding either the old or the new secret verifies while a secret is rotated.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence

__all__ = ["SECRET_PREFIX", "decode_secret", "new_secret", "sign"]

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)


def decode_secret(secret: str) -> bytes:
    """The key bytes of a ``whsec_…`` secret. :raises ValueError: not base64."""
    encoded = secret.strip().removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not a whsec_ secret (base64 after the prefix)") from None
    if len(key) < 16:
        raise ValueError("is too short: use at least 16 random bytes (24 recommended)")
    return key


def new_secret() -> str:
    """A fresh random secret in the ``whsec_`` format (24 bytes, as the spec suggests)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(secrets_: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value: one ``v1,…`` entry per secret."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    signatures = []
    for secret in secrets_:
        digest = hmac.new(decode_secret(secret), content, hashlib.sha256).digest()
        signatures.append("v1," + base64.b64encode(digest).decode())
    return " ".join(signatures)
