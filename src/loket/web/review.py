"""Answer review for content owners (`/beheer/beoordelen`): a random sample of the last 30 days' answers
nobody reviewed yet, and per answer a form to mark each sentence and each source right or wrong, with
a reason when something is wrong. Saving goes on to the next answer and says it was saved.

Judging whether an answer is right is a content task: only the role `content_owner` reviews (an
operator without it is refused, 403). Anonymous, the login page. Plain forms, no JavaScript needed; a
form with a problem comes back (422) with the problems listed first, each linked to its field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal, format_percent
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from loket import clock
from loket.assistant.own_accesses import said_when
from loket.forms import read_form
from loket.i18n import plain, request_language
from loket.identity.schemas import Role, SignedIn
from loket.insight.review import REASON_LENGTH, SAMPLED_DAYS, Refused, Reviewable
from loket.web.cases import with_role
from loket.web.chat import expired
from loket.web.deps import ReviewsDep, SettingsDep
from loket.web.render import href_for, render
from loket.web.security import check_csrf

router = APIRouter(include_in_schema=False)
REVIEW = "/beheer/beoordelen"
VERDICTS = {"right": True, "wrong": False}


@dataclass(frozen=True)
class Verdict:
    """One right/wrong choice on the form: a sentence or a source."""

    name: str  # the form's field, `sentence-0` or `citation-0`
    number: int  # counted from 1, as the page says it
    chosen: bool | None
    error: str | None = None


def _reviewer(request: Request, here: str) -> SignedIn | Response:
    refusal = plain(request_language(request), "Only content owners can review answers.")
    return with_role(request, here, (Role.CONTENT_OWNER,), refusal)


@router.get(REVIEW)
def waiting(request: Request, reviews: ReviewsDep, settings: SettingsDep, saved: bool = False) -> Response:
    """The answers waiting, and what the reviews of the same 30 days found."""
    user = _reviewer(request, REVIEW)
    if isinstance(user, Response):
        return user
    language = request_language(request)
    zone = ZoneInfo(settings.timezone)
    until = clock.now()
    found = reviews.accuracy(until - timedelta(days=SAMPLED_DAYS), until)
    return render(
        request,
        "review_queue.html",
        language,
        page="review",
        answers=[(answer, said_when(answer.asked_at, zone, language)) for answer in reviews.queue()],
        accuracy=found,
        sentences=format_decimal(found.sentences, locale=language),
        sentences_right=_percent(found.sentences_right, language),
        citations=format_decimal(found.citations, locale=language),
        citations_right=_percent(found.citations_right, language),
        saved=saved,
    )


@router.get(REVIEW + "/{message_id}")
def review_form(
    message_id: str, request: Request, reviews: ReviewsDep, settings: SettingsDep, saved: bool = False
) -> Response:
    """The form, with the reviewer's own earlier verdicts chosen (saving replaces them)."""
    message_id = message_id[:36]
    user = _reviewer(request, f"{REVIEW}/{message_id}")
    if isinstance(user, Response):
        return user
    language = request_language(request)
    answer = reviews.reviewable(message_id, user.person.id, language)
    earlier = answer.earlier
    sentences = earlier.sentences if earlier else [None] * len(answer.sentences)
    citations = earlier.citations if earlier else [None] * len(answer.citations)
    return _form(
        request,
        answer,
        ZoneInfo(settings.timezone),
        _verdicts("sentence", sentences, {}),
        _verdicts("citation", citations, {}),
        earlier.reason if earlier else "",
        {},
        saved=saved,
    )


@router.post(REVIEW + "/{message_id}")
async def save(message_id: str, request: Request, reviews: ReviewsDep, settings: SettingsDep) -> Response:
    message_id = message_id[:36]
    user = _reviewer(request, f"{REVIEW}/{message_id}")
    if isinstance(user, Response):
        return user
    language = request_language(request)
    answer = await run_in_threadpool(reviews.reviewable, message_id, user.person.id, language)
    fields = len(answer.sentences) + len(answer.citations) + 2  # and the reason and the CSRF token
    form = await read_form(request, language, fields)
    check_csrf(request, form, expired(language))
    sentences = [VERDICTS.get(form.get(f"sentence-{i}", "")) for i in range(len(answer.sentences))]
    citations = [VERDICTS.get(form.get(f"citation-{i}", "")) for i in range(len(answer.citations))]
    reason = form.get("reason", "")
    errors = {
        f"sentence-{i}-right": plain(language, "Mark sentence %(number)s as right or wrong.", number=i + 1)
        for i, chosen in enumerate(sentences)
        if chosen is None
    } | {
        f"citation-{i}-right": plain(language, "Mark source %(number)s as right or wrong.", number=i + 1)
        for i, chosen in enumerate(citations)
        if chosen is None
    }
    if not errors:
        try:
            await run_in_threadpool(
                reviews.review, message_id, user.person.id, sentences, citations, reason, language
            )
        except Refused as refused:
            errors[refused.part] = refused.message
    if errors:
        return _form(
            request,
            answer,
            ZoneInfo(settings.timezone),
            _verdicts("sentence", sentences, errors),
            _verdicts("citation", citations, errors),
            reason,
            errors,
        )
    following = await run_in_threadpool(reviews.queue, 1)
    target = f"{REVIEW}/{following[0].id}" if following else REVIEW
    return RedirectResponse(href_for(language)(target, saved="1"), status_code=303)


def _verdicts(kind: str, chosen: list[bool | None], errors: dict[str, str]) -> list[Verdict]:
    return [
        Verdict(f"{kind}-{i}", i + 1, value, errors.get(f"{kind}-{i}-right"))
        for i, value in enumerate(chosen)
    ]


def _form(
    request: Request,
    answer: Reviewable,
    zone: ZoneInfo,
    sentences: list[Verdict],
    citations: list[Verdict],
    reason: str,
    errors: dict[str, str],
    saved: bool = False,
) -> Response:
    """`errors`: the problems by the id of the field they are about (`reason`, or a sentence's or a
    source's first choice)."""
    language = request_language(request)
    return render(
        request,
        "review.html",
        language,
        status_code=422 if errors else 200,
        page="review",
        answer=answer,
        asked=said_when(answer.asked_at, zone, language),
        reviewed=said_when(answer.earlier.reviewed_at, zone, language) if answer.earlier else None,
        sentences=list(zip(answer.sentences, sentences, strict=True)),
        citations=list(zip(answer.citations, citations, strict=True)),
        reason=reason,
        reason_length=REASON_LENGTH,
        errors=errors,
        saved=saved,
    )


def _percent(share: float | None, language: str) -> str | None:
    return None if share is None else format_percent(share, "#,##0.#%", locale=language)
