"""Collaboration: node and edge locks with their per-target fencing counters.

Presence sessions live in ``presence_sessions`` (m0001). Locks get tables of their own
here because they cover edges as well as nodes and keep a fencing counter per target
that outlives every lock row (so a token never repeats, even after a sweep).
"""

from __future__ import annotations

__all__ = ["statements"]


def statements(dialect: str) -> list[str]:
    ts = "TIMESTAMPTZ"
    org = "organization_id TEXT NOT NULL REFERENCES organizations(id)"
    return [
        # One row per lockable target ever locked: the last fencing token granted on
        # it. Grants lock this row (FOR UPDATE on PostgreSQL), so it is also what
        # serializes concurrent grants on one target.
        f"""CREATE TABLE collab_fences (
            {org},
            journey_id TEXT NOT NULL REFERENCES journeys(id),
            target_kind TEXT NOT NULL,
            target_id TEXT NOT NULL,
            last_token BIGINT NOT NULL DEFAULT 0,
            PRIMARY KEY (journey_id, target_kind, target_id)
        )""",
        # Live (and not yet swept) leases. An edit lease is exclusive: the partial
        # unique index below makes a second edit row for a target impossible even if
        # the grant logic were wrong. View leases are shared, one per holder.
        f"""CREATE TABLE collab_locks (
            id TEXT PRIMARY KEY,
            {org},
            journey_id TEXT NOT NULL REFERENCES journeys(id),
            target_kind TEXT NOT NULL,
            target_id TEXT NOT NULL,
            mode TEXT NOT NULL,
            holder TEXT NOT NULL,
            holder_name TEXT NOT NULL DEFAULT '',
            session_id TEXT,
            fencing_token BIGINT NOT NULL DEFAULT 0,
            acquired_at {ts} NOT NULL,
            renewed_at {ts} NOT NULL,
            expires_at {ts} NOT NULL,
            UNIQUE (journey_id, target_kind, target_id, mode, holder),
            CHECK (target_kind IN ('node', 'edge')),
            CHECK (mode IN ('edit', 'view'))
        )""",
        "CREATE UNIQUE INDEX ux_collab_locks_one_editor ON collab_locks "
        "(journey_id, target_kind, target_id) WHERE mode = 'edit'",
        "CREATE INDEX ix_collab_locks_expiry ON collab_locks (expires_at)",
        "CREATE INDEX ix_collab_locks_journey ON collab_locks (organization_id, journey_id)",
        # Presence: colour lookups and the timeout sweep scan by journey and by age.
        "CREATE INDEX ix_presence_last_seen ON presence_sessions (last_seen_at)",
    ]
