"""The Litestar HTTP API (``/api/v1``)."""
