"""The demo studio: its organization, the "Wedding photography client journey" and couples.

The journey is plain data (a :class:`~aisle.domain.Graph`) so tests, benches and
``aisle demo`` share one definition. It uses every built-in node type and every
built-in trigger type the way a photography studio would:

enquiry form → brochure email → wait 3 days (or move on by hand) → booked? → deposit
→ 30 days before the wedding: questionnaire → shot list → 7 days before: "see you
soon" → end; not booked: a follow-up email → end.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from aisle.domain.contact import Contact, Partner
from aisle.domain.journey import (
    Edge,
    EntryCriteria,
    ExitCriteria,
    Graph,
    JourneySettings,
    Position,
    Step,
)

__all__ = [
    "DEMO_JOURNEY_DESCRIPTION",
    "DEMO_JOURNEY_NAME",
    "DEMO_ORG_NAME",
    "DEMO_ORG_SETTINGS",
    "DEMO_ORG_TIMEZONE",
    "DEMO_SLUG",
    "demo_contacts",
    "demo_journey",
]

DEMO_SLUG = "demo"
DEMO_ORG_NAME = "Golden Hour Photography (demo)"
DEMO_ORG_TIMEZONE = "Europe/London"
DEMO_ORG_SETTINGS: dict[str, Any] = {
    "studio_name": "Golden Hour Photography",
    "email": "hello@goldenhour.example",
    "website": "https://goldenhour.example",
    "send_window": {"start": "08:00", "end": "20:00", "timezone": DEMO_ORG_TIMEZONE},
}
DEMO_JOURNEY_NAME = "Wedding photography client journey"
DEMO_JOURNEY_DESCRIPTION = (
    "From the enquiry form to the week before the wedding: brochure, booking decision, "
    "deposit, questionnaire and shot list."
)

# The condition the decision's "booked" branch tests; studios set `booked` from their
# CRM or by hand on the contact.
BOOKED = "has(contact.custom.booked) && contact.custom.booked == true"


def _step(step_id: str, type_: str, label: str, x: float, y: float, **config: Any) -> Step:
    return Step(id=step_id, type=type_, label=label, position=Position(x, y), config=config)


def _edge(
    source: str,
    target: str,
    trigger: str = "immediate",
    label: str = "",
    *,
    handle: str | None = None,
    priority: int = 0,
    **config: Any,
) -> Edge:
    return Edge(
        id=f"{source}-to-{target}" if trigger != "manual" else f"{source}-manual-{target}",
        source=source,
        target=target,
        trigger=trigger,
        config=config,
        source_handle=handle,
        priority=priority,
        label=label,
    )


def demo_journey() -> Graph:
    """The demo journey's graph; it validates without errors under the built-in types."""
    steps = (
        _step(
            "send_brochure",
            "email",
            "Send the brochure",
            0,
            0,
            to="couple",
            subject="Your wedding photography brochure from {{ studio.name }}",
            text=(
                "Hi {{ partner1.first_name or couple }},\n\n"
                "Thank you for your enquiry about {{ wedding_date or 'your wedding' }}! "
                "Our brochure with packages and prices is attached.\n\n"
                "{{ studio.name }}"
            ),
        ),
        _step(
            "wait_for_reply",
            "wait",
            "Give them three days",
            0,
            150,
            note="Time to read the brochure before we ask about booking.",
        ),
        _step("is_booked", "decision", "Booked?", 0, 300, question="Has the couple booked?"),
        _step(
            "request_deposit",
            "payment",
            "Request the deposit",
            -250,
            450,
            amount="500.00",
            currency="GBP",
            description="Booking deposit",
            due={"relative_to": "now", "days": 7},
        ),
        _step(
            "until_questionnaire",
            "wait",
            "Until 30 days before",
            -250,
            600,
        ),
        _step(
            "questionnaire",
            "client_action",
            "Wedding-day questionnaire",
            -250,
            750,
            title="Fill in the wedding-day questionnaire",
            instructions="Timings, family groups and the shots you would love.",
            form_id="questionnaire",
            partner_approval_required=True,
            due={"relative_to": "wedding_date", "days": -21},
        ),
        _step(
            "shot_list",
            "vendor_action",
            "Prepare the shot list",
            -250,
            900,
            vendor_type="photographer",
            title="Prepare the shot list from the questionnaire",
            due={"relative_to": "wedding_date", "days": -10},
            priority="high",
        ),
        _step("until_week_before", "wait", "Until 7 days before", -250, 1050),
        _step(
            "see_you_soon",
            "email",
            "See you soon",
            -250,
            1200,
            to="couple",
            subject="See you on {{ wedding.weekday }}!",
            text=(
                "Hi {{ couple }},\n\nOne week to go! We will arrive at {{ venue or 'the venue' }} "
                "an hour before the ceremony.\n\n{{ studio.name }}"
            ),
        ),
        _step("done", "end", "Wedding ready", -250, 1350, outcome="completed"),
        _step(
            "follow_up",
            "email",
            "Follow up",
            250,
            450,
            to="couple",
            subject="Still thinking it over?",
            text=(
                "Hi {{ couple }},\n\nWe would love to photograph your day. Reply to this "
                "email with any questions.\n\n{{ studio.name }}"
            ),
        ),
        _step("not_booked", "end", "Not booked", 250, 600, outcome="not_booked"),
    )
    edges = (
        _edge("send_brochure", "wait_for_reply"),
        _edge("wait_for_reply", "is_booked", "time_delay", "3 days later", days=3),
        _edge(
            "wait_for_reply",
            "is_booked",
            "manual",
            "They replied",
            priority=1,
            button="They replied: decide now",
        ),
        _edge(
            "is_booked",
            "request_deposit",
            "condition",
            "Booked",
            handle="booked",
            priority=1,
            expression=BOOKED,
        ),
        _edge("is_booked", "follow_up", "otherwise", "Not yet", handle="otherwise"),
        _edge(
            "request_deposit",
            "until_questionnaire",
            "payment_received",
            "Deposit paid",
            min_amount="500.00",
            currency="GBP",
        ),
        _edge(
            "until_questionnaire",
            "questionnaire",
            "date_reached",
            "30 days before the wedding",
            field="wedding_date",
            days=-30,
            at="09:00",
            zone="contact",
            if_past="fire_now",
        ),
        _edge(
            "questionnaire",
            "shot_list",
            "form_submission",
            "Questionnaire sent",
            form_id="questionnaire",
        ),
        _edge("shot_list", "until_week_before", "task_completed", "Shot list ready"),
        _edge(
            "until_week_before",
            "see_you_soon",
            "date_reached",
            "7 days before the wedding",
            field="wedding_date",
            days=-7,
            at="10:00",
        ),
        _edge("see_you_soon", "done"),
        _edge("follow_up", "not_booked"),
    )
    return Graph(
        steps=steps,
        edges=edges,
        settings=JourneySettings(
            start_step="send_brochure",
            entry=EntryCriteria(
                event_type="form.submitted",
                filter='has(event.payload.form_id) && event.payload.form_id == "enquiry"',
            ),
            exits=(
                ExitCriteria(
                    event_type="form.submitted",
                    filter='has(event.payload.form_id) && event.payload.form_id == "withdraw"',
                    name="Couple withdrew their enquiry",
                ),
            ),
            reenrollment="after_completion",
        ),
    )


