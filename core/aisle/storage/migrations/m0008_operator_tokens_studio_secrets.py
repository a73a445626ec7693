"""Operator tokens (the SaaS operator's credentials) and studio secrets (encrypted)."""

from __future__ import annotations

__all__ = ["statements"]


def statements(dialect: str) -> list[str]:
    return [
        """CREATE TABLE operator_tokens (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            prefix TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            created_at TIMESTAMPTZ NOT NULL,
            last_used_at TIMESTAMPTZ,
            revoked_at TIMESTAMPTZ
        )""",
        """CREATE TABLE studio_secrets (
            organization_id TEXT NOT NULL REFERENCES organizations(id),
            name TEXT NOT NULL,
            ciphertext TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (organization_id, name)
        )""",
    ]
