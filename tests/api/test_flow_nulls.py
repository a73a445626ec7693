"""What React Flow clients send is accepted: ``null`` labels and handles, ``null`` UI
fields and the runtime fields ``toObject()`` includes (issue 11, item 9)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema

from tests.api.conftest import Org
from tests.api.helpers import small_flow

SCHEMA = json.loads(
    (Path(__file__).parent / "fixtures" / "react_flow_json_object.schema.json").read_text()
)

KEPT_EDGE_UI = {
    "animated": True,
    "hidden": False,
    "zIndex": 3,
    "style": {"stroke": "#999"},
    "className": "late",
    "markerEnd": {"type": "arrowclosed"},
}
RUNTIME_ONLY = {"selected": True, "dragging": False, "measured": {"width": 150, "height": 40}}


def canvas_flow() -> dict[str, Any]:
    """A flow as a React Flow app serialises its state: nulls where nothing is set."""
    flow = small_flow()
    brochure, wait, _ = flow["nodes"]
    brochure.update(RUNTIME_ONLY, width=180, height=64, className=None, style=None)
    wait.update(parentId=None, zIndex=None, extent=None)
    first, second = flow["edges"]
    first.update(KEPT_EDGE_UI, label=None, selected=False, width=None, height=None)
    second.update(label="after three days", markerEnd=None, style=None, animated=None, type=None)
    return flow


async def test_null_label_handles_and_ui_fields_are_accepted_and_kept_consistently(
    client: httpx.AsyncClient, org_a: Org
) -> None:
    created = await client.post(
        "/api/v1/journeys",
        json={"name": "From the canvas", "flow": canvas_flow()},
        headers=org_a.auth("editor"),
    )
    assert created.status_code == 201, created.text
    url = f"/api/v1/journeys/{created.json()['id']}/flow"

    read = await client.get(url, headers=org_a.auth())
    document = read.json()
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    brochure, wait, _ = document["nodes"]
    assert (brochure["width"], brochure["height"]) == (180, 64)
    assert not set(RUNTIME_ONLY) & set(brochure)  # runtime-only: dropped
    assert not {"className", "style"} & set(brochure)  # null: not set
    assert not {"parentId", "zIndex", "extent"} & set(wait)
    first, second = document["edges"]
    assert first["label"] == ""  # a null label is an empty one
    assert {k: first[k] for k in KEPT_EDGE_UI} == KEPT_EDGE_UI
    assert not {"selected", "width", "height"} & set(first)
    assert second["label"] == "after three days"
    assert second["type"] == "time_delay"  # a null type: the trigger names the component
    assert not {"markerEnd", "style", "animated"} & set(second)
    assert (first["sourceHandle"], first["targetHandle"]) == (None, None)

    # The same document sent back with null labels again, as a canvas would after a save.
    for item in document["edges"]:
        item["label"] = None
        item.update(selected=False)
    saved = await client.put(
        url, json=document, headers=org_a.auth("editor") | {"If-Match": read.headers["etag"]}
    )
    assert saved.status_code == 200, saved.text
    again = (await client.get(url, headers=org_a.auth())).json()
    assert [e["label"] for e in again["edges"]] == ["", ""]
    assert {k: again["edges"][0][k] for k in KEPT_EDGE_UI} == KEPT_EDGE_UI
