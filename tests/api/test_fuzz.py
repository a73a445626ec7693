"""Schemathesis against the app's own OpenAPI, over a real socket, with every check it
has (``--checks all``): no 500, every status, media type, header and body is the one
documented, what the schema admits is accepted and what it refuses is refused.

The server runs in a thread of its own (uvicorn, SQLite) with a seeded organization, so
some operations meet real objects; the rest of the generated ids meet 404 problems.
Hypothesis runs derandomized with a small budget per operation, so the run is
repeatable and takes about a minute on two cores.

The contract the checks hold the API to, where schemathesis leaves it to the API:

- 400 answers a request the schema refuses, and only such a request. A schema-valid
  request may still get 412 or 428 (``If-Match`` is stale or missing: state, not
  shape, RFC 9110/6585) or 422 (values the data or state cannot take: an unknown
  timezone, a draft that does not validate, a version not published yet).
- A body over the limit is refused with 413 (the fuzz server allows 200 kB, so large
  schema-invalid bodies get it).
- Strings never hold NUL (refused at the door, see :mod:`aisle.api.bodies`; JSON Schema
  cannot say so once for every string), so none are generated.

``use_after_free`` and ``ensure_resource_availability`` judge sequences of calls (a
resource used after its DELETE, one missing after its POST): they need schemathesis'
stateful phase, which needs OpenAPI links the API does not declare, so called on
single cases here they find nothing to judge. The live stream (SSE) never ends on its
own and is left out; tests/collab cover it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks, not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.meta import negated_parameters

from aisle.api import create_app
from aisle.api.config import ApiConfig
from aisle.plugins.manager import load_registry
from aisle.settings import Settings
from aisle.storage.store import Store
from aisle.testing.servers import serve_in_thread
from tests.api.helpers import small_flow

pytestmark = pytest.mark.slow


@dataclass
class Server:
    url: str
    token: str


async def _seed(settings: Settings) -> str:
    store = await Store.open(settings)
    try:
        org = await store.organizations.create(slug="fuzz", name="Fuzz")
        _, token = await store.for_org(org.id).tokens.create(name="fuzz", role="owner")
        return token
    finally:
        await store.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("fuzz")
    settings = Settings(data_dir=str(data_dir), secret_key="ZnV6ei1vbmx5LWtleQ==")
    token = asyncio.run(_seed(settings))
    app = create_app(
        settings,
        load_registry(),
        # The checks send bad tokens on purpose (ignored_auth): a throttled address
        # would get 429 for everything after, and test nothing.
        config=ApiConfig(rate_limit=0, auth_failure_limit=0, max_body_bytes=200_000),
    )
    with serve_in_thread(app) as url:
        auth = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=auth) as http:
            # a journey with a version, a contact, an enrollment: something to find
            journey = http.post(
                "/api/v1/journeys",
                json={"name": "Fuzz", "flow": small_flow(), "settings": {"start_step": "brochure"}},
            ).json()
            http.post(f"/api/v1/journeys/{journey['id']}/publish", json={})
            contact = http.post("/api/v1/contacts", json={"email": "f@example.com"}).json()
            enrollment = {"contact_id": contact["id"], "journey_id": journey["id"]}
            http.post("/api/v1/enrollments", json=enrollment)
        yield Server(url=url, token=token)


ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "412", "422", "428", "429"]
REFUSED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
CONFIG = {
    "generation": {"allow-x00": False},
    "checks": {
        "positive_data_acceptance": {"expected-statuses": ACCEPTED},
        "negative_data_rejection": {"expected-statuses": REFUSED},
    },
}


def _all_checks() -> list[Any]:
    load_all_checks()
    return list(CHECKS.get_all())


def _fuzz_operation(
    operation: Any, server: Server, mode: GenerationMode, statuses: list[int]
) -> str | None:
    """Run hypothesis over one operation, adding each answer's status to ``statuses``;
    the failure's text, or ``None``."""
    checks = _all_checks()
    auth = {"Authorization": f"Bearer {server.token}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=15,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        # Every call carries the fuzz token, which masks a case's broken Authorization
        # header: such a case only must not crash the server. Bad tokens are the
        # ignored_auth check's (and test_tenancy_and_roles').
        negated = {name.lower() for name, _ in negated_parameters(case.meta)}
        response = case.call_and_validate(
            base_url=server.url,
            headers=auth,
            checks=[not_a_server_error] if "authorization" in negated else checks,
            timeout=30,
        )
        statuses.append(response.status_code)

    try:
        run()
    except Unsatisfiable:
        return None  # nothing to make invalid (no parameters, no body)
    except (Exception, BaseExceptionGroup) as exc:
        return f"{operation.label} ({mode.value}): {exc}"[:3000]
    return None


def test_the_api_does_what_its_openapi_says(server: Server) -> None:
    schema = schemathesis.openapi.from_url(
        f"{server.url}/schema/openapi.json",
        config=SchemathesisConfig.from_dict(CONFIG),
    )
    failures: list[str] = []
    operations = 0
    positive: list[int] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if "/live/" in operation.path:
            continue  # a live stream never ends on its own: not something to fuzz
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            statuses: list[int] = []
            failure = _fuzz_operation(operation, server, mode, statuses)
            if failure:
                failures.append(failure)
            if mode is GenerationMode.POSITIVE:
                positive.extend(statuses)
    assert operations > 50
    assert not failures, "\n\n".join(failures)
    # Authenticated for real: a run met by 401s alone would pass every check above.
    assert positive.count(401) == 0
    assert sum(200 <= status < 300 for status in positive) > 200


def test_schema_is_openapi_3_1_and_documents_every_handler(server: Server) -> None:
    document = httpx.get(f"{server.url}/schema/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert "/api/v1/journeys/{journey_id}/flow" in document["paths"]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
