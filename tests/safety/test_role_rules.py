"""Pins on the role rules (``services/roles.py``), every role against every other: who
may act, who may hand out which role, and what a refusal says. The route-by-route matrix is
``tests/api/test_role_matrix.py``; these are the rules it rests on."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from aisle.api.context import Caller
from aisle.domain.user import ROLES
from aisle.services.errors import Refused
from aisle.services.roles import ensure_journey_role, ensure_may_manage, ensure_role, grantable

PAIRS = list(itertools.product(ROLES, ROLES))


def caller(role: str, user_id: str | None = "u1") -> Caller:
    return Caller(organization_id="org", role=role, token_id="t1", user_id=user_id)  # type: ignore[arg-type]


def _refusal(call: Any) -> Refused | None:
    try:
        call()
    except Refused as refused:
        return refused
    return None


@pytest.mark.parametrize(("role", "needed"), PAIRS)
def test_ensure_role_lets_equal_and_higher_roles_through(role: str, needed: str) -> None:
    refused = _refusal(lambda: ensure_role(caller(role), needed, "doing x"))  # type: ignore[arg-type]
    if ROLES.index(role) >= ROLES.index(needed):
        assert refused is None
    else:
        assert refused is not None and refused.status == 403
        assert refused.extra == {"required_role": needed}
        assert refused.detail == f"doing x needs the {needed!r} role; this token has {role!r}"


def test_an_unknown_role_is_refused_everything() -> None:
    for needed in ROLES:
        assert _refusal(lambda n=needed: ensure_role(caller("superuser"), n)) is not None  # type: ignore[misc]


@pytest.mark.parametrize(("role", "granted"), PAIRS)
def test_a_role_may_grant_up_to_its_own(role: str, granted: str) -> None:
    refused = _refusal(lambda: grantable(caller(role), granted))  # type: ignore[arg-type]
    if ROLES.index(granted) <= ROLES.index(role):
        assert refused is None
    else:
        assert refused is not None and refused.status == 403
        assert refused.extra == {"required_role": granted}
        assert refused.detail == f"a {role!r} cannot grant the {granted!r} role"


@pytest.mark.parametrize(("role", "managed"), PAIRS)
def test_managing_a_role_needs_admin_and_at_least_that_role(role: str, managed: str) -> None:
    refused = _refusal(lambda: ensure_may_manage(caller(role), managed, "adding users"))  # type: ignore[arg-type]
    allowed = ROLES.index(role) >= ROLES.index("admin") and ROLES.index(managed) <= ROLES.index(
        role
    )
    assert (refused is None) is allowed
    if refused is not None and ROLES.index(role) < ROLES.index("admin"):
        assert refused.extra == {"required_role": "admin"}
        assert refused.detail.startswith("adding users needs the 'admin' role")


@pytest.mark.parametrize(("role", "needed"), PAIRS)
def test_a_refusal_without_a_purpose_names_the_request(role: str, needed: str) -> None:
    refused = _refusal(lambda: ensure_role(caller(role), needed))  # type: ignore[arg-type]
    assert (refused is None) is (ROLES.index(role) >= ROLES.index(needed))
    if refused is not None:
        assert refused.extra == {"required_role": needed}
        assert refused.detail == f"this request needs the {needed!r} role; this token has {role!r}"


class _Collaborators:
    def __init__(self, roles: dict[tuple[str, str], str]) -> None:
        self.roles = roles
        self.asked: list[tuple[str, str]] = []

    async def role(self, journey_id: str, user_id: str) -> str | None:
        self.asked.append((journey_id, user_id))
        return self.roles.get((journey_id, user_id))


@pytest.mark.parametrize(("extra", "needed"), list(itertools.product([None, *ROLES], ROLES)))
async def test_a_collaborator_role_raises_a_viewer_on_its_journey_only(
    extra: str | None, needed: str
) -> None:
    roles = {("j1", "u1"): extra} if extra else {}
    viewer, collaborators = caller("viewer", "u1"), _Collaborators(roles)  # type: ignore[arg-type]
    here = await _async_refusal(ensure_journey_role(viewer, collaborators, "j1", needed, "editing"))  # type: ignore[arg-type]
    elsewhere = await _async_refusal(
        ensure_journey_role(viewer, collaborators, "j2", needed, "editing")
    )  # type: ignore[arg-type]
    raised = max(ROLES.index("viewer"), ROLES.index(extra) if extra else 0)
    assert (here is None) is (raised >= ROLES.index(needed))
    assert (elsewhere is None) is (needed == "viewer")
    for refused in (here, elsewhere):
        if refused is not None:
            assert refused.extra == {"required_role": needed}
            assert refused.detail == f"editing needs the {needed!r} role; this token has 'viewer'"


async def test_a_collaborator_role_never_lowers_the_organization_role() -> None:
    collaborators = _Collaborators({("j1", "u1"): "viewer"})
    admin = caller("admin", "u1")
    assert await _async_refusal(ensure_journey_role(admin, collaborators, "j1", "admin")) is None  # type: ignore[arg-type]
    assert collaborators.asked == []  # the organization role sufficed: no lookup


async def test_a_token_without_a_user_has_no_collaborator_role() -> None:
    collaborators = _Collaborators({("j1", "u1"): "owner"})
    token = caller("viewer", None)
    refused = await _async_refusal(ensure_journey_role(token, collaborators, "j1", "editor"))  # type: ignore[arg-type]
    assert refused is not None and collaborators.asked == []
    assert refused.detail == "this request needs the 'editor' role; this token has 'viewer'"


async def _async_refusal(call: Any) -> Refused | None:
    try:
        await call
    except Refused as refused:
        return refused
    return None
