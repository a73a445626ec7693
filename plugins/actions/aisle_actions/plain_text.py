"""A plain-text part for HTML-only mail, so text-only readers and spam filters get one.

Uses inscriptis (Apache-2.0), which lays out lists and tables as text and keeps each
link's address beside its words.
"""

from __future__ import annotations

from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig

__all__ = ["plain_text"]

_CONFIG = ParserConfig(css=CSS_PROFILES["relaxed"], display_links=True)


def plain_text(html: str) -> str:
    """``html`` as readable text (empty for empty or blank markup)."""
    if not html.strip():
        return ""
    return get_text(html, _CONFIG).strip() + "\n"
