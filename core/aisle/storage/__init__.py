"""Persistence: piccolo tables, migrations and organization-scoped data access."""
