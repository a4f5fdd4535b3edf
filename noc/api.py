"""The FastAPI application: mounts each capability's router under /api/v1 and answers errors in one format."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException

import noc
from noc.capabilities import parts, runtime
from noc.core.capability import Runtime
from noc.core.db import Database
from noc.core.errors import NocError, field_of
from noc.core.http import ApiError, error_body
from noc.core.metrics import exposition
from noc.core.scheduler import build_scheduler, describe
from noc.core.settings import Settings

log = logging.getLogger("noc.api")

STATUS_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
                422: "invalid", 429: "too_many_requests"}


def health_router() -> APIRouter:
    """``GET /health``: liveness of the API, the database and the scheduler (no token needed)."""
    router = APIRouter(tags=["health"])

    @router.get("/health", summary="Is noc up?")
    def health(request: Request) -> dict[str, Any]:
        db: Database = request.app.state.runtime.db
        try:
            with db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            database = "ok"
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
        errors = [field_of(tuple(e.get("loc", ())), str(e.get("msg", ""))) for e in exc.errors()]
        field, message = errors[0] if errors else (None, "invalid request")
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more: " + "; ".join(f"{f}: {m}" for f, m in errors[1:]) + ")"
        return JSONResponse(error_body("invalid", message, field), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = STATUS_CODES.get(exc.status_code, "error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error: %s", exc.__class__.__name__, exc_info=exc)
        return JSONResponse(error_body("internal", "internal error; the server log has the details"),
                            status_code=500)


def create_app(settings: Settings, database: Database | None = None, *, scheduler: bool = True,
               rt: Runtime | None = None) -> FastAPI:
    """The noc API for ``settings``: every enabled capability's router; with ``scheduler`` also their jobs.

    ``rt`` is an already wired runtime to share (the demo's); by default one is made here.
    """
    db = database or (rt.db if rt is not None else Database(settings.resolved_database_url()))
    rt = rt or runtime(settings, db)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
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
