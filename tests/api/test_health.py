"""The app factory answers /healthz and renders routing errors as problem details."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import TestClient

from aisle.api import create_app
from aisle.plugins.manager import load_registry
from aisle.settings import Settings


def test_healthz_answers_ok(tmp_path: Path) -> None:
    with TestClient(
        create_app(Settings(data_dir=str(tmp_path)), load_registry(entry_points=False))
    ) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_unknown_path_is_a_problem_document(tmp_path: Path) -> None:
    with TestClient(
        create_app(Settings(data_dir=str(tmp_path)), load_registry(entry_points=False))
    ) as client:
        response = client.get("/no/such/path")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 404 and body["instance"] == "/no/such/path"
