"""Every ``/api/v1`` endpoint with a valid request for it, aimed at one organization's
objects (see :mod:`tests.api.world`). Tests go over this table, and a test fails when
the app has an endpoint the table lacks, so a new endpoint cannot escape them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.api.helpers import small_flow
from tests.api.world import CSV_FILE, World

Body = Callable[[World], Any]


@dataclass(frozen=True)
class Spec:
    body: Body | None = None
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    viewer_may: bool = False
    """A viewer may call it although it is not a GET (a read-only computation)."""
    creates: bool = False
    """No path parameter: creates a row of the caller's own organization."""
    other_org_status: int = 404
    """What another organization's token gets (idempotent no-ops answer 204)."""
    viewer_status: int = 403
    """What a viewer gets for a write (a session that is not theirs: 404)."""
    operator: bool = False
    """An operator route: every studio token gets 403, whatever it asks."""


def _event(w: World) -> dict[str, Any]:
    return {"type": "form.submitted", "idempotency_key": "other-org", "contact_id": w.contact_id}


P = "/api/v1"
ROUTES: dict[tuple[str, str], Spec] = {
    ("GET", f"{P}/journeys"): Spec(),
    ("POST", f"{P}/journeys"): Spec(body=lambda w: {"name": "Another"}, creates=True),
    ("GET", f"{P}/journeys/{{journey_id}}"): Spec(),
    ("PATCH", f"{P}/journeys/{{journey_id}}"): Spec(body=lambda w: {"name": "Renamed"}),
    ("DELETE", f"{P}/journeys/{{journey_id}}"): Spec(),
    ("POST", f"{P}/journeys/import"): Spec(
        body=lambda w: {"format": "aisle.journey/v1", "name": "Imported", "draft": {}},
        creates=True,
    ),
    ("GET", f"{P}/journeys/{{journey_id}}/export"): Spec(),
    ("GET", f"{P}/journeys/{{journey_id}}/flow"): Spec(),
    ("PUT", f"{P}/journeys/{{journey_id}}/flow"): Spec(
        body=lambda w: small_flow(), headers={"If-Match": "*"}
    ),
    ("POST", f"{P}/journeys/{{journey_id}}/flow/ops"): Spec(
        body=lambda w: {
            "base_revision": 0,
            "ops": [
                {"op": "move_node", "id": "x", "node_id": "wait", "position": {"x": 1, "y": 1}}
            ],
        }
    ),
    ("GET", f"{P}/journeys/{{journey_id}}/flow/ops"): Spec(query={"since": 0}),
    ("GET", f"{P}/journeys/{{journey_id}}/conflicts"): Spec(),
    ("GET", f"{P}/conflicts"): Spec(),
    ("GET", f"{P}/conflicts/{{conflict_id}}"): Spec(),
    ("POST", f"{P}/conflicts/{{conflict_id}}/resolve"): Spec(body=lambda w: {"choice": "keep"}),
    ("POST", f"{P}/journeys/{{journey_id}}/validate"): Spec(viewer_may=True),
    ("POST", f"{P}/journeys/{{journey_id}}/publish"): Spec(body=lambda w: {"note": "x"}),
    ("GET", f"{P}/journeys/{{journey_id}}/versions"): Spec(),
    ("GET", f"{P}/journeys/{{journey_id}}/versions/{{version}}"): Spec(),
    ("GET", f"{P}/journeys/{{journey_id}}/diff"): Spec(query={"from": "1", "to": "draft"}),
    ("POST", f"{P}/journeys/{{journey_id}}/rollback"): Spec(body=lambda w: {"version": w.version}),
    ("GET", f"{P}/journeys/{{journey_id}}/impact"): Spec(),
    ("POST", f"{P}/journeys/{{journey_id}}/migrate"): Spec(
        body=lambda w: {"from_version": w.version, "to_version": w.version, "dry_run": True}
    ),
    ("POST", f"{P}/journeys/{{journey_id}}/simulate"): Spec(
        body=lambda w: {"horizon_days": 30}, viewer_may=True
    ),
    ("POST", f"{P}/journeys/{{journey_id}}/steps/{{step_id}}/preview"): Spec(
        body=lambda w: {"contact_id": w.contact_id}, viewer_may=True
    ),
    ("POST", f"{P}/action-executors/{{executor}}/preview"): Spec(
        body=lambda w: {
            "config": {"subject": "Hello", "text": "Dear {{ couple }}"},
            "contact_id": w.contact_id,
        },
        viewer_may=True,
    ),
    ("GET", f"{P}/journeys/{{journey_id}}/collaborators"): Spec(),
    ("PUT", f"{P}/journeys/{{journey_id}}/collaborators/{{user_id}}"): Spec(
        body=lambda w: {"role": "admin"}
    ),
    ("DELETE", f"{P}/journeys/{{journey_id}}/collaborators/{{user_id}}"): Spec(),
    ("GET", f"{P}/node-types"): Spec(),
    ("GET", f"{P}/trigger-types"): Spec(),
    ("GET", f"{P}/contacts"): Spec(),
    ("POST", f"{P}/contacts"): Spec(body=lambda w: {"email": "new@example.com"}, creates=True),
    ("POST", f"{P}/contacts/batch"): Spec(
        body=lambda w: [{"email": "batch@example.com"}], creates=True
    ),
    ("GET", f"{P}/contacts/{{contact_id}}"): Spec(),
    ("PATCH", f"{P}/contacts/{{contact_id}}"): Spec(body=lambda w: {"venue": "The Barn"}),
    ("DELETE", f"{P}/contacts/{{contact_id}}"): Spec(),
    ("POST", f"{P}/events"): Spec(body=_event, creates=True),
    ("POST", f"{P}/events/batch"): Spec(body=lambda w: {"events": [_event(w)]}, creates=True),
    ("GET", f"{P}/events/{{event_id}}"): Spec(),
    ("GET", f"{P}/enrollments"): Spec(),
    ("POST", f"{P}/enrollments"): Spec(
        body=lambda w: {"contact_id": w.contact_id, "journey_id": w.journey_id}, creates=True
    ),
    ("GET", f"{P}/enrollments/{{enrollment_id}}"): Spec(),
    ("POST", f"{P}/enrollments/{{enrollment_id}}/exit"): Spec(body=lambda w: {"reason": "x"}),
    ("GET", f"{P}/enrollments/{{enrollment_id}}/history"): Spec(),
    ("POST", f"{P}/enrollments/{{enrollment_id}}/trigger"): Spec(
        body=lambda w: {"step_id": "wait"}
    ),
    ("GET", f"{P}/tasks"): Spec(),
    ("GET", f"{P}/tasks/{{task_id}}"): Spec(),
    ("POST", f"{P}/tasks/{{task_id}}/complete"): Spec(body=lambda w: {}),
    ("GET", f"{P}/action-runs"): Spec(),
    ("GET", f"{P}/action-runs/{{run_id}}"): Spec(),
    ("POST", f"{P}/action-runs/{{run_id}}/retry"): Spec(),
    ("POST", f"{P}/action-runs/{{run_id}}/cancel"): Spec(),
    ("GET", f"{P}/log"): Spec(),
    ("GET", f"{P}/messages"): Spec(),
    ("GET", f"{P}/messages/{{message_id}}"): Spec(),
    ("GET", f"{P}/journeys/{{journey_id}}/stats"): Spec(),
    ("GET", f"{P}/webhook-endpoints/disabled"): Spec(),
    ("DELETE", f"{P}/webhook-endpoints/disabled/{{endpoint_id}}"): Spec(),
    ("GET", f"{P}/crm/connections"): Spec(),
    ("POST", f"{P}/crm/connections"): Spec(
        body=lambda w: {"provider": "studioninja", "name": "Another"}, creates=True
    ),
    ("GET", f"{P}/crm/connections/{{crm_connection_id}}"): Spec(),
    ("PATCH", f"{P}/crm/connections/{{crm_connection_id}}"): Spec(
        body=lambda w: {"enabled": False}
    ),
    ("DELETE", f"{P}/crm/connections/{{crm_connection_id}}"): Spec(),
    ("POST", f"{P}/crm/connections/{{crm_connection_id}}/test"): Spec(),
    ("POST", f"{P}/crm/connections/{{crm_connection_id}}/sync"): Spec(),
    ("GET", f"{P}/crm/runs"): Spec(),
    ("GET", f"{P}/crm/runs/{{sync_run_id}}"): Spec(),
    ("POST", f"{P}/crm/runs/{{sync_run_id}}/cancel"): Spec(),
    ("GET", f"{P}/crm/held"): Spec(),
    ("POST", f"{P}/crm/held/{{held_id}}/confirm"): Spec(),
    ("POST", f"{P}/crm/held/{{held_id}}/reject"): Spec(),
    ("POST", f"{P}/crm/connections/{{crm_connection_id}}/csv/{{csv_format}}/preview"): Spec(
        body=lambda w: CSV_FILE, headers={"Content-Type": "text/csv"}
    ),
    ("POST", f"{P}/crm/connections/{{crm_connection_id}}/csv/{{csv_format}}/import"): Spec(
        body=lambda w: CSV_FILE, headers={"Content-Type": "text/csv"}
    ),
    ("GET", f"{P}/crm/connections/{{crm_connection_id}}/csv/{{csv_format}}/export"): Spec(),
    ("GET", f"{P}/settings"): Spec(),
    ("PATCH", f"{P}/settings"): Spec(body=lambda w: {"timezone": "Europe/Paris"}, creates=True),
    # Event sources: the path names an installed source, and each studio sets its own.
    ("GET", f"{P}/settings/sources"): Spec(),
    ("GET", f"{P}/settings/sources/{{source}}"): Spec(other_org_status=200),
    # (Not a whsec_ secret: refused as invalid, before any storing.)
    ("PUT", f"{P}/settings/sources/{{source}}"): Spec(
        body=lambda w: {"signing_secret": "sk_not_a_signing_secret"}, other_org_status=422
    ),
    ("DELETE", f"{P}/settings/sources/{{source}}"): Spec(other_org_status=204),
    # Inbound URLs take no token (a signature authenticates): every caller is a stranger.
    ("POST", f"{P}/inbound/sources/{{source}}/{{organization_id}}"): Spec(
        body=lambda w: {}, viewer_status=404
    ),
    ("POST", f"{P}/inbound/crm/{{connection_id}}"): Spec(body=lambda w: {}, viewer_status=404),
    ("GET", f"{P}/organizations"): Spec(operator=True),
    ("POST", f"{P}/organizations"): Spec(
        body=lambda w: {"slug": "charlie", "name": "Charlie"}, operator=True
    ),
    ("GET", f"{P}/organizations/{{slug}}"): Spec(operator=True),
    ("GET", f"{P}/me"): Spec(),
    ("GET", f"{P}/tokens"): Spec(),
    ("POST", f"{P}/tokens"): Spec(body=lambda w: {"name": "ci", "role": "viewer"}, creates=True),
    ("DELETE", f"{P}/tokens/{{token_id}}"): Spec(),
    ("GET", f"{P}/users"): Spec(),
    ("POST", f"{P}/users"): Spec(
        body=lambda w: {"email": "new@b.example", "role": "viewer"}, creates=True
    ),
    ("GET", f"{P}/users/{{user_id}}"): Spec(),
    ("PATCH", f"{P}/users/{{user_id}}"): Spec(body=lambda w: {"role": "viewer"}),
    ("DELETE", f"{P}/users/{{user_id}}"): Spec(),
    # collaboration
    ("GET", f"{P}/journeys/{{journey_id}}/locks"): Spec(),
    ("POST", f"{P}/journeys/{{journey_id}}/locks"): Spec(body=lambda w: {"nodes": ["done"]}),
    ("POST", f"{P}/journeys/{{journey_id}}/locks/renew"): Spec(body=lambda w: {"nodes": ["wait"]}),
    ("POST", f"{P}/journeys/{{journey_id}}/locks/release"): Spec(
        body=lambda w: {"all": True}, viewer_may=True
    ),
    ("POST", f"{P}/journeys/{{journey_id}}/locks/force-release"): Spec(
        body=lambda w: {"all": True}
    ),
    ("GET", f"{P}/journeys/{{journey_id}}/presence"): Spec(),
    ("POST", f"{P}/journeys/{{journey_id}}/presence"): Spec(body=lambda w: {}),
    ("POST", f"{P}/journeys/{{journey_id}}/presence/{{session_id}}/heartbeat"): Spec(
        body=lambda w: {"cursor": {"x": 1, "y": 2}}, viewer_status=404
    ),
    ("DELETE", f"{P}/journeys/{{journey_id}}/presence/{{session_id}}"): Spec(
        other_org_status=204, viewer_status=204
    ),
    ("GET", f"{P}/journeys/{{journey_id}}/live/sse"): Spec(),
}


NAMED = {
    "executor": "email",
    "step_id": "brochure",
    "slug": "alpha",
    "source": "stripe",
    "organization_id": "no-such-organization",
    "connection_id": "no-such-connection",
}
"""Path parameters that name a registered type, a step or the world's organization, not
a row of it."""


def url_for(path: str, world: World) -> str:
    return path.format(**world.params(), **NAMED)
