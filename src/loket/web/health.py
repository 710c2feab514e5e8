"""Liveness, readiness and metrics for operators and load balancers."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import SQLAlchemyError

from loket.db import SchemaState
from loket.logging import get_logger
from loket.web.deps import CatalogDep, DatabaseDep

log = get_logger(__name__)

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_class=PlainTextResponse)
def healthz() -> str:
    return "ok"


@router.get("/readyz", responses={503: {"description": "Not ready: `reason` says why."}})
def readyz(request: Request, db: DatabaseDep, catalog: CatalogDep) -> JSONResponse:
    """Ready when the database answers with a schema this code can use and the catalogue holds something.

    A schema behind this code is not ready (`loket db upgrade`). One ahead of it is: during a rolling
    upgrade the new release migrates first, and the old pods must keep serving until they are
    replaced, which migrations allow by only adding what the release before can ignore
    (docs/operations.md). It is logged, once per process and revision."""
    try:
        schema = db.schema()
        items = catalog.revision()[0]
    except SQLAlchemyError:
        return JSONResponse({"ready": False, "reason": "database unreachable"}, status_code=503)
    if schema.state is SchemaState.BEHIND:
        return JSONResponse({"ready": False, "reason": "database schema is behind"}, status_code=503)
    if (
        schema.state is SchemaState.AHEAD
        and getattr(request.app.state, "schema_ahead", None) != schema.revision
    ):
        request.app.state.schema_ahead = schema.revision
        log.warning("health.schema_ahead", revision=schema.revision, head=schema.head)
    if not items:
        return JSONResponse({"ready": False, "reason": "catalogue is empty"}, status_code=503)
    ahead = {"schema": "ahead"} if schema.state is SchemaState.AHEAD else {}
    return JSONResponse({"ready": True, "items": items, **ahead})


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
