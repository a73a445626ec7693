"""normalize_email and normalize_phone against the libraries they shortcut.

The fast paths (plain ASCII addresses, numbers already in E.164, the joined number-type
patterns, the cache) must give the answer the plain library calls give, to the byte,
for valid and invalid input alike: the value stored, or the error a studio reads.
"""

from __future__ import annotations

import functools
import itertools
import random

import email_validator
import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aisle.domain.addresses import InvalidAddress, normalize_email, normalize_phone


def library_email(raw: str) -> str:
    """What normalize_email answered before its fast path: the value, or the error."""
    try:
        checked = email_validator.validate_email(raw, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        return f"email: {raw!r} is not an email address: {exc}"
    return "ok " + str(checked.normalized)


def library_phone(raw: str, default_region: str | None) -> str:
    """What normalize_phone answered before its fast paths."""
    region = default_region.upper() if default_region else None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        hint = (
            ""
            if region or raw.strip().startswith("+")
            else " (no country code and no default region)"
        )
        return f"phone: {raw!r} is not a phone number{hint}: {exc}"
    if not phonenumbers.is_valid_number(number):
        return f"phone: {raw!r} is not a valid phone number"
    return "ok " + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def ours_email(raw: str) -> str:
    try:
        return "ok " + normalize_email(raw)
    except InvalidAddress as exc:
        return str(exc)


def ours_phone(raw: str, region: str | None) -> str:
    try:
        return "ok " + normalize_phone(raw, region)
    except InvalidAddress as exc:
        return str(exc)


LOCALS = [
    "jane",
    "Jane.Doe",
    "jane+wedding",
    "j_a-n.e",
    "a",
    "x" * 64,
    "x" * 65,
    "INFO",
    "Info",
    "postmaster",
    "PostMaster",
    "www",
    "sales.team",
    "!#$%&'*+-/=?^_`{|}~",
    ".jane",
    "jane.",
    "ja..ne",
    "",
    "ja ne",
    '"jane doe"',
    '"jane"',
    "jané",
    "用户",
    "jane\n",
    "ja@ne",
    "ja(ne)",
    "jane\u0301",
]
DOMAINS = [
    "example.com",
    "EXAMPLE.COM",
    "Mail.Example.Co.UK",
    "studio-name.wedding",
    "a.io",
    "a.b",
    "example.c0m",
    "example.123",
    "1.com",
    "a--b.com",
    "ab--cd.com",
    "xn--bcher-kva.ch",
    "XN--BCHER-KVA.CH",
    "xn--abc.com",
    "bücher.ch",
    "\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",
    "example\u3002com",
    "-a.com",
    "a-.com",
    "a..com",
    ".a.com",
    "a.com.",
    "com",
    "localhost",
    "x.localhost",
    "x.local",
    "x.LOCAL",
    "x.test",
    "x.onion",
    "x.invalid",
    "x.arpa",
    "home.arpa",
    "x.example",
    "[192.0.2.1]",
    "[IPv6:2001:db8::1]",
    ("l" * 63) + ".com",
    ("l" * 64) + ".com",
    ".".join(["a" * 60] * 4) + ".com",
    ".".join(["a" * 61] * 4) + ".com",
    "exa_mple.com",
    "exa mple.com",
    "",
    "example.com>",
]


def test_email_corpus_matches_email_validator() -> None:
    cases = [f"{local}@{domain}" for local, domain in itertools.product(LOCALS, DOMAINS)]
    cases += [
        "Jane Doe <jane@example.com>",
        "<jane@example.com>",
        "jane@@example.com",
        "jane",
        "",
        " jane@example.com",
        "jane@example.com ",
        "jane@example.com\n",
        "jane\uff20example.com",
        ("a" * 64) + "@" + ".".join(["b" * 63] * 3) + ".co",
        ("a" * 60) + "@" + ".".join(["b" * 63] * 3) + ".com",
    ]
    fast = 0
    for raw in cases:
        expected = library_email(raw)
        assert ours_email(raw) == expected, raw
        fast += expected.startswith("ok")
    # The corpus exercises both answers, not only refusals.
    assert fast > 200


_EMAIL_ALPHABET = st.sampled_from(
    [*"abcXYZ019.-_+@\"' <>[]:!#~", "é", "\u0301", "\uff45", "\u3002", "\n", "xn--", ".com", "--"]
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(_EMAIL_ALPHABET, min_size=0, max_size=30).map("".join))
def test_any_email_matches_email_validator(raw: str) -> None:
    assert ours_email(raw) == library_email(raw)


@settings(max_examples=800, deadline=None)
@given(
    st.from_regex(r"[a-zA-Z0-9.+_-]{1,70}", fullmatch=True),
    st.from_regex(r"([a-zA-Z0-9-]{1,65}\.){1,4}[a-zA-Z0-9-]{1,10}", fullmatch=True),
)
def test_plain_looking_emails_match_email_validator(local: str, domain: str) -> None:
    raw = f"{local}@{domain}"
    assert ours_email(raw) == library_email(raw)


@functools.cache
def _phone_corpus() -> tuple[str, ...]:
    """Example numbers of every type in every region, written every way, and near misses."""
    rng = random.Random(13)
    cases: list[str] = []
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    codes = sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS)
    examples = []
    for region in regions:
        for kind in phonenumbers.PhoneNumberType.values():
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                examples.append(number)
    for code in codes:
        number = phonenumbers.example_number_for_non_geo_entity(code)
        if number is not None:
            examples.append(number)
    formats = (
        phonenumbers.PhoneNumberFormat.E164,
        phonenumbers.PhoneNumberFormat.INTERNATIONAL,
        phonenumbers.PhoneNumberFormat.NATIONAL,
    )
    for number in examples:
        for fmt in formats:
            cases.append(phonenumbers.format_number(number, fmt))
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        cc = str(number.country_code)
        nsn = e164[1 + len(cc) :]
        cases += [
            e164[:-1],
            e164 + "1",
            e164[:-1] + str((int(e164[-1]) + 1) % 10),
            f"+{cc}0{nsn}",
            f"+{cc}00{nsn}",
            f"+{cc}{nsn[:2]}{rng.randrange(10**7):07d}",
            e164[:3] + e164[4:],
            f" {e164}",
            f"{e164} ",
            f"+{cc} {nsn}",
            f"00{cc}{nsn}",
            f"{cc}{nsn}",
            f"tel:{e164}",
            f"{e164} ext. 12",
        ]
    for _ in range(1000):
        size = rng.randint(1, 17)
        cases.append("+" + str(rng.randint(1, 9)) + "".join(rng.choices("0123456789", k=size)))
    cases += [
        "",
        "+",
        "+0",
        "+1",
        "phone",
        "+44 7700 900123",
        "+447700900123",
        "+\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",
    ]
    return tuple(cases)


