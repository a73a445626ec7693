"""Export and import of a journey without HTTP: an import between studios keeps every
version but takes no clients, needs an admin, and is refused whole when a graph does not
fit the deployment."""

from __future__ import annotations

import msgspec
import pytest

from aisle.canvas.admission import GraphLimits
from aisle.canvas.transfer import ExportDocument, JourneyTransfer
from aisle.contracts.registry import Registry
from aisle.demo import demo_journey
from aisle.services.errors import Refused
from aisle.services.roles import Operator
from aisle.storage.flow_log import FlowLogRepository
from aisle.storage.store import Store

ADMIN = Operator(actor="user:a", role="admin", user_id="a")


async def test_an_exported_journey_arrives_paused_with_its_versions(
    store: Store, registry: Registry
) -> None:
    here = store.for_org(await store.organizations.create(slug="a", name="A"))
    there = store.for_org(await store.organizations.create(slug="b", name="B"))
    journey = await here.journeys.create(name="Enquiries", draft=demo_journey())
    await here.journeys.publish(journey.id, demo_journey(), note="first")
    await here.journeys.set_status(journey.id, "live")

    exporting = JourneyTransfer(store, here, ADMIN, registry=registry, limits=GraphLimits())
    document = await exporting.export(journey.id)
    assert (document.status, len(document.versions)) == ("live", 1)
    sent = msgspec.json.decode(msgspec.json.encode(document), type=ExportDocument)

    importing = JourneyTransfer(store, there, ADMIN, registry=registry, limits=GraphLimits())
    copy = await importing.import_journey(sent)
    assert (copy.name, copy.status) == ("Enquiries", "paused")
    [version] = await there.journeys.versions(copy.id)
    assert version.note == "imported version 1: first"
    [entry] = await there.log.list(kind="journey.imported")
    assert (entry.actor, entry.data) == ("user:a", {"source_status": "live"})
    [op] = await FlowLogRepository(there.org_id, store.db, store.clock).since(copy.id, -1)
    assert op.op == {"op": "import", "source_journey_id": journey.id}
    assert (await here.journeys.get(journey.id)).status == "live"  # the original stays


async def test_an_import_is_an_admins_act_and_refused_whole(
    store: Store, registry: Registry
) -> None:
    scope = store.for_org(await store.organizations.create(slug="a", name="A"))
    document = ExportDocument(format="aisle.journey/v1", name="J", draft=demo_journey())
    editor = Operator(actor="user:e", role="editor")
    with pytest.raises(Refused, match="importing a journey needs the 'admin' role"):
        await JourneyTransfer(
            store, scope, editor, registry=registry, limits=GraphLimits()
        ).import_journey(document)
    # A deployment whose journeys are smaller than the demo's cannot take it.
    small = GraphLimits(max_nodes=3)
    with pytest.raises(Refused) as refused:
        await JourneyTransfer(store, scope, ADMIN, registry=registry, limits=small).import_journey(
            document
        )
    assert (refused.value.status, refused.value.slug) == (422, "invalid-import")
    assert [e.field for e in refused.value.errors] == ["draft.nodes"]
    assert await scope.journeys.list() == []