def demo_contacts(today: date) -> list[Contact]:
    """Three couples with weddings at different distances from ``today``.

    Dates are relative so a demo seeded any day has weddings ahead of it.
    """

    def couple(first: str, second: str, last: str) -> tuple[Partner, ...]:
        domain = "example.com"
        return (
            Partner(first_name=first, last_name=last, email=f"{first.lower()}@{domain}"),
            Partner(first_name=second, last_name=last, email=f"{second.lower()}@{domain}"),
        )

    return [
        Contact(
            partners=couple("Amira", "Tom", "Okafor"),
            email="amira@example.com",
            phone="+447911123456",
            wedding_date=today + timedelta(days=45),
            venue="Kew Gardens, London",
            timezone="Europe/London",
            custom={"booked": True, "package": "Full day"},
        ),
        Contact(
            partners=couple("Sofia", "Luca", "Bianchi"),
            email="sofia@example.com",
            wedding_date=today + timedelta(days=200),
            venue="Villa Cimbrone, Ravello",
            timezone="Europe/Rome",
            custom={"booked": False},
        ),
        Contact(
            partners=couple("Jordan", "Sam", "Lee"),
            email="jordan@example.com",
            wedding_date=today + timedelta(days=320),
            venue="Brooklyn Botanic Garden",
            timezone="America/New_York",
            custom={"package": "Half day"},
        ),
    ]
