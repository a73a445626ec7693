"""The app factory answers /healthz and renders routing errors as problem details."""

from __future__ import annotations

from litestar.testing import TestClient

from aisle.api import create_app
from aisle.plugins.manager import load_registry


def test_healthz_answers_ok() -> None:
    with TestClient(create_app(None, load_registry(entry_points=False))) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_unknown_path_is_a_problem_document() -> None:
    with TestClient(create_app(None, load_registry(entry_points=False))) as client:
        response = client.get("/no/such/path")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 404 and body["instance"] == "/no/such/path"