PHONE_REGIONS = [None, "GB", "us", "DE", "IT", "FR", "AU", "IN", "BR", "CA", "JP", "ZZ", "XX"]


@pytest.mark.parametrize("region", PHONE_REGIONS)
def test_phone_corpus_matches_phonenumbers(region: str | None) -> None:
    valid = 0
    for raw in _phone_corpus():
        expected = library_phone(raw, region)
        assert ours_phone(raw, region) == expected, (raw, region)
        # Asked twice: the cached answer is the same one.
        assert ours_phone(raw, region) == expected, (raw, region)
        valid += expected.startswith("ok")
    assert valid > 3000


@settings(max_examples=1000, deadline=None)
@given(
    st.from_regex(r"\+?[0-9 ()+-]{0,20}", fullmatch=True),
    st.sampled_from(PHONE_REGIONS),
)
def test_any_phone_matches_phonenumbers(raw: str, region: str | None) -> None:
    assert ours_phone(raw, region) == library_phone(raw, region)


def test_a_cached_refusal_names_each_callers_field() -> None:
    with pytest.raises(InvalidAddress) as first:
        normalize_phone("+44 7700 900123", None, "partners[0].phone")
    with pytest.raises(InvalidAddress) as second:
        normalize_phone("+44 7700 900123", None, "to")
    assert first.value.field == "partners[0].phone"
    assert second.value.field == "to"
    assert (
        first.value.reason == second.value.reason == "'+44 7700 900123' is not a valid phone number"
    )
