"""Liveness, readiness and metrics for operators and load balancers."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import SQLAlchemyError

from loket.web.deps import CatalogDep, DatabaseDep

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_class=PlainTextResponse)
def healthz() -> str:
    return "ok"


@router.get("/readyz")
def readyz(db: DatabaseDep, catalog: CatalogDep) -> JSONResponse:
    """Ready when the database answers with the current schema and the catalogue holds something."""
    try:
        current = db.is_current()
        items = catalog.revision()[0]
    except SQLAlchemyError:
        return JSONResponse({"ready": False, "reason": "database unreachable"}, status_code=503)
    if not current:
        return JSONResponse({"ready": False, "reason": "database schema is not current"}, status_code=503)
    if not items:
        return JSONResponse({"ready": False, "reason": "catalogue is empty"}, status_code=503)
    return JSONResponse({"ready": True, "items": items})


@router.get("/metrics")
def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
