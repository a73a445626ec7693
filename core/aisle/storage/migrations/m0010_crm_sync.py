"""CRM sync: runs as jobs with progress, links to remote records, held changes.

``sync_runs`` gains what a run needs while it runs (phase, records seen and the total
the remote announced, a heartbeat, the worker holding it, a cancel request, where to
resume) so a crashed worker's run is found and resumed or failed. ``crm_links`` ties a
remote record to the contact it was written to, with a hash of what was written, so an
unchanged record costs no write. ``crm_held_changes`` keeps the changes the engine
would not apply on its own (protected fields, dates that move pending steps).
"""

from __future__ import annotations

__all__ = ["statements"]


def statements(dialect: str) -> list[str]:
    json = "JSONB" if dialect == "postgres" else "TEXT"
    ts = "TIMESTAMPTZ"
    org = "organization_id TEXT NOT NULL REFERENCES organizations(id)"
    return [
        "ALTER TABLE sync_runs ADD COLUMN phase TEXT NOT NULL DEFAULT 'queued'",
        "ALTER TABLE sync_runs ADD COLUMN seen INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE sync_runs ADD COLUMN total INTEGER",
        "ALTER TABLE sync_runs ADD COLUMN rate DOUBLE PRECISION",
        f"ALTER TABLE sync_runs ADD COLUMN heartbeat_at {ts}",
        "ALTER TABLE sync_runs ADD COLUMN worker TEXT",
        "ALTER TABLE sync_runs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE sync_runs ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT FALSE",
        f"ALTER TABLE sync_runs ADD COLUMN resume {json}",
        f"ALTER TABLE sync_runs ADD COLUMN dispatched_at {ts}",
        "CREATE INDEX ix_sync_runs_status ON sync_runs (status, heartbeat_at)",
        f"""CREATE TABLE crm_links (
            {org},
            connection_id TEXT NOT NULL REFERENCES crm_connections(id),
            kind TEXT NOT NULL,
            external_id TEXT NOT NULL,
            contact_id TEXT REFERENCES contacts(id),
            content_hash TEXT NOT NULL,
            synced_at {ts} NOT NULL,
            PRIMARY KEY (connection_id, kind, external_id)
        )""",
        "CREATE INDEX ix_crm_links_contact ON crm_links (organization_id, contact_id)",
        f"""CREATE TABLE crm_held_changes (
            id TEXT PRIMARY KEY,
            {org},
            connection_id TEXT NOT NULL REFERENCES crm_connections(id),
            run_id TEXT,
            contact_id TEXT NOT NULL REFERENCES contacts(id),
            field TEXT NOT NULL,
            old_value {json},
            new_value {json},
            reason TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            created_at {ts} NOT NULL,
            decided_at {ts},
            decided_by TEXT
        )""",
        "CREATE INDEX ix_crm_held_changes_status ON crm_held_changes (organization_id, status, id)",
        "CREATE INDEX ix_crm_held_changes_contact ON crm_held_changes "
        "(organization_id, contact_id, field, status)",
    ]
