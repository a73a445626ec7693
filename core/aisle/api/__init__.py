"""The Litestar HTTP API (``/api/v1``): journeys as React Flow JSON, runtime, security."""

from aisle.api.app import create_app

__all__ = ["create_app"]
