"""The ``to`` names the email and SMS actions share, read for either channel."""

from __future__ import annotations

from aisle_actions.recipients import named_recipients

CONTACT = {
    "email": "us@example.com",
    "phone": "+441000",
    "partners": [
        {"first_name": "Amira", "email": "amira@example.com", "phone": "+441111"},
        {"first_name": "Tom", "email": "tom@example.com"},
    ],
}


def test_names_resolve_per_channel_in_order() -> None:
    assert named_recipients("couple", CONTACT, "email", None) == [
        "amira@example.com",
        "tom@example.com",
    ]
    assert named_recipients("couple", CONTACT, "phone", None) == ["+441111"]
    assert named_recipients(" partner2 , contact", CONTACT, "email", None) == [
        "tom@example.com",
        "us@example.com",
    ]
    assert named_recipients(["vendor", "planner@example.com"], CONTACT, "email", "v@x.io") == [
        "v@x.io",
        "planner@example.com",
    ]


def test_what_the_contact_lacks_resolves_to_nothing() -> None:
    assert named_recipients("partner2", CONTACT, "phone", None) == []  # Tom has no phone
    assert named_recipients("vendor", CONTACT, "phone", None) == []
    assert named_recipients("couple", {"phone": "+449"}, "phone", None) == ["+449"]
    assert named_recipients("couple, ,", {}, "email", None) == []
