"""What the dashboard reads that the API answers with ids: the names behind those ids
(journeys, steps, couples, people and tokens acting), and single records looked up
without a 404 (a page for an unknown id is a page saying so).

Names are read in one query per kind for a whole page of rows; a studio's journeys are
few (their drafts carry the step labels), couples and actors are looked up by the ids
on the page only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from aisle.domain.action_run import ActionRun
from aisle.domain.contact import Contact
from aisle.domain.enrollment_record import Enrollment
from aisle.domain.journey_record import Journey
from aisle.storage.errors import NotFound
from aisle.storage.messages import Message
from aisle.storage.store import OrgScope

__all__ = ["Message", "Names", "StudioReads", "couple_name"]


def couple_name(contact: Contact) -> str:
    """How a person reads a couple: the partners' names, else the email, else the id."""
    people = [
        " ".join(part for part in (p.first_name, p.last_name) if part) for p in contact.partners
    ]
    named = " & ".join(p for p in people if p)
    return named or contact.email or contact.phone or contact.id


@dataclass(frozen=True)
class Names:
    """Names for the ids on one page; an id not found reads as itself."""

    journeys: dict[str, str] = field(default_factory=dict)
    steps: dict[tuple[str, str], str] = field(default_factory=dict)
    """By (journey id, step id): the step's label in the journey's draft."""
    couples: dict[str, str] = field(default_factory=dict)
    actors: dict[str, str] = field(default_factory=dict)

    def journey(self, journey_id: str | None) -> str:
        return self.journeys.get(journey_id, journey_id) if journey_id else ""

    def step(self, journey_id: str | None, step_id: str | None) -> str:
        if not step_id:
            return ""
        return self.steps.get((journey_id or "", step_id), step_id)

    def couple(self, contact_id: str | None) -> str:
        return self.couples.get(contact_id, contact_id) if contact_id else ""

    def actor(self, actor: str) -> str:
        return self.actors.get(actor, actor)

    def message(self, text: str) -> str:
        """A log line with the journey and couple ids it mentions replaced by names."""
        for known in (self.journeys, self.couples):
            for key, name in known.items():
                if key in text:
                    text = text.replace(key, name)
        return text


class StudioReads:
    """Reads over one organization's ``scope`` (any role may read what it shows)."""

    def __init__(self, scope: OrgScope) -> None:
        self.scope = scope

    async def journeys(self) -> list[Journey]:
        """The studio's journeys, by name."""
        return sorted(await self.scope.journeys.list(), key=lambda j: j.name.lower())

    async def names(
        self,
        *,
        contact_ids: Iterable[str | None] = (),
        actors: Iterable[str] = (),
    ) -> Names:
        """Every journey's and step's name, and those of the couples and actors given."""
        journeys = await self.scope.journeys.list(include_deleted=True)
        steps = {(j.id, s.id): s.label or s.id for j in journeys for s in j.draft.steps}
        wanted = sorted({c for c in contact_ids if c})
        couples = (
            {c.id: couple_name(c) for c in await self.scope.contacts.find_many(ids=wanted)}
            if wanted
            else {}
        )
        return Names(
            journeys={j.id: j.name for j in journeys},
            steps=steps,
            couples=couples,
            actors=await self._actor_names(set(actors)),
        )

    async def _actor_names(self, actors: set[str]) -> dict[str, str]:
        names: dict[str, str] = {}
        users = (
            {u.id: u for u in await self.scope.users.list()}
            if any(a.startswith("user:") for a in actors)
            else {}
        )
        tokens = (
            {t.id: t for t in await self.scope.tokens.list(include_revoked=True)}
            if any(a.startswith("token:") for a in actors)
            else {}
        )
        for actor in actors:
            kind, _, key = actor.partition(":")
            if kind == "user" and key in users:
                names[actor] = users[key].name or users[key].email
            elif kind == "token" and key in tokens:
                names[actor] = f"API token “{tokens[key].name}”"
        return names

    async def run(self, run_id: str) -> ActionRun | None:
        try:
            return await self.scope.action_runs.get(run_id)
        except NotFound:
            return None

    async def message(self, message_id: str) -> Message | None:
        try:
            return await self.scope.messages.get(message_id)
        except NotFound:
            return None

    async def enrollment(self, enrollment_id: str) -> Enrollment | None:
        try:
            return await self.scope.enrollments.get(enrollment_id)
        except NotFound:
            return None
