"""The FastAPI application: mounts each capability's router under /api/v1 and answers errors in one format."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

import noc
from noc.capabilities import parts, runtime
from noc.core.capability import Runtime
from noc.core.db import Database, server_pool_size
from noc.core.errors import NocError, field_of
from noc.core.guard import Guard
from noc.core.http import ApiError, error_body
from noc.core.metrics import exposition
from noc.core.scheduler import build_scheduler, describe
from noc.core.settings import Settings

STATUS_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
                422: "invalid", 429: "too_many_requests"}


HEALTH_TIMEOUT_S = 5.0


def health_router() -> APIRouter:
    """``GET /health``: liveness of the API, the database and the scheduler (no token needed)."""
    router = APIRouter(tags=["health"])

    limiter = anyio.CapacityLimiter(2)  # its own threads: busy request threads never hold /health up

    @router.get("/health", summary="Is noc up?")
    async def health(request: Request) -> dict[str, Any]:
        db: Database = request.app.state.runtime.db
        try:
            with anyio.fail_after(HEALTH_TIMEOUT_S):
                await anyio.to_thread.run_sync(db.probe, limiter=limiter, abandon_on_cancel=True)
            database = "ok"
        except TimeoutError:
            database = "error: no answer within 5 s"
        except Exception as exc:  # a health check reports, it does not raise
            database = f"error: {exc.__class__.__name__}"
        scheduler = request.app.state.scheduler
        return {
            "status": "ok" if database == "ok" else "degraded",
            "version": noc.__version__,
            "database": database,
            "scheduler": describe(scheduler) if scheduler is not None else {"running": False, "jobs": []},
        }

    return router


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves as ``{"error": {"code", "message", "field"}}``; no stack trace reaches a user."""

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(NocError)
    async def noc_error(_: Request, exc: NocError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.field), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            return JSONResponse(error_body("invalid", "the body is not valid JSON"), status_code=422)
        errors = [field_of(tuple(e.get("loc", ())), str(e.get("msg", ""))) for e in exc.errors()]
        field, message = errors[0] if errors else (None, "invalid request")
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more: " + "; ".join(f"{f}: {m}" for f, m in errors[1:]) + ")"
        return JSONResponse(error_body("invalid", message, field), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = STATUS_CODES.get(exc.status_code, "error")
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code, headers=headers or None)


def allowed_methods(request: Request) -> list[str]:
    """Every method the API documents at the request's path (Starlette names only the first route's)."""
    paths: dict[str, Any] = request.app.openapi().get("paths", {})
    methods: set[str] = set()
    for template, operations in paths.items():
        if re.fullmatch(re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(template)), request.url.path):
            methods |= {method.upper() for method in operations}
    return sorted(methods)


def create_app(settings: Settings, database: Database | None = None, *, scheduler: bool = True,
               rt: Runtime | None = None) -> FastAPI:
    """The noc API for ``settings``: every enabled capability's router; with ``scheduler`` also their jobs.

    ``rt`` is an already wired runtime to share (the demo's); by default one is made here.
    """
    db = database or (rt.db if rt is not None else Database(settings.resolved_database_url(),
                                                             pool_size=server_pool_size(settings)))
    rt = rt or runtime(settings, db)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_threads
        if scheduler:
            app.state.scheduler = build_scheduler(rt, (part for _, part in parts("jobs")))
            app.state.scheduler.start()
        try:
            yield
        finally:
            if app.state.scheduler is not None and app.state.scheduler.running:
                app.state.scheduler.shutdown(wait=True)
            rt.close()
            if database is None:
                db.dispose()

    app = FastAPI(
        title="noc",
        version=noc.__version__,
        description="Network operations for a cable/fibre operator. Authenticate with `Authorization: Bearer "
        "<token>`; every error answers `{\"error\": {\"code\", \"message\", \"field\"}}`.",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.runtime = rt
    app.state.scheduler = None
    app.add_middleware(Guard, max_body_bytes=settings.api_max_body_bytes,
                       auth_failures_per_min=settings.api_auth_failures_per_min, max_in_flight=settings.api_threads)
    install_error_handlers(app)
    api = APIRouter(prefix="/api/v1")
    api.include_router(health_router())
    for _, router in parts("router"):
        api.include_router(router)
    app.include_router(api)
    for _, pages in parts("pages"):
        app.include_router(pages)

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        """noc's own metrics in Prometheus text format (no personal data, no secrets; no token needed)."""
        return Response(exposition(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return app
