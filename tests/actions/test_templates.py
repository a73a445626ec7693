"""Sandboxed message templates and the wedding context they see."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from aisle import PermanentError
from aisle.testing.samples import sample_contact, sample_studio
from aisle_actions.templates import check_template, render
from aisle_actions.wedding_context import format_date, wedding_context

NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)


@pytest.fixture
def context() -> dict[str, Any]:
    return wedding_context(sample_contact().activation(), sample_studio(), NOW)


def test_wedding_context_holds_the_couple_the_date_and_the_studio(
    context: dict[str, Any],
) -> None:
    assert context["couple"] == "Ada & Charles"
    assert context["partner1"]["name"] == "Ada Lovelace"
    assert context["partner2"]["email"] == "charles@example.com"
    assert context["wedding_date"] == "Saturday 12 September 2026"
    assert context["wedding"]["date_iso"] == "2026-09-12"
    assert context["wedding"]["days_until"] == 194
    assert context["venue"] == "The Assembly Rooms, Bath"
    assert context["studio"]["name"] == "Golden Hour Photography"
    assert context["custom"]["guests"] == 120
    assert context["timezone"] == "Europe/London"


def test_wedding_date_time_is_shown_in_the_couples_timezone() -> None:
    contact = {"wedding_date": "2026-09-12T23:30:00+00:00", "timezone": "Australia/Sydney"}
    context = wedding_context(contact, {"timezone": "UTC"}, NOW)
    # 23:30 UTC on the 12th is already the 13th in Sydney.
    assert context["wedding_date"] == "Sunday 13 September 2026"


def test_days_until_counts_local_days() -> None:
    contact = {"wedding_date": "2026-03-03", "timezone": "Pacific/Auckland"}
    # 11:30 UTC on 2 March is 00:30 on 3 March in Auckland: the wedding is today.
    context = wedding_context(contact, {}, datetime(2026, 3, 2, 11, 30, tzinfo=UTC))
    assert context["wedding"]["days_until"] == 0


def test_missing_values_render_as_blanks_not_errors() -> None:
    context = wedding_context({}, {}, NOW)
    assert render("subject", "Hi {{ couple }}{{ wedding_date }}", context) == "Hi "
    assert context["wedding"]["days_until"] is None


def test_renders_text_and_filters(context: dict[str, Any]) -> None:
    out = render(
        "text",
        "Dear {{ partner1.first_name }}, {{ wedding.date | date('medium') }} at {{ venue }}"
        " ({{ custom.package }})",
        context,
    )
    assert out == "Dear Ada, 12 September 2026 at The Assembly Rooms, Bath (full_day)"


def test_html_fields_escape_what_they_insert() -> None:
    context = wedding_context({"venue": "<script>alert(1)</script>"}, {}, NOW)
    assert render("html", "<p>{{ venue }}</p>", context, html=True) == (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    )
    assert render("text", "{{ venue }}", context) == "<script>alert(1)</script>"


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ couple.__class__ }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ partner1.__class__.__init__.__globals__ }}",
        "{% for c in ''.__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
        "{{ custom.update({'x': 1}) }}",
        "{{ partners.append(1) }}",
    ],
)
def test_reaching_for_python_internals_fails_naming_the_field(
    context: dict[str, Any], source: str
) -> None:
    with pytest.raises(PermanentError, match=r"template field 'subject'") as info:
        render("subject", source, context)
    assert "may not" in str(info.value) or "undefined" in str(info.value)


@pytest.mark.parametrize(
    "source",
    ["{{ 'x' * 100000000 }}", "{{ [1] * 100000000 }}", "{{ 2 ** 100000000 }}"],
)
def test_huge_values_are_refused(context: dict[str, Any], source: str) -> None:
    with pytest.raises(PermanentError, match="too large"):
        render("text", source, context)


def test_huge_ranges_are_refused(context: dict[str, Any]) -> None:
    with pytest.raises(PermanentError, match="template field 'text'"):
        render("text", "{% for i in range(10**9) %}x{% endfor %}", context)


def test_undefined_names_fail_and_list_what_is_available(context: dict[str, Any]) -> None:
    with pytest.raises(PermanentError, match=r"'brides_name' is undefined.*couple"):
        render("text", "Dear {{ brides_name }}", context)


def test_syntax_errors_name_field_and_line(context: dict[str, Any]) -> None:
    with pytest.raises(PermanentError, match=r"template field 'html', line 2"):
        render("html", "<p>ok</p>\n{{ couple ", context, html=True)
    with pytest.raises(PermanentError, match=r"template field 'text', line 1"):
        check_template("text", "{% if %}")


def test_errors_inside_expressions_are_permanent(context: dict[str, Any]) -> None:
    with pytest.raises(PermanentError, match="ZeroDivisionError"):
        render("text", "{{ 1 / 0 }}", context)


def test_format_date_styles() -> None:
    day = datetime(2026, 9, 12, tzinfo=UTC)
    assert format_date(day) == "Saturday 12 September 2026"
    assert format_date(day, "medium") == "12 September 2026"
    assert format_date(day, "iso") == "2026-09-12"
    with pytest.raises(ValueError, match="unknown date style"):
        format_date(day, "fancy")
