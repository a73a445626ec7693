"""Messages: what the email and SMS executors captured (not sent) or sent, per organization.

Captured messages are how a machine without SMTP or SMS accounts shows what a journey
would have sent; sent ones let the studio see what went out. Also an index for a
journey's statistics, which count its action runs per step and status.
"""

from __future__ import annotations

__all__ = ["statements"]


def statements(dialect: str) -> list[str]:
    json = "JSONB" if dialect == "postgres" else "TEXT"
    return [
        f"""CREATE TABLE messages (
            id TEXT PRIMARY KEY,
            organization_id TEXT NOT NULL REFERENCES organizations(id),
            channel TEXT NOT NULL,
            status TEXT NOT NULL,
            executor TEXT NOT NULL,
            action_run_id TEXT NOT NULL,
            key TEXT NOT NULL,
            contact_id TEXT,
            enrollment_id TEXT,
            journey_id TEXT,
            step_id TEXT,
            recipients {json} NOT NULL,
            sender TEXT,
            subject TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL DEFAULT '',
            html TEXT NOT NULL DEFAULT '',
            detail {json} NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            UNIQUE (organization_id, action_run_id, key)
        )""",
        "CREATE INDEX ix_messages_contact ON messages (organization_id, contact_id, id)",
        "CREATE INDEX ix_messages_journey ON messages (organization_id, journey_id, id)",
        "CREATE INDEX ix_action_runs_journey_step ON action_runs "
        "(organization_id, journey_id, step_id, status)",
    ]
