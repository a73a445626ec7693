"""Every executor of the actions plugin passes Aisle's ActionExecutorSuite.

Each class points the suite at the executor's real remote on 127.0.0.1 (an aiosmtpd
server, a Twilio-style HTTP server, a webhook receiver, the fake CRM) and says how to
make that remote fail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import pytest

from actions.conftest import LOCAL
from actions.smtp_server import Mailbox, smtp_server
from actions.test_crm_update import API_KEY, Credentials, make_provider
from aisle import ActionExecutor
from aisle.contracts.actions import CRMAccess
from aisle.testing import ActionExecutorSuite, ConfigCase, Effect, FailureCase
from aisle.testing.fake_crm import FakeCRMServer
from aisle.testing.http_server import HTTPReceiver, ReceivedRequest, Reply
from aisle.testing.services import RecordingServices
from aisle_actions import crm_update, mail, sms, task, webhook

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def header_effects(server: HTTPReceiver | FakeCRMServer, header: str) -> Callable[[], list[Effect]]:
    return lambda: [Effect(key=r.headers.get(header)) for r in server.requests]


class TestEmail(ActionExecutorSuite):
    @pytest.fixture
    def executor(self) -> ActionExecutor:
        return mail.EXECUTOR

    @pytest.fixture
    def mailbox(self) -> Iterator[Mailbox]:
        with smtp_server() as box:
            yield box

    @pytest.fixture
    def settings(self, mailbox: Mailbox) -> Mapping[str, str]:
        return {**mailbox.settings(), "SMTP_PASSWORD": "smtp-password-never-shown"}

    @pytest.fixture
    def valid_config(self) -> Any:
        return {"to": "partner1", "subject": "Hello {{ couple }}", "text": "See you soon"}

    @pytest.fixture
    def invalid_configs(self) -> Sequence[ConfigCase]:
        return [ConfigCase({"to": 3}, "to"), ConfigCase({"cc": "a@b.example"}, "cc")]

    @pytest.fixture
    def observed_effects(self, mailbox: Mailbox) -> Callable[[], list[Effect]]:
        return lambda: [
            Effect(key=m.message["X-Aisle-Idempotency-Key"], detail={"id": m.message["Message-ID"]})
            for m in mailbox.messages
        ]

    @pytest.fixture
    def failure_cases(self, mailbox: Mailbox) -> Sequence[FailureCase]:
        return [
            FailureCase(
                name="mailbox busy (451)",
                expect="retryable",
                arm=lambda: mailbox.rcpt_once.append("451 4.2.1 mailbox busy"),
            ),
            FailureCase(
                name="no such mailbox (550)",
                expect="permanent",
                arm=lambda: mailbox.rcpt_once.append("550 5.1.1 no such user"),
            ),
            FailureCase(
                name="server never answers DATA",
                expect="hang",
                arm=lambda: setattr(mailbox, "hang_data", 1),
            ),
            FailureCase(
                name="template reaches for internals",
                expect="permanent",
                config={"to": "partner1", "subject": "{{ couple.__class__ }}", "text": "x"},
            ),
        ]


class TestSms(ActionExecutorSuite):
    @pytest.fixture
    def executor(self) -> ActionExecutor:
        return sms.EXECUTOR

    @pytest.fixture
    def provider(self) -> Iterator[HTTPReceiver]:
        created = Reply(201, {"Content-Type": "application/json"}, b'{"sid": "SM1"}')
        with HTTPReceiver(default=created) as receiver:
            yield receiver

    @pytest.fixture
    def settings(self, provider: HTTPReceiver) -> Mapping[str, str]:
        return {
            **LOCAL,
            "SMS_BASE_URL": provider.url,
            "SMS_ACCOUNT_SID": "AC123",
            "SMS_AUTH_TOKEN": "sms-token-never-shown",
            "SMS_FROM": "+447400123456",
        }

    @pytest.fixture
    def valid_config(self) -> Any:
        return {"to": "contact", "body": "Hi {{ couple }}, {{ wedding.days_until }} days to go"}

    @pytest.fixture
    def observed_effects(self, provider: HTTPReceiver) -> Callable[[], list[Effect]]:
        return header_effects(provider, "idempotency-key")

    @pytest.fixture
    def failure_cases(self, provider: HTTPReceiver) -> Sequence[FailureCase]:
        return [
            FailureCase(
                name="rate limited",
                expect="retryable",
                arm=lambda: provider.reply(Reply(429, {"Retry-After": "30"})),
                retry_after=30,
            ),
            FailureCase(
                name="provider down", expect="retryable", arm=lambda: provider.reply(Reply(503))
            ),
            FailureCase(
                name="number rejected",
                expect="permanent",
                arm=lambda: provider.reply(Reply(400, {}, b'{"code": 21211}')),
            ),
            FailureCase(
                name="invalid number",
                expect="permanent",
                config={"to": "+44 12", "body": "Hello"},
            ),
            FailureCase(name="provider hangs", expect="hang", arm=provider.hang),
        ]


class TestWebhook(ActionExecutorSuite):
    @pytest.fixture
    def executor(self) -> ActionExecutor:
        return webhook.EXECUTOR

    @pytest.fixture
    def receiver(self) -> Iterator[HTTPReceiver]:
        with HTTPReceiver() as receiver:
            yield receiver

    @pytest.fixture
    def settings(self) -> Mapping[str, str]:
        return dict(LOCAL)

    @pytest.fixture
    def services(self, settings: Mapping[str, str]) -> RecordingServices:
        # The studio's own signing secret, as the settings API stores it.
        return RecordingServices(settings=settings, studio_secrets={"webhook_secret": SECRET})

    @pytest.fixture
    def valid_config(self, receiver: HTTPReceiver) -> Any:
        return {"url": f"{receiver.url}/hook", "event": "journey.step"}

    @pytest.fixture
    def secrets(self) -> Sequence[str]:
        return [SECRET]

    @pytest.fixture
    def observed_effects(self, receiver: HTTPReceiver) -> Callable[[], list[Effect]]:
        return header_effects(receiver, "webhook-id")

    @pytest.fixture
    def failure_cases(self, receiver: HTTPReceiver) -> Sequence[FailureCase]:
        def gone(request: ReceivedRequest) -> Reply:
            return Reply(410) if request.path == "/gone" else Reply(200)

        return [
            FailureCase(
                name="503 with Retry-After",
                expect="retryable",
                arm=lambda: receiver.reply(Reply(503, {"Retry-After": "12"})),
                retry_after=12,
            ),
            FailureCase(name="429", expect="retryable", arm=lambda: receiver.reply(Reply(429))),
            FailureCase(name="400", expect="permanent", arm=lambda: receiver.reply(Reply(400))),
            FailureCase(
                name="410 Gone", expect="permanent", arm=lambda: receiver.reply(Reply(410))
            ),
            FailureCase(
                name="metadata address",
                expect="permanent",
                config={"url": "http://169.254.169.254/latest"},
            ),
            FailureCase(name="receiver hangs", expect="hang", arm=receiver.hang),
        ]


class TestTask(ActionExecutorSuite):
    unsupported: ClassVar[Mapping[str, str]] = {
        "retryable_errors": "creates the task in Aisle's own database through the services",
        "timeouts": "talks to no remote that could hang; the worker's database call is bounded",
    }

    @pytest.fixture
    def executor(self) -> ActionExecutor:
        return task.EXECUTOR

    @pytest.fixture
    def valid_config(self) -> Any:
        return {
            "title": "Send {{ couple }} the questionnaire",
            "assignee": "vendor",
            "due": {"relative_to": "wedding_date", "days": -30, "at": "09:00"},
        }

    @pytest.fixture
    def invalid_configs(self) -> Sequence[ConfigCase]:
        return [ConfigCase({"title": "x", "required_approvals": 0}, "required_approvals")]

    @pytest.fixture
    def observed_effects(self, services: RecordingServices) -> Callable[[], list[Effect]]:
        return lambda: [Effect(key=t.run_key, detail={"id": t.id}) for t in services.tasks]

    @pytest.fixture
    def failure_cases(self) -> Sequence[FailureCase]:
        return [
            FailureCase(name="no title", expect="permanent", config={"title": " "}),
            FailureCase(name="bad template", expect="permanent", config={"title": "{{ x.y }}"}),
        ]


class HangingCRM(FakeCRMServer):
    """The fake CRM, able to hold a request without answering."""

    hangs = 0

    def respond(self, request: ReceivedRequest) -> Reply:
        if self.hangs:
            self.hangs -= 1
            return Reply(hang=True)
        return super().respond(request)


class TestCrmUpdate(ActionExecutorSuite):
    @pytest.fixture
    def executor(self) -> ActionExecutor:
        return crm_update.EXECUTOR

    @pytest.fixture
    def crm(self) -> Iterator[HangingCRM]:
        with HangingCRM(api_key=API_KEY) as server:
            yield server

    @pytest.fixture
    def settings(self) -> Mapping[str, str]:
        return dict(LOCAL)

    @pytest.fixture
    def secrets(self) -> Sequence[str]:
        return [API_KEY]

    @pytest.fixture
    def services(self, settings: Mapping[str, str], crm: HangingCRM) -> RecordingServices:
        (record,) = crm.seed("contacts", [{"name": "Ada"}])
        return RecordingServices(
            settings=settings,
            crm=CRMAccess(
                connection_id="conn_1",
                provider=make_provider(),
                credentials=Credentials(api_key=API_KEY, base_url=crm.url),
                external_id=record,
            ),
        )

    @pytest.fixture
    def valid_config(self) -> Any:
        return {"fields": {"status": "Booked for {{ wedding_date }}"}}

    @pytest.fixture
    def observed_effects(self, crm: HangingCRM) -> Callable[[], list[Effect]]:
        return lambda: [
            Effect(key=r.headers.get("idempotency-key"))
            for r in crm.requests
            if r.method in ("POST", "PUT")
        ]

    @pytest.fixture
    def failure_cases(self, crm: HangingCRM) -> Sequence[FailureCase]:
        return [
            FailureCase(
                name="rate limited",
                expect="retryable",
                arm=lambda: crm.rate_limit(retry_after=9),
                retry_after=9,
            ),
            FailureCase(
                name="no connection for that provider",
                expect="permanent",
                config={"fields": {"a": "b"}, "provider": "other"},
            ),
            FailureCase(name="CRM hangs", expect="hang", arm=lambda: setattr(crm, "hangs", 1)),
        ]
