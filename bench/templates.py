"""What bounding templates costs: a typical wedding email rendered in-process (as before
templates ran in bounded workers) and through :func:`aisle.run_bounded` (as executors
and previews render it now: one round trip to a template worker)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from aisle import run_bounded
from aisle.testing.samples import sample_contact, sample_studio
from aisle_actions.mail import EmailConfig, Rendered, render_message
from bench.registry import Result, bench, from_samples

__all__ = ["EMAIL", "bounded_render", "inline_render"]

EMAIL = EmailConfig(
    to="couple",
    subject="{{ couple }}: {{ wedding.days_until }} days until {{ wedding.weekday }}!",
    text=(
        "Dear {{ partner1.first_name }}"
        "{% if partner2 %} and {{ partner2.first_name }}{% endif %},\n"
        "\nYour wedding at {{ venue }} is on {{ wedding_date }}.\n"
        "{% for partner in partners %}- {{ partner.name }} <{{ partner.email }}>\n{% endfor %}"
        "\nWarmly,\n{{ studio.name }}\n"
    ),
    html=(
        "<h1>{{ couple }}</h1><p>Dear {{ partner1.first_name }},</p>"
        "<p>See you at <b>{{ venue }}</b> on {{ wedding.date | date('medium') }}.</p>"
        "<ul>{% for partner in partners %}<li>{{ partner.name }}</li>{% endfor %}</ul>"
        "<p>{{ studio.name }}</p>"
    ),
)
NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)


def _rounds(quick: bool) -> int:
    return 30 if quick else 2000


@bench("templates.inline", "a wedding email (subject, text, html) rendered in-process")
def inline_render(quick: bool) -> Result:
    contact, studio = sample_contact().activation(), sample_studio()
    render_message(EMAIL, contact, studio, NOW)  # compile once, as a running server has
    samples = []
    for _ in range(_rounds(quick)):
        began = time.perf_counter()
        render_message(EMAIL, contact, studio, NOW)
        samples.append(time.perf_counter() - began)
    return from_samples("templates.inline", samples, unit="email")


@bench("templates.bounded", "the same email rendered in a bounded template worker")
def bounded_render(quick: bool) -> Result:
    contact, studio = sample_contact().activation(), sample_studio()

    async def measure() -> list[float]:
        async def once() -> Rendered:
            rendered: Rendered = await run_bounded(
                render_message, EMAIL, contact, studio, NOW, organization="bench", returns=Rendered
            )
            return rendered

        await once()  # start the workers and compile once
        samples = []
        for _ in range(_rounds(quick)):
            began = time.perf_counter()
            await once()
            samples.append(time.perf_counter() - began)
        return samples

    return from_samples("templates.bounded", asyncio.run(measure()), unit="email")
