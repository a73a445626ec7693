"""Snapshots: what a big change (publish, rollback, enrollment migration, a large CRM
sync, an import) is about to overwrite, kept so an admin can put it back."""

from __future__ import annotations

__all__ = ["statements"]


def statements(dialect: str) -> list[str]:
    json = "JSONB" if dialect == "postgres" else "TEXT"
    return [
        f"""CREATE TABLE snapshots (
            id TEXT PRIMARY KEY,
            organization_id TEXT NOT NULL REFERENCES organizations(id),
            kind TEXT NOT NULL,
            journey_id TEXT,
            reason TEXT NOT NULL,
            actor TEXT NOT NULL,
            data {json} NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            restored_at TIMESTAMPTZ,
            restored_by TEXT
        )""",
        "CREATE INDEX ix_snapshots_org ON snapshots (organization_id, id)",
    ]
