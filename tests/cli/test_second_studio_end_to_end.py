"""A second studio, set up the way an operator and a studio would (issue 11's acceptance).

The operator runs ``aisle serve`` with its SMTP server, SMS account and egress
allowance, and opens a studio with ``aisle org create``. The studio configures itself
only through its API (timezone, send window, sender, a saved email template, its own
webhook signing secret), publishes a journey with an email, an SMS and a webhook step,
enrolls a couple, and each message reaches its local receiver: the email rendered from
the saved template and sent as the studio, the SMS in E.164, the webhook signed with the
studio's secret. Nothing is captured, nothing is dead.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from aisle.testing.http_server import HTTPReceiver, Reply
from tests.actions.smtp_server import smtp_server
from tests.api.helpers import edge, node

from .processes import clean_env, run_aisle
from .test_serve_command import serving

pytestmark = pytest.mark.slow

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SMS_SENT = Reply(
    201,
    {"Content-Type": "application/json"},
    b'{"sid": "SM1", "status": "queued", "num_segments": "1"}',
)


def journey(hooks_url: str) -> dict[str, Any]:
    return {
        "name": "Bravo booking",
        "settings": {"start_step": "mail"},
        "flow": {
            "nodes": [
                node("mail", "email", 0, 0, config={"template_id": "welcome"}),
                node("text", "sms", 0, 100, config={"body": "Hi {{ partner1.first_name }}!"}),
                node("hook", "webhook", 0, 200, config={"url": f"{hooks_url}/booked"}),
                node("done", "end", 0, 300),
            ],
            "edges": [
                edge("e1", "mail", "text"),
                edge("e2", "text", "hook"),
                edge("e3", "hook", "done"),
            ],
            "viewport": {"x": 0, "y": 0, "zoom": 1},
        },
    }


async def test_a_studio_opened_by_the_cli_and_set_up_through_its_api_sends_all_three(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with smtp_server() as mailbox, HTTPReceiver(SMS_SENT) as sms, HTTPReceiver() as hooks:
        env = clean_env(
            AISLE_DATA_DIR=str(data),
            AISLE_SMTP_HOST=mailbox.host,
            AISLE_SMTP_PORT=str(mailbox.port),
            AISLE_SMS_BASE_URL=sms.url,
            AISLE_SMS_ACCOUNT_SID="AC123",
            AISLE_SMS_AUTH_TOKEN="sms-token",
            AISLE_SMS_FROM="+447400123456",
            AISLE_HTTP_ALLOW="127.0.0.1/32",
            AISLE_CAPTURE_MESSAGES="off",
            AISLE_RATE_LIMIT="0",
        )
        async with serving(data, "--port", "0", env=env) as served:
            opened = await run_aisle("org", "create", "bravo", "--name", "Bravo Films", env=env)
            assert opened.returncode == 0, opened.stderr
            owner = {"Authorization": f"Bearer {opened.stdout.strip()}"}
            async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
                settings = await client.patch(
                    "/api/v1/settings",
                    json={
                        "timezone": "Europe/London",
                        "country": "GB",
                        "send_window": {"start": "00:00", "end": "23:59"},
                        "default_sender": "Bravo Films <hello@bravo.example>",
                        "email_templates": {
                            "welcome": {
                                "subject": "Welcome, {{ couple }}",
                                "text": "Dear {{ partner1.first_name }}, welcome to Bravo.",
                            }
                        },
                        "webhook_secret": SECRET,
                    },
                    headers=owner,
                )
                assert settings.status_code == 200, settings.text
                assert SECRET not in settings.text

                made = await client.post("/api/v1/journeys", json=journey(hooks.url), headers=owner)
                assert made.status_code == 201, made.text
                journey_id = made.json()["id"]
                published = await client.post(
                    f"/api/v1/journeys/{journey_id}/publish", headers=owner
                )
                assert published.status_code in (200, 201), published.text
                contact = await client.post(
                    "/api/v1/contacts",
                    json={
                        "partners": [{"first_name": "Ada"}, {"first_name": "Grace"}],
                        "email": "ada@example.com",
                        "phone": "07911 123456",
                    },
                    headers=owner,
                )
                assert contact.status_code == 201, contact.text
                enrolled = await client.post(
                    "/api/v1/enrollments",
                    json={"contact_id": contact.json()["id"], "journey_id": journey_id},
                    headers=owner,
                )
                assert enrolled.status_code == 201, enrolled.text

                async with asyncio.timeout(60):
                    while True:
                        state = await client.get(
                            f"/api/v1/enrollments/{enrolled.json()['id']}", headers=owner
                        )
                        delivered = mailbox.messages and sms.requests and hooks.requests
                        if delivered and state.json()["status"] == "completed":
                            break
                        await asyncio.sleep(0.2)
                assert state.json()["failed_actions"]["count"] == 0, state.text
                messages = await client.get("/api/v1/messages", headers=owner)
                statuses = sorted((m["channel"], m["status"]) for m in messages.json()["items"])
                assert statuses == [("email", "sent"), ("sms", "sent")], messages.text

    (mail,) = mailbox.messages
    assert mail.sender == "hello@bravo.example"
    assert mail.message["Subject"] == "Welcome, Ada & Grace"
    assert "Dear Ada, welcome to Bravo." in mail.message.get_content()
    (text,) = sms.requests
    form = httpx.QueryParams(text.body.decode())
    assert (form["To"], form["Body"]) == ("+447911123456", "Hi Ada!")
    (hook,) = hooks.requests
    assert hook.path == "/booked"
    Webhook(SECRET).verify(hook.body, dict(hook.headers))
