"""The Litestar application factory: :func:`create_app`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from aisle import bounded
from aisle.api.auth import BearerAuthMiddleware
from aisle.api.bodies import ApiRequest, refuse_nul_in_url
from aisle.api.collab import COLLAB_HANDLERS, collab_lifespan
from aisle.api.config import ApiConfig
from aisle.api.context import ApiContext
from aisle.api.deps import dependencies
from aisle.api.health import healthz, livez, readyz
from aisle.api.metrics_route import metrics_access, metrics_endpoint
from aisle.api.observe import ObserveMiddleware
from aisle.api.openapi import (
    StrictStructSchemaPlugin,
    answer_options_truthfully,
    declare_problems,
)
from aisle.api.problems import exception_handlers, problem_details
from aisle.api.query_params import refuse_unknown_query
from aisle.api.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from aisle.api.routes import API_CONTROLLERS
from aisle.clock import Clock
from aisle.contracts.registry import Registry
from aisle.plugins.manager import load_registry
from aisle.runtime import Runtime
from aisle.settings import Settings
from aisle.storage.store import Store

__all__ = ["API_PREFIX", "create_app"]

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


def _api_router(config: ApiConfig) -> Router:
    return Router(
        path=API_PREFIX,
        route_handlers=[*API_CONTROLLERS, *COLLAB_HANDLERS],
        dependencies=dependencies,
        middleware=[DefineMiddleware(BearerAuthMiddleware)],
        guards=[refuse_unknown_query],
        security=[{"bearer": []}],
        request_max_body_size=config.max_body_bytes,
        before_request=refuse_nul_in_url,
    )


def create_app(
    settings: Settings | None = None,
    registry: Registry | None = None,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    config: ApiConfig | None = None,
    limiter: RateLimiter | None = None,
    runtime: Runtime | None = None,
    extra_handlers: Sequence[Any] = (),
) -> Litestar:
    """Build the HTTP API: ``/api/v1`` (bearer tokens), ``/healthz``, OpenAPI at ``/schema``.

    With ``store`` the app uses that open store (tests, ``aisle serve`` sharing one with
    the embedded jobs) and leaves closing it to the caller; without, it opens one from
    ``settings`` at start-up (migrating) and closes it at shutdown. Route handlers that
    plugins register through ``aisle_routes`` (the dashboard) are mounted as given;
    they bring their own authentication. ``runtime`` is the engine service the runtime
    endpoints call (``aisle serve`` passes the one its embedded jobs listen to); by
    default one is built on the store.
    """
    if settings is None and store is None:
        # The process's own configuration (``uvicorn --factory aisle.api:create_app``):
        # its template and condition workers take their bounds from it too.
        settings = Settings.from_env()
        bounded.configure(settings.environ)
    elif settings is None:
        settings = Settings()
    registry = registry if registry is not None else load_registry()
    config = config if config is not None else ApiConfig.from_environ(settings.environ)
    if limiter is None:
        limiter = (
            RedisRateLimiter(settings.redis_url, namespace=settings.queue_namespace)
            if settings.redis_url
            else MemoryRateLimiter()
        )
    if runtime is None and store is not None:
        runtime = Runtime(store, registry, settings)
    ctx = ApiContext(
        settings=settings,
        registry=registry,
        config=config,
        limiter=limiter,
        store=store,
        runtime=runtime,
    )
    owns_store = store is None

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if ctx.store is None:
            ctx.store = await Store.open(settings, clock=clock)
        if ctx.runtime is None:
            ctx.runtime = Runtime(ctx.store, registry, settings)
        # The template and condition worker processes stop (and are waited for) with
        # the app, unless another holder (`aisle serve`'s embedded jobs) still needs them.
        async with bounded.held():
            try:
                yield
            finally:
                if ctx.runtime is not None:
                    await ctx.runtime.after_commit.settle()
                await ctx.limiter.close()
                if owns_store and ctx.store is not None:
                    await ctx.store.close()
                    ctx.store = None
                    ctx.runtime = None

    handlers: list[Any] = [healthz, livez, readyz, _api_router(config), *extra_handlers]
    if metrics_access(settings.environ) is not None:
        handlers.append(metrics_endpoint)
    for route in registry.routes:
        handlers.extend(route.handlers)
    from aisle import __version__

    app = Litestar(
        route_handlers=handlers,
        exception_handlers=exception_handlers,
        middleware=[ObserveMiddleware()],
        # Collaboration starts after (and stops before) the store it uses.
        lifespan=[lifespan, collab_lifespan(ctx)],
        state=_state(ctx),
        cors_config=CORSConfig(
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "If-None-Match",
                "Aisle-Fencing-Tokens",
                "Last-Event-ID",
            ],
            expose_headers=[
                "ETag",
                "Retry-After",
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
                "Location",
            ],
            max_age=600,
        )
        if config.cors_origins
        else None,
        openapi_config=OpenAPIConfig(
            title="Aisle",
            version=__version__,
            description="Journey automation for wedding businesses. Journeys are served "
            "and accepted as React Flow (`@xyflow/react` v12) JSON. Every error is an RFC "
            "9457 problem document.",
            path="/schema",
            # JSON and YAML only: the HTML viewers load scripts from CDNs.
            render_plugins=[
                JsonRenderPlugin(path=["/", "/openapi.json"]),
                YamlRenderPlugin(path=["/openapi.yaml"]),
            ],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(
                        type="http", scheme="bearer", description="An Aisle API token"
                    )
                }
            ),
        ),
        request_max_body_size=config.max_body_bytes,
        request_class=ApiRequest,
        plugins=[StrictStructSchemaPlugin(), problem_details],
        debug=False,
    )
    declare_problems(app, API_PREFIX)
    answer_options_truthfully(app)
    return app


def _state(ctx: ApiContext) -> Any:
    from litestar.datastructures import State

    return State({"aisle": ctx})
