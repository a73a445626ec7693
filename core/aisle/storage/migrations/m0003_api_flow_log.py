"""The HTTP API's tables: the per-journey op log of canvas edits, and collaborators.

``flow_ops`` records every operation a canvas sent (applied or refused as a conflict)
and every whole-flow replacement, with the property changes each made and the draft
revision it produced: replays are found by ``(journey_id, op_id)``, the merge reads
the changes since an op's base revision, and reconnecting clients fetch what they
missed. ``journey_collaborators`` gives a user a role on one journey beyond their
organization role.
"""

from __future__ import annotations

__all__ = ["statements"]


def statements(dialect: str) -> list[str]:
    json = "JSONB" if dialect == "postgres" else "TEXT"
    ts = "TIMESTAMPTZ"
    org = "organization_id TEXT NOT NULL REFERENCES organizations(id)"
    return [
        f"""CREATE TABLE flow_ops (
            id TEXT PRIMARY KEY,
            {org},
            journey_id TEXT NOT NULL REFERENCES journeys(id),
            op_id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            status TEXT NOT NULL,
            kind TEXT NOT NULL,
            op {json} NOT NULL,
            changes {json} NOT NULL DEFAULT '[]',
            conflict_ids {json} NOT NULL DEFAULT '[]',
            actor TEXT NOT NULL DEFAULT '',
            created_at {ts} NOT NULL,
            UNIQUE (journey_id, op_id),
            CHECK (status IN ('applied', 'rejected'))
        )""",
        "CREATE INDEX ix_flow_ops_revision ON flow_ops (journey_id, revision)",
        f"""CREATE TABLE journey_collaborators (
            {org},
            journey_id TEXT NOT NULL REFERENCES journeys(id),
            user_id TEXT NOT NULL REFERENCES users(id),
            role TEXT NOT NULL,
            created_at {ts} NOT NULL,
            PRIMARY KEY (journey_id, user_id),
            CHECK (role IN ('viewer', 'editor', 'admin', 'owner'))
        )""",
        "CREATE INDEX ix_journey_collaborators_user ON journey_collaborators "
        "(organization_id, user_id)",
    ]
