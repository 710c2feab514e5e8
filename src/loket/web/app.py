"""The app factory: builds the services for one configuration and mounts every block's routes.

Nothing connects to the database until a request needs it; `loket serve` migrates first.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from loket import __version__
from loket.assistant import routes as assistant_routes
from loket.config import Settings
from loket.errors import LoketError
from loket.search import routes as search_routes
from loket.services import Services
from loket.web import health, pages
from loket.web.metrics import Metrics

HERE = Path(__file__).parent


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(title="loket", version=__version__, docs_url="/api/docs", redoc_url=None)
    app.state.services = Services.build(settings or Settings())
    app.state.metrics = Metrics()
    app.middleware("http")(app.state.metrics.middleware)
    app.add_exception_handler(LoketError, _loket_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.include_router(health.router)
    app.include_router(search_routes.router)
    app.include_router(assistant_routes.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app


async def _loket_error(_request: Request, error: LoketError) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": error.code, "message": error.message}}, status_code=error.status_code
    )


async def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
    problems = [f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in error.errors()]
    return JSONResponse({"error": {"code": "bad_request", "message": "; ".join(problems)}}, status_code=422)
