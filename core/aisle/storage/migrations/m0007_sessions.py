"""Sign-in sessions kept server-side, so signing out, a role change or a removed user
ends them at once (a copied cookie stops working with them).

A session is bound to an API token (the dashboard's token sign-in), to a user (a
password sign-in), or both; only the SHA-256 of its secret is stored.
"""

from __future__ import annotations

__all__ = ["statements"]


def statements(dialect: str) -> list[str]:
    del dialect  # the same DDL on SQLite and PostgreSQL
    ts = "TIMESTAMPTZ"
    return [
        f"""CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            organization_id TEXT NOT NULL REFERENCES organizations(id),
            user_id TEXT REFERENCES users(id),
            token_id TEXT REFERENCES api_tokens(id),
            secret_hash TEXT NOT NULL UNIQUE,
            created_at {ts} NOT NULL,
            last_seen_at {ts} NOT NULL,
            expires_at {ts} NOT NULL,
            revoked_at {ts},
            CHECK (user_id IS NOT NULL OR token_id IS NOT NULL)
        )""",
        # Ending every session of a user (role change, removal) or of a token.
        "CREATE INDEX ix_sessions_user ON sessions (organization_id, user_id)",
        "CREATE INDEX ix_sessions_token ON sessions (token_id)",
        "CREATE INDEX ix_sessions_expiry ON sessions (expires_at)",
        # Revoking a user's tokens on removal finds them by user.
        "CREATE INDEX ix_api_tokens_user ON api_tokens (organization_id, user_id)",
    ]
