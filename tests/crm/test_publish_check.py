"""A ``crm_update`` step is refused at publish unless the studio's connection it would
use can take it (issue 13): the studio's CRM connections reach the executors' checks."""

from __future__ import annotations

from aisle.crm import CRMDeps
from aisle.crm.connections import ConnectionService
from aisle.domain import Graph, JourneySettings, Step
from aisle.services.lifecycle import Lifecycle
from aisle.storage.store import OrgScope
from aisle.testing import FakeCRMServer
from tests.crm.conftest import ADMIN, credentials


def pushes(**config: object) -> Graph:
    return Graph(
        steps=(
            Step(
                id="to_crm",
                type="crm_update",
                label="Mark booked in the CRM",
                config={"fields": {"lead_source": "aisle"}, **config},
            ),
        ),
        settings=JourneySettings(start_step="to_crm"),
    )


async def problems(deps: CRMDeps, studio: OrgScope, graph: Graph) -> list[tuple[str, str]]:
    journey = await studio.journeys.create(name="Booked", draft=graph)
    issues = await Lifecycle(deps.runtime, studio, ADMIN).issues(journey.id, graph)
    return [(i.node_id or "", i.message) for i in issues if i.severity == "error"]


async def test_crm_update_needs_a_connection_that_pushes(
    deps: CRMDeps, studio: OrgScope, fake: FakeCRMServer
) -> None:
    connections = ConnectionService(deps, studio, ADMIN)
    assert await problems(deps, studio, pushes()) == [
        ("to_crm", "crm_update action: the studio has no enabled CRM connection; connect one first")
    ]

    await connections.create(provider="pullonly", name="Old CRM", credentials=credentials(fake))
    assert await problems(deps, studio, pushes()) == [
        ("to_crm", "crm_update action: CRM provider 'pullonly' cannot push records")
    ]
    # Naming a provider the studio has not connected is refused on that field.
    (issue,) = [
        i
        for i in await Lifecycle(deps.runtime, studio, ADMIN).issues(
            "j", pushes(provider="synccrm")
        )
        if i.severity == "error"
    ]
    assert (issue.node_id, issue.field) == ("to_crm", "config.provider")

    pulls = await connections.create(
        provider="synccrm", name="Main", credentials=credentials(fake), direction="pull"
    )
    assert await problems(deps, studio, pushes(provider="synccrm")) == [
        (
            "to_crm",
            "crm_update action: the studio's synccrm connection only pulls; set its "
            "direction to push or both",
        )
    ]
    await connections.update(pulls.id, direction="both")
    assert await problems(deps, studio, pushes(provider="synccrm")) == []
