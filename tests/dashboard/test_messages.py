"""The messages pages: what was captured or sent, with the couple's name, shown rendered
(HTML in a sandboxed frame, escaped into srcdoc; and the text)."""

from __future__ import annotations

import httpx
import pytest

from aisle.storage.store import OrgScope, Store

from .studio import couple, studio

pytestmark = pytest.mark.asyncio


async def _message(scope: OrgScope, status: str, subject: str, contact_id: str) -> str:
    run, _ = await scope.action_runs.create(
        executor="email", config={}, idempotency_key=subject, contact_id=contact_id
    )
    message, _ = await scope.messages.record(
        channel="email",
        status=status,  # type: ignore[arg-type]
        to=["ana@example.com"],
        sender="studio@example.com",
        subject=subject,
        text="Hello Ana,\nyour brochure.",
        html='<p style="color:red">Hello <b>Ana</b> &amp; "Ben"</p><script>alert(1)</script>',
        executor="email",
        action_run_id=run.id,
        contact_id=contact_id,
    )
    return message.id


async def test_a_captured_email_is_listed_and_shown_rendered_in_a_sandbox(
    store: Store, browser: httpx.AsyncClient
) -> None:
    scope = await studio(store, browser, "mail", role="viewer")
    ana = await couple(scope, "Ana", "Ben", "ana@example.com")
    captured = await _message(scope, "captured", "Your brochure", ana.id)
    sent = await _message(scope, "sent", "Welcome", ana.id)

    listed = await browser.get("/dashboard/messages")
    assert listed.status_code == 200
    assert f'href="/dashboard/messages/{captured}">Your brochure</a>' in listed.text
    assert "Ana Ng &amp; Ben" in listed.text
    only_captured = await browser.get("/dashboard/messages", params={"status": "captured"})
    assert "Your brochure" in only_captured.text and "Welcome" not in only_captured.text

    shown = await browser.get(f"/dashboard/messages/{captured}")
    assert shown.status_code == 200
    html = shown.text
    assert "nobody received it" in html
    # The mail's HTML is an attribute value: escaped, so its quotes and tags cannot
    # leave the srcdoc; and the frame is sandboxed (no scripts).
    assert (
        'sandbox srcdoc="&lt;p style=&#34;color:red&#34;&gt;Hello &lt;b&gt;Ana&lt;/b&gt; '
        "&amp;amp; &#34;Ben&#34;&lt;/p&gt;&lt;script&gt;" in html
    )
    assert "<script>alert" not in html
    assert "Hello Ana,\nyour brochure." in html
    assert "/dashboard/runs/" in html
    assert sent not in html


async def test_another_studios_message_is_not_found(
    store: Store, browser: httpx.AsyncClient
) -> None:
    await studio(store, browser, "mine")
    other = store.for_org(await store.organizations.create(slug="other", name="Other"))
    theirs = await _message(
        other, "captured", "Private", (await couple(other, "C", "D", "c@x.org")).id
    )
    assert (await browser.get(f"/dashboard/messages/{theirs}")).status_code == 404
    assert "Private" not in (await browser.get("/dashboard/messages")).text
