"""The consent block's API: the processing register, public."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from loket.consent.processing import register
from loket.i18n import request_language

router = APIRouter(prefix="/api/v1", tags=["consent"])


class PurposeOut(BaseModel):
    id: str
    name: str
    legal_basis: str
    data_categories: list[str]
    retention: str
    consent_needed: bool


class ProcessingOut(BaseModel):
    purposes: list[PurposeOut]


@router.get("/processing", response_model=ProcessingOut)
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
            )
            for p in register().purposes.values()
        ]
    )
