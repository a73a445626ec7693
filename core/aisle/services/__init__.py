"""The services every entry point (API, CLI, jobs, dashboard) calls to change state:
publishing and migrating (:mod:`~aisle.services.lifecycle`), roles, readiness checks,
and the errors the API renders as problems. A regular package, so the import contracts
(``lint-imports``) see and check it.
"""
