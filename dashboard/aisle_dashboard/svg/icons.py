"""Our own icons for node types, as SVG ``<symbol>`` elements (24 by 24, stroked).

A node type names its icon (``NodeType.icon``, e.g. ``mail``) and a category
(``message``, ``task``, ``logic``, ``flow``, ``integration``, ``action``); a type whose
icon we do not draw gets its category's, and an unknown category the generic one.
"""

from __future__ import annotations

from collections.abc import Iterable

from aisle_dashboard.svg.markup import attr

__all__ = ["CATEGORY_ICONS", "ICONS", "icon_for", "symbols"]

ICONS: dict[str, str] = {
    "mail": '<rect x="3" y="5" width="18" height="14" rx="2"/><path d="M3 7l9 6 9-6"/>',
    "message-square": '<path d="M4 4h16v12H9l-5 4z"/>',
    "clipboard-check": (
        '<rect x="5" y="4" width="14" height="17" rx="2"/><path d="M9 4V2h6v2"/>'
        '<path d="M9 13l2 2 4-4"/>'
    ),
    "heart-handshake": (
        '<path d="M12 20s-8-5-8-11a4 4 0 0 1 8-1 4 4 0 0 1 8 1c0 6-8 11-8 11z"/>'
        '<path d="M8 11l3 3 5-5"/>'
    ),
    "git-branch": (
        '<circle cx="6" cy="5" r="2"/><circle cx="6" cy="19" r="2"/><circle cx="18" cy="8" r="2"/>'
        '<path d="M6 7v10"/><path d="M18 10c0 5-12 3-12 7"/>'
    ),
    "credit-card": '<rect x="2" y="5" width="20" height="14" rx="2"/><path d="M2 10h20M6 15h4"/>',
    "webhook": (
        '<circle cx="6" cy="17" r="3"/><circle cx="18" cy="17" r="3"/>'
        '<circle cx="12" cy="6" r="3"/>'
        '<path d="M9 17h6M7.5 14.5 10.5 8.5M16.5 14.5 13.5 8.5"/>'
    ),
    "database": (
        '<ellipse cx="12" cy="5" rx="8" ry="3"/><path d="M4 5v14c0 1.7 3.6 3 8 3s8-1.3 8-3V5"/>'
        '<path d="M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3"/>'
    ),
    "timer": '<circle cx="12" cy="13" r="8"/><path d="M12 13V9M10 2h4M12 5V2"/>',
    "flag": '<path d="M5 22V3"/><path d="M5 4h12l-3 4 3 4H5"/>',
    "bolt": '<path d="M13 2 4 14h7l-1 8 9-12h-7z"/>',
    "square": '<rect x="4" y="4" width="16" height="16" rx="3"/>',
}

CATEGORY_ICONS: dict[str, str] = {
    "message": "mail",
    "task": "clipboard-check",
    "logic": "git-branch",
    "flow": "timer",
    "integration": "webhook",
    "action": "bolt",
}


def icon_for(icon: str, category: str) -> str:
    """The name of the icon we draw for a type's ``icon`` and ``category``."""
    if icon in ICONS:
        return icon
    return CATEGORY_ICONS.get(category, "square")


def symbols(names: Iterable[str], prefix: str) -> str:
    """``<symbol>`` definitions for ``names`` (ids ``{prefix}-icon-{name}``)."""
    out = []
    for name in sorted(set(names)):
        out.append(
            f'<symbol id="{attr(prefix)}-icon-{attr(name)}" viewBox="0 0 24 24" fill="none" '
            'stroke="currentColor" stroke-width="2" stroke-linecap="round" '
            f'stroke-linejoin="round">{ICONS[name]}</symbol>'
        )
    return "".join(out)
