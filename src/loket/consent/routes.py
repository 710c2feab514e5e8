"""The consent block's API: the processing register and the access log's latest checkpoint, public."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from loket.consent.log import TamperEvidentLog
from loket.consent.processing import register
from loket.deps import provided
from loket.errors import LoketError
from loket.i18n import request_language

router = APIRouter(tags=["consent"])
LogDep = Annotated[TamperEvidentLog, provided(TamperEvidentLog)]


class NotSigned(LoketError):
    status_code = 503
    code = "not_signed"


class PurposeOut(BaseModel):
    id: str
    name: str
    legal_basis: str
    data_categories: list[str]
    retention: str
    consent_needed: bool
    basis: str  # as access records name it
    choice: str | None  # opt_in: off until you grant it; opt_out: on until you withdraw it


class ProcessingOut(BaseModel):
    purposes: list[PurposeOut]


@router.get("/api/v1/processing", response_model=ProcessingOut)
def processing(request: Request) -> ProcessingOut:
    """Every purpose loket uses personal data for: legal basis, the data used, retention, consent."""
    language = request_language(request)
    return ProcessingOut(
        purposes=[
            PurposeOut(
                id=p.id,
                name=p.said(p.name, language),
                legal_basis=p.said(p.legal_basis, language),
                data_categories=list(p.data_categories),
                retention=p.retention,
                consent_needed=p.consent_needed,
                basis=p.basis,
                choice=p.choice,
            )
            for p in register().purposes.values()
        ]
    )


@router.get(
    "/.well-known/loket-log-checkpoint",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}, 503: {"description": "No signing key configured."}},
)
def checkpoint(audit_log: LogDep) -> PlainTextResponse:
    """The access log's latest checkpoint, a signed note (C2SP tlog-checkpoint): origin, size, root, and
    the Ed25519 signature. Anyone may keep it, and later check the log still agrees with it."""
    signed = audit_log.checkpoint()
    if signed is None:
        raise NotSigned("the access log's checkpoints are not signed here (LOKET_LOG_SIGNING_KEY)")
    return PlainTextResponse(signed.note, headers={"cache-control": "no-cache"})
