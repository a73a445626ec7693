"""aisle.logs: JSON lines with the request's ids, and secrets never written."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import httpx

from aisle import logs


async def test_a_request_with_a_bearer_token_and_a_crm_credential_logs_neither(
    aisle_client: httpx.AsyncClient, aisle_studio: Any
) -> None:
    stream = io.StringIO()
    logs.configure({"AISLE_LOG_FORMAT": "json"}, stream=stream)
    try:
        credential = "tave-secret-key-9f8e7d6c5b4a"
        logger = logging.getLogger("aisle.crm.test")

        # A route that logs what it was given, as a careless client or plugin would.
        answer = await aisle_client.get("/api/v1/contacts", headers={"X-Request-ID": "req-42"})
        assert answer.headers["x-request-id"] == "req-42"
        logs.bind(request_id="req-42", organization=aisle_studio.id, run="run-1")
        logger.info("headers %r", {"Authorization": f"Bearer {aisle_studio.token}"})
        logger.info("connecting with api_key=%s password: %s", credential, "hunter2hunter2")
        logger.info('body {"secret_key": "%s"}', credential)
        try:
            raise RuntimeError(f"login failed for token {aisle_studio.token}")
        except RuntimeError:
            logger.exception("crm call failed")
    finally:
        logging.getLogger().handlers = [
            h for h in logging.getLogger().handlers if not getattr(h, "aisle", False)
        ]
    text = stream.getvalue()
    for secret in (aisle_studio.token, credential, "hunter2hunter2"):
        assert secret not in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    mine = [line for line in lines if line["logger"] == "aisle.crm.test"]
    assert len(mine) == 4
    for line in mine:
        assert line["request_id"] == "req-42"
        assert line["organization"] == aisle_studio.id and line["run"] == "run-1"
        assert line["time"].endswith("+00:00")
    assert "[redacted]" in mine[0]["message"] and "exception" in mine[3]


def test_uvicorn_lines_go_through_the_same_handler() -> None:
    stream = io.StringIO()
    logs.configure({}, stream=stream)
    try:
        access = logging.getLogger("uvicorn.access")
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET", "/livez", "1.1", 200)
    finally:
        logging.getLogger().handlers = [
            h for h in logging.getLogger().handlers if not getattr(h, "aisle", False)
        ]
    line = stream.getvalue().strip()
    # ISO timestamp first, then the level and the logger, as every Aisle line.
    assert line[:4].isdigit() and "T" in line[:11]
    assert "uvicorn.access" in line and "GET /livez" in line
