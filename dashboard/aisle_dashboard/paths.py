"""Where the dashboard lives in the app's URL space."""

__all__ = ["API_REFERENCE", "BASE", "OPENAPI_JSON", "STATIC", "VENDOR"]

BASE = "/dashboard"
STATIC = f"{BASE}/static"
VENDOR = f"{STATIC}/vendor"
API_REFERENCE = f"{BASE}/api"
OPENAPI_JSON = "/schema/openapi.json"
"""The app's OpenAPI document (Litestar's, from ``create_app``), which the reference shows."""
