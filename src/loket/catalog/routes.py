"""The catalogue as linked open data over HTTP (`catalog.linked_data`): each service at its URI, the LDES
feed of changes and the DCAT-AP record, as JSON-LD or, asked for with `Accept`, Turtle."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from starlette.exceptions import HTTPException

from loket.catalog import linked_data
from loket.catalog.linked_data import CATALOGUE_PATH, FEED_PATH, JSON_LD, PAGE_SIZE, SERVICES_PATH, TURTLE
from loket.catalog.service import CatalogService
from loket.config import Settings
from loket.deps import provided
from loket.errors import NotFound

router = APIRouter(tags=["linked data"])
CatalogDep = Annotated[CatalogService, provided(CatalogService)]
SettingsDep = Annotated[Settings, provided(Settings)]

# The media types offered, the default first, and the serialisation each gets.
OFFERED = {JSON_LD: JSON_LD, TURTLE: TURTLE, "application/json": JSON_LD}
CACHING = {"Vary": "Accept", "Cache-Control": "public, max-age=60", "Access-Control-Allow-Origin": "*"}
MAX_PAGE = 10**6


def _rdf_responses(shown: str, errors: dict[int, str] | None = None) -> dict[int, dict]:
    """The OpenAPI responses of a route answering in RDF: `shown` as JSON-LD or Turtle, 304 and 406 as
    every such route has them, and its own `errors`."""
    rdf = {offer: {"schema": {"type": "string" if offer == TURTLE else "object"}} for offer in OFFERED}
    responses: dict[int, dict] = {
        200: {"content": rdf, "description": shown},
        304: {"description": "The representation named in `If-None-Match` is still current."},
        406: {"description": "`Accept` names neither JSON-LD nor Turtle."},
    }
    responses |= {status: {"description": text} for status, text in (errors or {}).items()}
    return dict(sorted(responses.items()))


@router.get(
    SERVICES_PATH + "/{item_id}",
    summary="One public service as linked data",
    description="The current version of a service in the IPDC-LPDC vocabulary, an IPDC concept snapshot "
    "whose `isVersionOf` is this URI. JSON-LD, or Turtle with `Accept: text/turtle`. Unknown and "
    "withdrawn services are 404; `If-None-Match` with the ETag gives 304.",
    response_class=Response,
    responses=_rdf_responses("The service.", {404: "No such service, or withdrawn."}),
)
def service(item_id: str, request: Request, catalog: CatalogDep, settings: SettingsDep) -> Response:
    media_type = _negotiate(request)
    version = catalog.shown_version(item_id)
    document = linked_data.service_document(version, _public_base(request, settings))
    if document is None:
        raise NotFound(f"catalogue item {item_id} is in a language IPDC cannot carry")
    etag = f'"{version.draft.content_hash}-{version.number}-{media_type.split("/")[1]}"'
    return _respond(request, document, media_type, etag)


@router.get(
    FEED_PATH,
    summary="Every change to the catalogue, as a Linked Data Event Stream",
    description=f"An LDES (https://w3id.org/ldes/specification) of IPDC concept snapshots: one member per "
    f"version of a service (`isVersionOf` the service's URI, `generatedAtTime` when it was recorded), a "
    f"withdrawal as a version with `gearchiveerd` (ipdc:isArchived) true. {PAGE_SIZE} members a page, "
    f"oldest first; a page links to the next with a tree:GreaterThanOrEqualToRelation on "
    f"prov:generatedAtTime, the last page to none. JSON-LD, or Turtle with `Accept: text/turtle`.",
    response_class=Response,
    responses=_rdf_responses(
        "One page of the feed.",
        {400: "`page` is not a page number (the app's error page).", 404: "No such page."},
    ),
)
def feed(
    request: Request,
    catalog: CatalogDep,
    settings: SettingsDep,
    page: Annotated[int, Query(ge=0, le=MAX_PAGE, description="The page, from 0 (the oldest changes).")] = 0,
) -> Response:
    media_type = _negotiate(request)
    changes = catalog.changes(page * PAGE_SIZE, PAGE_SIZE + 1)
    if page and not changes:
        raise NotFound(f"the feed has no page {page}")
    next_from = changes[PAGE_SIZE].recorded_at if len(changes) > PAGE_SIZE else None
    document = linked_data.feed_page(changes[:PAGE_SIZE], _public_base(request, settings), page, next_from)
    return _respond(request, document, media_type)


@router.get(
    CATALOGUE_PATH,
    summary="The catalogue's open-data record (DCAT-AP)",
    description="A dcat:Catalog holding the one dcat:Dataset loket publishes, the public services: its "
    "licences and languages, when it last changed, and two distributions, the LDES feed and every service "
    "at its own URI. JSON-LD, or Turtle with `Accept: text/turtle`.",
    response_class=Response,
    responses=_rdf_responses("The record."),
)
def catalogue(request: Request, catalog: CatalogDep, settings: SettingsDep) -> Response:
    media_type = _negotiate(request)
    languages, licences = catalog.languages_and_licences()
    modified = catalog.revision()[1]
    document = linked_data.catalogue_record(_public_base(request, settings), languages, licences, modified)
    return _respond(request, document, media_type)


def _public_base(request: Request, settings: Settings) -> str:
    """Where loket is reached: the stable URIs are minted under it."""
    return (settings.public_url or str(request.base_url)).rstrip("/")


def _negotiate(request: Request) -> str:
    """The offered media type with the highest q, each weighed by the most specific range of `Accept`
    that covers it; a tie goes to the first offered (JSON-LD); 406 when `Accept` allows none."""
    accept = request.headers.get("accept") or "*/*"
    ranges = [_media_range(part) for part in accept.split(",") if part.strip()]
    best, best_q = None, 0.0
    for offer in OFFERED:
        q = _quality_of(offer, ranges)
        if q > best_q:
            best, best_q = offer, q
    if best is None:
        raise HTTPException(406, "Ask for application/ld+json or text/turtle.")
    return best


def _quality_of(offer: str, ranges: list[tuple[str, float]]) -> float:
    """The q of the most specific range covering `offer` (RFC 9110 12.5.1); 0 when none does."""
    covering = [(pattern.count("*"), quality) for pattern, quality in ranges if _covers(pattern, offer)]
    return min(covering)[1] if covering else 0.0


def _media_range(part: str) -> tuple[str, float]:
    media_range, *parameters = (piece.strip() for piece in part.split(";"))
    quality = 1.0
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
    return media_range.lower(), quality


def _covers(pattern: str, media_type: str) -> bool:
    kind = media_type.partition("/")[0]
    return pattern in (media_type, f"{kind}/*", "*/*")


def _respond(request: Request, document: dict, media_type: str, etag: str | None = None) -> Response:
    """The document in the media type asked for, its ETag by default its body's hash; 304 when the
    client holds it already."""
    body = linked_data.serialise(document, OFFERED[media_type])
    headers = CACHING | {"ETag": etag or f'"{hashlib.sha256(body).hexdigest()[:32]}"'}
    if _holds(request.headers.get("if-none-match", ""), headers["ETag"]):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def _holds(if_none_match: str, etag: str) -> bool:
    """Whether `If-None-Match` names `etag` (weakly, as for a GET) or is `*`."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags
