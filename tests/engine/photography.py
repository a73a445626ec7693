"""A realistic wedding photography client journey, used by simulation and property tests."""

from __future__ import annotations

from aisle.domain import EntryCriteria, ExitCriteria, Graph

from .graphs import edge, graph, step

__all__ = ["photography_journey"]


def photography_journey() -> Graph:
    """Enquiry → brochure → 3 days → booked? → deposit → questionnaire 30 days before the
    wedding → shot list → "see you soon" a week before → delivered; or a follow-up and
    lost; a deposit reminder after a week, and lost if it never comes."""
    return graph(
        [
            step("brochure", "email", label="Send brochure", subject="Our brochure", text="…"),
            step("pause", "wait", label="Give them 3 days"),
            step("booked", "decision", label="Booked?", question="Did they book a call?"),
            step(
                "deposit",
                "payment",
                label="Deposit",
                amount="500.00",
                currency="EUR",
                due={"relative_to": "now", "days": 7},
            ),
            step(
                "reminder",
                "email",
                label="Deposit reminder",
                subject="Your deposit",
                text="A gentle reminder",
            ),
            step("awaiting", "wait", label="Awaiting deposit"),
            step("until_questionnaire", "wait", label="Until 30 days before"),
            step(
                "questionnaire",
                "client_action",
                label="Questionnaire",
                title="Fill in the wedding questionnaire",
                form_id="questionnaire",
                partner_approval_required=True,
                due={"relative_to": "wedding_date", "days": -21},
            ),
            step(
                "shot_list",
                "vendor_action",
                label="Prepare shot list",
                vendor_type="photographer",
                title="Prepare the shot list",
                priority="high",
                due={"relative_to": "wedding_date", "days": -10},
            ),
            step("until_week", "wait", label="Until a week before"),
            step(
                "see_you",
                "email",
                label="See you soon",
                subject="See you on {{ wedding_date }}",
                text="We can't wait",
            ),
            step("delivered", "end", outcome="delivered"),
            step(
                "follow_up",
                "email",
                label="Follow up",
                subject="Still thinking?",
                text="Happy to help",
            ),
            step("lost", "end", outcome="lost"),
            step("no_deposit", "end", outcome="no_deposit"),
        ],
        [
            edge("e-brochure", "brochure", "pause"),
            edge("e-3days", "pause", "booked", "time_delay", days=3),
            edge("e-yes", "booked", "deposit", "condition", expression="contact.custom.booked"),
            edge("e-no", "booked", "follow_up", "otherwise", handle="otherwise"),
            edge("e-follow", "follow_up", "lost"),
            edge(
                "e-paid",
                "deposit",
                "until_questionnaire",
                "payment_received",
                min_amount="500.00",
                currency="EUR",
                priority=10,
            ),
            edge("e-remind", "deposit", "reminder", "time_delay", days=7),
            edge("e-reminded", "reminder", "awaiting"),
            edge(
                "e-paid-late",
                "awaiting",
                "until_questionnaire",
                "payment_received",
                min_amount="500.00",
                currency="EUR",
            ),
            edge("e-give-up", "awaiting", "no_deposit", "time_delay", days=14),
            edge("e-30", "until_questionnaire", "questionnaire", "date_reached", days=-30),
            edge(
                "e-answered",
                "questionnaire",
                "shot_list",
                "form_submission",
                form_id="questionnaire",
            ),
            edge("e-shots", "shot_list", "until_week", "task_completed"),
            edge("e-7", "until_week", "see_you", "date_reached", days=-7),
            edge("e-done", "see_you", "delivered"),
        ],
        start="brochure",
        entry=EntryCriteria(
            event_type="form.submitted", filter='event.payload.form_id == "enquiry"'
        ),
        exits=(
            ExitCriteria(event_type="booking.cancelled", name="cancelled"),
            ExitCriteria(
                event_type="contact.updated",
                filter='has(event.payload.stage) && event.payload.stage == "archived"',
                name="archived",
            ),
        ),
    )
