"""The dashboard's main navigation: one entry per page that exists, in the order shown.

A page module adds its entry here; the base template marks the current one with
``aria-current`` (the ``active`` key a page passes to :func:`~aisle_dashboard.rendering.page`).
"""

from __future__ import annotations

from dataclasses import dataclass

from aisle_dashboard.paths import API_REFERENCE, BASE

__all__ = ["NAV", "NavItem"]


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    href: str


NAV: tuple[NavItem, ...] = (
    NavItem("overview", "Overview", f"{BASE}/"),
    NavItem("journeys", "Journeys", f"{BASE}/journeys"),
    NavItem("couples", "Couples", f"{BASE}/couples"),
    NavItem("runs", "Runs", f"{BASE}/runs"),
    NavItem("tasks", "Tasks", f"{BASE}/tasks"),
    NavItem("log", "Log", f"{BASE}/log"),
    NavItem("messages", "Messages", f"{BASE}/messages"),
    NavItem("crm", "CRM", f"{BASE}/crm"),
    NavItem("collaboration", "Collaboration", f"{BASE}/collaboration"),
    NavItem("plugins", "Plugins", f"{BASE}/plugins"),
    NavItem("settings", "Settings", f"{BASE}/settings"),
    NavItem("api", "API reference", API_REFERENCE),
)
