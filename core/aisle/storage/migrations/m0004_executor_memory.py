"""Executor memory: small JSON values an executor keeps per organization across runs."""

from __future__ import annotations

__all__ = ["statements"]


def statements(dialect: str) -> list[str]:
    json = "JSONB" if dialect == "postgres" else "TEXT"
    return [
        f"""CREATE TABLE executor_memory (
            organization_id TEXT NOT NULL REFERENCES organizations(id),
            executor TEXT NOT NULL,
            key TEXT NOT NULL,
            value {json} NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (organization_id, executor, key)
        )""",
    ]
