"""Where the dashboard lives in the app's URL space."""

__all__ = ["BASE", "STATIC"]

BASE = "/dashboard"
STATIC = f"{BASE}/static"
