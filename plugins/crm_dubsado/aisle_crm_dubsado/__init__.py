"""Dubsado (via Zapier) for Aisle: a bridge provider, webhooks in and pushes out."""

from __future__ import annotations

from collections.abc import Iterable

from aisle import CRMProvider, hookimpl
from aisle_crm_dubsado.provider import DUBSADO

__all__ = ["DUBSADO", "aisle_crm_providers"]


@hookimpl
def aisle_crm_providers() -> Iterable[CRMProvider]:
    return [DUBSADO]
