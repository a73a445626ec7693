"""The dashboard's session cookie: a signed, expiring value naming the signed-in API token.

The cookie carries only the token's id and organization, never the token itself, and
is signed with HMAC-SHA256 under a key derived from the operator's ``AISLE_SECRET_KEY``;
each request re-checks that the token is still usable, so revoking it signs out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["COOKIE_NAME", "SESSION_LIFETIME", "Session", "SessionSigner", "derive_key"]

COOKIE_NAME = "aisle_session"
SESSION_LIFETIME = timedelta(hours=12)


def derive_key(secret_key: str, purpose: str) -> bytes:
    """A key for one purpose, so the session and CSRF keys differ from the credential key."""
    if not secret_key:
        raise ValueError("the dashboard needs AISLE_SECRET_KEY (settings.secret_key) to sign in")
    return hmac.new(secret_key.encode(), f"aisle-dashboard:{purpose}".encode(), "sha256").digest()


@dataclass(frozen=True)
class Session:
    """Who is signed in: the API token's id and its organization, until ``expires_at``."""

    token_id: str
    organization_id: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    """Turns a :class:`Session` into a cookie value and back, refusing tampered ones."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def dumps(self, session: Session) -> str:
        body = {
            "t": session.token_id,
            "o": session.organization_id,
            "e": int(session.expires_at.timestamp()),
        }
        payload = _b64(json.dumps(body, separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}"

    def loads(self, value: str, now: datetime) -> Session | None:
        """The session in ``value``, or ``None`` when it is forged, malformed or expired."""
        payload, _, signature = value.partition(".")
        if not signature or not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            body = json.loads(_unb64(payload))
            expires_at = datetime.fromtimestamp(int(body["e"]), tz=now.tzinfo)
            session = Session(str(body["t"]), str(body["o"]), expires_at)
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires_at > now else None
