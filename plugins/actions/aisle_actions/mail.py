"""The ``email`` executor: a templated message with text and HTML parts, sent over SMTP.

Operator settings (read through :meth:`~aisle.ActionServices.setting`):
``AISLE_SMTP_HOST`` (required), ``AISLE_SMTP_PORT`` (465 with TLS, else 587 with
STARTTLS, else 25), ``AISLE_SMTP_USERNAME``/``AISLE_SMTP_PASSWORD``,
``AISLE_SMTP_STARTTLS`` (``true``: required, ``false``: never; unset: when offered),
``AISLE_SMTP_TLS`` (implicit TLS), ``AISLE_SMTP_FROM`` (default sender),
``AISLE_SMTP_CA_FILE`` (extra CA bundle), ``AISLE_SMTP_TIMEOUT`` (seconds).

Without an SMTP host the embedded default captures each message instead of sending it
(``AISLE_CAPTURE_MESSAGES``, see :meth:`~aisle.ActionServices.captures`): it is stored,
rendered, for the studio's Messages list. Sent messages are recorded there too.
HTML-only mail gets a generated text part.

SMTP has no idempotency of its own, so the ``Message-ID`` is derived from the run's
idempotency key (a resend is recognisably the same message), and a message the server
accepted is remembered so that a retry after a crash does not send it again.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import aiosmtplib
import msgspec

from aisle import (
    ActionContext,
    ActionExecutor,
    ActionResult,
    ActionServices,
    CheckContext,
    ConfigProblem,
    OutgoingMessage,
    PermanentError,
    RetryableError,
    run_bounded,
)
from aisle_actions.configs import decode_config
from aisle_actions.plain_text import plain_text
from aisle_actions.recipients import named_recipients
from aisle_actions.templates import render
from aisle_actions.wedding_context import wedding_context

__all__ = [
    "EXECUTOR",
    "EmailConfig",
    "build_message",
    "check",
    "execute",
    "message_id",
    "preview",
]

NAME = "email"
_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


class EmailConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """An email action, as the ``email`` node's config snapshot carries it.

    ``subject``, ``text`` and ``html`` are sandboxed Jinja templates over the wedding
    context; ``template_id`` names one of the studio's saved templates
    (``email_templates`` in the studio settings) whose parts fill those left empty.
    ``to`` is resolved when the mail is sent, against the contact as it is then (the
    templates render from it too): ``couple`` (every partner's address, else the
    contact's), ``partner1``, ``partner2``, ``contact``, ``vendor`` (``vendor_email``)
    or literal addresses, comma-separated. ``recipients``, the addresses the step
    addressed when it ran, stand in only for a run without a contact.
    """

    subject: str = ""
    text: str = ""
    html: str = ""
    template_id: str | None = None
    to: str | list[str] = "couple"
    recipients: list[str] = []
    cc: list[str] = []
    bcc: list[str] = []
    reply_to: str | None = None
    from_address: str | None = None
    vendor_email: str | None = None


class Rendered(msgspec.Struct, frozen=True, kw_only=True):
    """A message as it would be sent: what a preview shows."""

    subject: str
    text: str
    html: str
    to: list[str]
    cc: list[str]
    bcc: list[str]
    reply_to: str | None
    from_address: str | None


def _check_address(field: str, address: str) -> str:
    if not _ADDRESS.match(address):
        raise PermanentError(f"email config field {field!r}: {address!r} is not an email address")
    return address


def _recipients(config: EmailConfig, contact: Mapping[str, Any]) -> list[str]:
    # Resolved now, not from the step's snapshot: a run retried after its contact was
    # corrected goes to the corrected address.
    found = named_recipients(config.to, contact, "email", config.vendor_email)
    if not found and not contact:
        found = list(config.recipients)
    unique = list(dict.fromkeys(a.strip() for a in found if a.strip()))
    if not unique:
        raise PermanentError(
            f"email config field 'to': {config.to!r} names no address for this contact"
        )
    return [_check_address("to", a) for a in unique]


def _saved_template(template_id: str, studio: Mapping[str, Any]) -> Mapping[str, Any]:
    settings = studio.get("settings")
    saved = studio.get("email_templates")
    if saved is None and isinstance(settings, Mapping):
        saved = settings.get("email_templates")
    template = saved.get(template_id) if isinstance(saved, Mapping) else None
    if not isinstance(template, Mapping):
        raise PermanentError(
            f"email config field 'template_id': the studio has no saved template {template_id!r}"
        )
    return template


def _parts(config: EmailConfig, studio: Mapping[str, Any]) -> tuple[str, str, str]:
    subject, text, html = config.subject, config.text, config.html
    if config.template_id:
        saved = _saved_template(config.template_id, studio)
        subject = subject or str(saved.get("subject") or "")
        text = text or str(saved.get("text") or "")
        html = html or str(saved.get("html") or "")
    if not subject.strip():
        raise PermanentError("email config field 'subject': a subject is required")
    if not (text.strip() or html.strip()):
        raise PermanentError("email config field 'text': give a text or an html body")
    return subject, text, html


def render_message(
    config: EmailConfig,
    contact: Mapping[str, Any],
    studio: Mapping[str, Any],
    now: datetime,
    *,
    default_from: str | None = None,
) -> Rendered:
    """Render every template field and resolve the recipients (no sending)."""
    subject, text, html = _parts(config, studio)
    context = wedding_context(contact, studio, now)
    return Rendered(
        subject=" ".join(render("subject", subject, context).split()),
        text=render("text", text, context),
        html=render("html", html, context, html=True),
        to=_recipients(config, contact),
        cc=[_check_address("cc", a) for a in config.cc],
        bcc=[_check_address("bcc", a) for a in config.bcc],
        reply_to=_check_address("reply_to", config.reply_to) if config.reply_to else None,
        from_address=config.from_address or default_from,
    )


def preview(
    config: Any,
    contact: Mapping[str, Any],
    studio: Mapping[str, Any],
    now: datetime | None = None,
) -> dict[str, Any]:
    """Render an email action without sending it (the API's preview).

    :raises PermanentError: naming the field at fault, exactly as a send would.
    """
    decoded = decode_config(config, EmailConfig, NAME)
    rendered = render_message(decoded, contact, studio, now or datetime.now(UTC))
    return msgspec.to_builtins(rendered)  # type: ignore[no-any-return]


def message_id(idempotency_key: str, sender: str) -> str:
    """A ``Message-ID`` that is the same for every attempt of one action run."""
    domain = sender.rpartition("@")[2] or "aisle.invalid"
    # 128 bits in base32 keep the header on one line (a folded Message-ID confuses some
    # clients' threading).
    digest = hashlib.sha256(idempotency_key.encode()).digest()[:16]
    return f"<aisle.{base64.b32encode(digest).decode().rstrip('=').lower()}@{domain}>"


def build_message(
    rendered: Rendered, *, sender: str, idempotency_key: str, now: datetime
) -> EmailMessage:
    """The MIME message: ``multipart/alternative`` when there is HTML (its text part
    generated from the HTML when the config gave none)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(rendered.to)
    if rendered.cc:
        message["Cc"] = ", ".join(rendered.cc)
    if rendered.reply_to:
        message["Reply-To"] = rendered.reply_to
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = message_id(idempotency_key, _bare(sender))
    # The key itself too, so a mailbox (or a test) can match a message to its run.
    message["X-Aisle-Idempotency-Key"] = idempotency_key
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text or plain_text(rendered.html))
    if rendered.html:
        message.add_alternative(rendered.html, subtype="html")
    return message


def _check_sender(sender: str, field: str | None) -> None:
    if "\r" in sender or "\n" in sender or not _ADDRESS.match(_bare(sender)):
        where = f"email config field {field!r}" if field else "AISLE_SMTP_FROM"
        raise PermanentError(f"{where}: {sender!r} is not a sender address")


def _bare(sender: str) -> str:
    match = re.search(r"<([^>]+)>", sender)
    return match.group(1) if match else sender.strip()


def _flag(services: ActionServices, name: str) -> bool | None:
    raw = services.setting(name)
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise PermanentError(f"AISLE_{name.upper()} must be true or false, got {raw!r}")


class SmtpSettings(msgspec.Struct, frozen=True, kw_only=True):
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool
    starttls: bool | None
    sender: str | None
    ca_file: str | None
    timeout: float

    def __repr__(self) -> str:  # the password never reaches a log line
        return f"SmtpSettings(host={self.host!r}, port={self.port}, tls={self.tls})"


def smtp_settings(services: ActionServices) -> SmtpSettings:
    """The operator's SMTP settings; a missing host is a permanent configuration error."""
    host = services.setting("smtp_host")
    if not host:
        raise PermanentError("email: AISLE_SMTP_HOST is not set; the operator must configure SMTP")
    tls = bool(_flag(services, "smtp_tls"))
    starttls = False if tls else _flag(services, "smtp_starttls")
    raw_port = services.setting("smtp_port")
    try:
        port = int(raw_port) if raw_port else (465 if tls else 587 if starttls else 25)
        timeout = float(services.setting("smtp_timeout") or 30)
    except ValueError:
        raise PermanentError(
            "email: AISLE_SMTP_PORT and AISLE_SMTP_TIMEOUT must be numbers"
        ) from None
    return SmtpSettings(
        host=host,
        port=port,
        username=services.setting("smtp_username") or None,
        password=services.setting("smtp_password") or None,
        tls=tls,
        starttls=starttls,
        sender=services.setting("smtp_from") or None,
        ca_file=services.setting("smtp_ca_file") or None,
        timeout=timeout,
    )


def _smtp_error(exc: Exception, where: str) -> RetryableError | PermanentError:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        summary = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        if any(400 <= code < 500 for code in codes):
            return RetryableError(f"{where} deferred every recipient: {summary}")
        return PermanentError(f"{where} refused every recipient: {summary}")
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return PermanentError(
            f"{where} rejected the login ({exc.code}); check AISLE_SMTP_USERNAME/PASSWORD"
        )
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return PermanentError(f"{where}: {exc}")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        if 400 <= exc.code < 500:
            return RetryableError(f"{where} answered {exc.code} {exc.message}")
        return PermanentError(f"{where} answered {exc.code} {exc.message}")
    return RetryableError(f"{where} unreachable: {type(exc).__name__}: {exc}")


def check(config: Any, context: CheckContext) -> list[ConfigProblem]:
    """What stops email from leaving here: no SMTP host (unless messages are captured),
    no sender, or a sender that is not an address."""
    decoded = decode_config(config, EmailConfig, NAME)
    host = context.setting("smtp_host")
    try:
        capturing = context.captures(configured=bool(host))
    except ValueError as exc:
        return [ConfigProblem(message=str(exc), code="invalid_setting")]
    if capturing:
        return []
    problems: list[ConfigProblem] = []
    if not host:
        problems.append(
            ConfigProblem(
                message="no SMTP host is configured, so every email would fail: set "
                "AISLE_SMTP_HOST (and AISLE_SMTP_FROM), or AISLE_CAPTURE_MESSAGES=on to "
                "keep messages in the Messages list without sending them",
                code="no_smtp_host",
            )
        )
    sender = decoded.from_address or default_sender(context.studio, context.setting("smtp_from"))
    if not sender:
        problems.append(
            ConfigProblem(
                message="no sender address: set the studio's default_sender "
                "(PATCH /api/v1/settings) or AISLE_SMTP_FROM",
                code="no_sender",
            )
        )
    elif "\r" in sender or "\n" in sender or not _ADDRESS.match(_bare(sender)):
        where = "from_address" if decoded.from_address else None
        problems.append(
            ConfigProblem(
                message=f"{sender!r} is not a sender address"
                + ("" if where else ": fix AISLE_SMTP_FROM"),
                field=where,
                code="invalid_sender",
            )
        )
    return problems


def default_sender(studio: Mapping[str, Any], operator_default: str | None) -> str | None:
    """A step without ``from_address`` sends as the studio (its ``default_sender``
    setting), and only failing that as the operator's ``AISLE_SMTP_FROM``."""
    own = studio.get("default_sender")
    if isinstance(own, str) and own.strip():
        return own.strip()
    return operator_default or None


async def _capture(ctx: ActionContext, config: EmailConfig) -> ActionResult:
    """Keep the message, rendered as it would have been sent, instead of sending it."""
    rendered = await run_bounded(
        render_message,
        config,
        ctx.contact,
        ctx.studio,
        ctx.now,
        default_from=default_sender(ctx.studio, ctx.services.setting("smtp_from")),
        organization=ctx.organization_id,
        returns=Rendered,
    )
    text = rendered.text or plain_text(rendered.html)
    stored = await ctx.services.record_message(
        OutgoingMessage(
            channel="email",
            status="captured",
            to=rendered.to,
            subject=rendered.subject,
            text=text,
            html=rendered.html,
            sender=rendered.from_address,
            detail=_extras(rendered),
        )
    )
    return ActionResult(
        detail={
            "captured": True,
            "message": stored,
            "recipients": [*rendered.to, *rendered.cc, *rendered.bcc],
            "subject": rendered.subject,
        }
    )


def _extras(rendered: Rendered) -> dict[str, Any]:
    return {"cc": rendered.cc, "bcc": rendered.bcc, "reply_to": rendered.reply_to}


async def execute(ctx: ActionContext) -> ActionResult:
    """Render and send one email (or capture it: no SMTP host in the embedded default);
    a repeat of a sent run returns the first result."""
    config = decode_config(ctx.config, EmailConfig, NAME)
    sent = await ctx.services.recall(f"sent:{ctx.idempotency_key}")
    if sent is not None:
        return ActionResult(detail={**sent, "deduplicated": True})
    if ctx.services.captures(configured=bool(ctx.services.setting("smtp_host"))):
        return await _capture(ctx, config)
    smtp = smtp_settings(ctx.services)
    # Templates are user code: rendered off the event loop, under time and memory bounds.
    rendered = await run_bounded(
        render_message,
        config,
        ctx.contact,
        ctx.studio,
        ctx.now,
        default_from=default_sender(ctx.studio, smtp.sender),
        organization=ctx.organization_id,
        returns=Rendered,
    )
    if not rendered.from_address:
        raise PermanentError(
            "email: no sender; set the config's from_address, the studio's default_sender "
            "or AISLE_SMTP_FROM"
        )
    _check_sender(rendered.from_address, "from_address" if config.from_address else None)
    message = build_message(
        rendered, sender=rendered.from_address, idempotency_key=ctx.idempotency_key, now=ctx.now
    )
    recipients = [*rendered.to, *rendered.cc, *rendered.bcc]
    where = f"SMTP server {smtp.host}:{smtp.port}"
    client = aiosmtplib.SMTP(
        hostname=smtp.host,
        port=smtp.port,
        username=smtp.username,
        password=smtp.password,
        use_tls=smtp.tls,
        start_tls=smtp.starttls,
        cert_bundle=smtp.ca_file,
        timeout=smtp.timeout,
    )
    try:
        await client.connect()
        refused, response = await client.send_message(
            message, sender=_bare(rendered.from_address), recipients=recipients
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        client.close()
        raise _smtp_error(exc, where) from None
    except BaseException:
        # Cancelled (the run's time is up): drop the connection at once rather than
        # wait for a polite QUIT from a server that stopped answering.
        client.close()
        raise
    detail: dict[str, Any] = {
        "message_id": str(message["Message-ID"]),
        "recipients": recipients,
        "refused": {address: r.code for address, r in refused.items()},
        "response": response,
        "subject": rendered.subject,
    }
    await ctx.services.remember(f"sent:{ctx.idempotency_key}", detail)
    await _quit(client)
    # Recorded after it is remembered: should recording fail, the retry finds the
    # message sent and does not send it twice (the Messages list then lacks it).
    await ctx.services.record_message(
        OutgoingMessage(
            channel="email",
            status="sent",
            to=rendered.to,
            subject=rendered.subject,
            text=rendered.text or plain_text(rendered.html),
            html=rendered.html,
            sender=rendered.from_address,
            detail={**_extras(rendered), "message_id": detail["message_id"]},
        )
    )
    return ActionResult(detail=detail)


async def _quit(client: aiosmtplib.SMTP) -> None:
    """End the session politely; the message is already accepted whatever QUIT says."""
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        pass
    finally:
        client.close()


EXECUTOR = ActionExecutor(
    name=NAME,
    label="Send email",
    description="Send a templated email (text and HTML) to the couple over SMTP.",
    execute=execute,
    config=EmailConfig,
    messaging=True,
    max_attempts=8,
    timeout_seconds=60.0,
    preview=preview,
    check=check,
)
