"""A real SMTP server (aiosmtpd) on 127.0.0.1, optionally with STARTTLS, TLS and AUTH.

TLS uses a throwaway self-signed certificate for 127.0.0.1 written to a temp dir; the
client trusts it through ``AISLE_SMTP_CA_FILE``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from aisle.testing.servers import free_port

__all__ = ["Mailbox", "Received", "make_certificate", "smtp_server"]


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class Mailbox:
    """What the server received, and how it answers ``RCPT TO`` (``rcpt_reply``)."""

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    rcpt_reply: str | None = None
    rcpt_once: list[str] = field(default_factory=list)
    hang_data: int = 0
    auth_ok: tuple[str, str] | None = None
    stopping: bool = False

    def settings(self) -> dict[str, str]:
        return {"SMTP_HOST": self.host, "SMTP_PORT": str(self.port), "SMTP_FROM": FROM}


FROM = "Golden Hour <hello@goldenhour.example>"


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.box.rcpt_once:
            return self.box.rcpt_once.pop(0)
        if self.box.rcpt_reply is not None:
            return self.box.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        if self.box.hang_data:
            # Never answer (a stuck server) until the test ends.
            self.box.hang_data -= 1
            # The flag is set from the test's thread, so an asyncio.Event cannot carry it.
            while not self.box.stopping:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            return "421 shutting down"
        content = envelope.original_content or b""
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.box.messages.append(
            Received(str(envelope.mail_from), list(envelope.rcpt_tos), message)
        )
        return "250 Message accepted"


def _authenticator(box: Mailbox) -> Any:
    def check(
        server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword) or box.auth_ok is None:
            return AuthResult(success=False, handled=False)
        login, password = data.login.decode(), data.password.decode()
        box.logins.append(login)
        return AuthResult(success=(login, password) == box.auth_ok, handled=False)

    return check


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aisle test smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file = directory / "smtp-cert.pem"
    key_file = directory / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@contextmanager
def smtp_server(
    *,
    certificate: tuple[Path, Path] | None = None,
    mode: str = "plain",
    auth: tuple[str, str] | None = None,
) -> Iterator[Mailbox]:
    """Run a server: ``mode`` is ``plain``, ``starttls`` (required) or ``tls`` (implicit).

    With ``auth`` the server requires that login and password.
    """
    box = Mailbox(port=free_port(), auth_ok=auth)
    kwargs: dict[str, Any] = {}
    context = None
    if certificate is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(certificate[0]), str(certificate[1]))
    if mode == "starttls":
        kwargs.update(tls_context=context, require_starttls=True)
    elif mode == "tls":
        kwargs.update(ssl_context=context)
    if auth is not None:
        kwargs.update(
            authenticator=_authenticator(box),
            auth_required=True,
            # aiosmtpd only knows of TLS it negotiated itself (STARTTLS).
            auth_require_tls=mode == "starttls",
        )
    controller = Controller(_Handler(box), hostname=box.host, port=box.port, **kwargs)
    controller.start()
    try:
        yield box
    finally:
        box.stopping = True
        controller.stop()
