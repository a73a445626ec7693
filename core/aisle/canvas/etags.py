"""Draft revisions as HTTP entity tags, and the ``If-Match`` / ``If-None-Match`` checks."""

from __future__ import annotations

from aisle.services.errors import Refused

__all__ = ["etag", "if_none_match_hits", "required_revision"]


def etag(journey_id: str, revision: int) -> str:
    """The strong ETag of a journey draft at ``revision``."""
    return f'"{journey_id}.r{revision}"'


def _tags(header: str) -> list[str]:
    return [part.strip() for part in header.split(",") if part.strip()]


def required_revision(if_match: str | None, journey_id: str, current: int) -> int | None:
    """The revision ``If-Match`` pins, checked against ``current``.

    Missing → 428; a list without the current tag → 412 naming the current ETag;
    ``*`` → ``None`` (any revision). Weak tags never match (RFC 9110 §13.1.1).
    """
    current_tag = etag(journey_id, current)
    if if_match is None or not if_match.strip():
        raise Refused(
            428,
            "send If-Match with the ETag of the flow you edited (GET …/flow returns it), "
            "so a concurrent edit is not overwritten",
            extra={"etag": current_tag},
        )
    tags = _tags(if_match)
    if "*" in tags:
        return None
    if current_tag in tags:
        return current
    raise Refused(
        412,
        f"the flow changed since you read it: it is now at revision {current} "
        f"(ETag {current_tag}); read it again or send operations instead",
        extra={"etag": current_tag, "revision": current},
        headers={"ETag": current_tag},
    )


def if_none_match_hits(if_none_match: str | None, current_tag: str) -> bool:
    """Whether a conditional GET may answer 304 (weak comparison, RFC 9110 §13.1.2)."""
    if not if_none_match:
        return False
    tags = [t.removeprefix("W/") for t in _tags(if_none_match)]
    return "*" in tags or current_tag in tags
