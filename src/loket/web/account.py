"""Logging in and out, and the person's own page: profiles, passkeys, mandates and who read their data.

Login is OpenID Connect when a provider is configured, else (on the demo only) a list of fictitious
persons. After it, a person may add a passkey (WebAuthn) on their device, which later opens loket
there (`loket.identity.passkeys`); the browser's side is `static/js/passkey.js`. Every login makes a
new session and a new CSRF token, so nothing set before login survives it (session fixation). Return
addresses are paths on loket itself, never another site.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable
from datetime import date
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response

from loket.assistant import holders
from loket.config import Settings
from loket.cookies import is_secure
from loket.deps import component
from loket.errors import BadRequest, LoketError, NotFound
from loket.forms import read_form
from loket.i18n import message, request_language
from loket.identity.access import (
    clear_session_cookie,
    is_json,
    require_signed_in,
    set_session_cookie,
    signed_in,
)
from loket.identity.oidc import OidcFailed, login_from_claims
from loket.identity.schemas import Forbidden, Login, SignedIn, StrongerLoginNeeded, me_out
from loket.identity.service import IdentityService
from loket.identity.texts import LOGIN_CANCELLED, LOGIN_FAILED, MANDATE_DATES, UNKNOWN_DEMO_PERSON
from loket.logging import get_logger
from loket.ratelimit import limited
from loket.texts import JSON_REQUIRED
from loket.web.chat import expired
from loket.web.deps import IdentityDep, OidcDep, SettingsDep
from loket.web.render import href_for, render
from loket.web.security import check_csrf

router = APIRouter(include_in_schema=False)
log = get_logger(__name__)
LOGIN_COOKIE = "loket_login"
PASSKEY_COOKIE = "loket_passkey"  # binds a passkey's challenge to the browser that asked for it
ACCOUNT_PAGE = "/mijn-profiel"


def safe_return(value: str | None) -> str:
    """A path on loket itself; anything else (another site, `//host`, `/\\host`) becomes the start page."""
    if not value:
        return "/"
    if (
        len(value) > 500
        or not value.startswith("/")
        or value.startswith(("//", "/\\"))
        or any(ord(c) < 32 or c == "\\" for c in value)
    ):
        log.warning("identity.return_refused", length=len(value))
        return "/"
    return value


def _base_url(request: Request) -> str:
    public = component(request, Settings).public_url
    return (public or str(request.base_url)).rstrip("/")


def _relying_party(request: Request) -> tuple[str, str]:
    """The WebAuthn relying party's id (loket's host name) and the origin the browser must report."""
    parts = urlsplit(_base_url(request))
    return parts.hostname or "", f"{parts.scheme}://{parts.netloc}"


def _redirect_uri(request: Request) -> str:
    return _base_url(request) + "/auth/callback"


def _new_session(request: Request, identity: IdentityService, login: Login) -> tuple[str, SignedIn]:
    """Ends the browser's old session, if any, and starts a new one with a new token."""
    if old := signed_in(request):
        identity.sessions.sign_out(old)
    return identity.sessions.sign_in(login)


def _with_session(request: Request, response: Response, token: str) -> Response:
    """The new session's cookie. The conversation's is dropped: a login does not take over a
    conversation begun before it. (The CSRF token, signed for the old session, fits no more.)"""
    set_session_cookie(request, response, token)
    holders.drop_token(request, response)
    return response


def _error(request: Request, status: int, text: str) -> Response:
    return render(request, "error.html", request_language(request), status_code=status, title=None, text=text)


@router.get("/aanmelden")
def login_page(
    request: Request,
    settings: SettingsDep,
    oidc: OidcDep,
    identity: IdentityDep,
    return_to: str | None = None,
) -> Response:
    language = request_language(request)
    return render(
        request,
        "login.html",
        language,
        page="login",
        return_to=safe_return(return_to),
        oidc=oidc is not None,
        demo_persons=identity.demo.persons() if settings.demo_login else [],
    )


async def _json_body(request: Request) -> dict:
    """The JSON object the passkey script posts; a state-changing post must be JSON (a browser sends
    JSON to another site only after a CORS preflight, which loket grants no one)."""
    language = request_language(request)
    if not is_json(request):
        raise Forbidden(message(JSON_REQUIRED, language))
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise BadRequest(message(JSON_REQUIRED, language))
    return body


def _with_challenge(request: Request, options_for: Callable[[str], str]) -> Response:
    """Options with a new challenge, bound to a new browser token in a cookie only the passkey
    routes see (the challenge itself stays on the server)."""
    browser = secrets.token_urlsafe(32)
    response = Response(options_for(browser), media_type="application/json")
    response.set_cookie(
        PASSKEY_COOKIE,
        browser,
        max_age=300,
        httponly=True,
        samesite="strict",
        secure=is_secure(request),
        path="/auth/passkey",
    )
    return response


@router.post("/auth/passkey/register-options", dependencies=[limited("auth")])
async def passkey_register_options(request: Request, identity: IdentityDep) -> Response:
    """The options for the browser's `navigator.credentials.create`, for the person logged in."""
    await _json_body(request)
    user = require_signed_in(request)
    rp_id, _ = _relying_party(request)
    language = request_language(request)
    return _with_challenge(
        request, lambda browser: identity.passkeys.registration_options(user, browser, rp_id, language)
    )


@router.post("/auth/passkey/register", status_code=201, dependencies=[limited("auth")])
async def passkey_register(request: Request, identity: IdentityDep) -> Response:
    """`{"credential": …, "name": …}`: the browser's new credential, checked and kept."""
    body = await _json_body(request)
    user = require_signed_in(request)
    rp_id, origin = _relying_party(request)
    passkey = identity.passkeys.register(
        user,
        request.cookies.get(PASSKEY_COOKIE, ""),
        json.dumps(body.get("credential")),
        str(body.get("name") or ""),
        rp_id,
        origin,
        request_language(request),
    )
    response = JSONResponse({"id": passkey.id, "name": passkey.name}, status_code=201)
    response.delete_cookie(PASSKEY_COOKIE, path="/auth/passkey")
    return response


@router.post("/auth/passkey/unlock-options", dependencies=[limited("auth")])
async def passkey_unlock_options(request: Request, identity: IdentityDep) -> Response:
    """The options for `navigator.credentials.get`: the device offers the passkeys it holds."""
    await _json_body(request)
    rp_id, _ = _relying_party(request)
    return _with_challenge(request, lambda browser: identity.passkeys.unlock_options(browser, rp_id))


@router.post("/auth/passkey/unlock", dependencies=[limited("auth")])
async def passkey_unlock(request: Request, identity: IdentityDep) -> Response:
    """`{"credential": …, "return_to": …}`: the device's answer; a new session for the passkey's
    owner, and where to go next (`{"location": …}`)."""
    body = await _json_body(request)
    rp_id, origin = _relying_party(request)
    token, _ = identity.passkeys.unlock(
        request.cookies.get(PASSKEY_COOKIE, ""),
        json.dumps(body.get("credential")),
        rp_id,
        origin,
        request_language(request),
    )
    if old := signed_in(request):  # only once the passkey opened a new one (session fixation)
        identity.sessions.sign_out(old)
    location = safe_return(body.get("return_to") if isinstance(body.get("return_to"), str) else None)
    response = _with_session(request, JSONResponse({"location": location}), token)
    response.delete_cookie(PASSKEY_COOKIE, path="/auth/passkey")
    return response


@router.get("/auth/login", dependencies=[limited("auth")])
def login(
    request: Request,
    settings: SettingsDep,
    oidc: OidcDep,
    identity: IdentityDep,
    return_to: str | None = None,
    again: bool = False,
) -> Response:
    """Sends the browser to the identity provider, remembering (server-side) what must come back.
    `again`: the provider asks again how the person logs in (after a login not strong enough)."""
    language = request_language(request)
    if oidc is None:
        return RedirectResponse(href_for(language)("/aanmelden", return_to=safe_return(return_to)), 303)
    try:
        attempt = oidc.login_request(_redirect_uri(request), again)
    except OidcFailed as error:
        log.error("identity.provider_unusable", reason=str(error))
        infoline = settings.infoline
        return _error(request, 503, message(LOGIN_FAILED, language, infoline=infoline))
    browser = secrets.token_urlsafe(32)
    identity.sessions.start_login(
        browser, attempt.state, attempt.nonce, attempt.code_verifier, safe_return(return_to)
    )
    response = RedirectResponse(attempt.url, status_code=303)
    response.set_cookie(
        LOGIN_COOKIE, browser, max_age=600, httponly=True, samesite="lax", secure=is_secure(request)
    )
    return response


@router.get("/auth/callback", name="oidc_callback", dependencies=[limited("auth")])
async def callback(
    request: Request,
    settings: SettingsDep,
    oidc: OidcDep,
    identity: IdentityDep,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    """Where the provider sends the browser back: the state must be this browser's, used once."""
    language = request_language(request)
    failed = message(LOGIN_FAILED, language, infoline=settings.infoline)
    browser = request.cookies.get(LOGIN_COOKIE)
    attempt = identity.sessions.take_login(browser) if browser and oidc else None
    if attempt is None or not state or not hmac.compare_digest(attempt.state.encode(), state.encode()):
        log.warning("identity.login_refused", reason="unknown or tampered state")
        return _error(request, 400, failed)
    if error or not code:
        log.info("identity.login_cancelled", error=(error or "no code")[:40])
        return _error(request, 400, message(LOGIN_CANCELLED, language))
    try:
        claims = await run_in_threadpool(
            oidc.finish_login, code, _redirect_uri(request), attempt.code_verifier, attempt.nonce
        )
    except OidcFailed as problem:
        log.warning("identity.login_refused", reason=str(problem))
        return _error(request, 400, failed)
    login_ = login_from_claims(claims, settings.oidc_claims, oidc.issuer)
    token, _ = _new_session(request, identity, login_)
    response = _with_session(request, RedirectResponse(attempt.return_to, status_code=303), token)
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.post("/auth/logout")
async def logout(request: Request, oidc: OidcDep, identity: IdentityDep) -> Response:
    """Ends the session here and, after an OpenID login, at the provider too (RP-initiated logout)."""
    language = request_language(request)
    if not is_json(request):
        check_csrf(request, await read_form(request, language), expired(language))
    user = signed_in(request)
    provider_logout = None
    if user is not None:
        identity.sessions.sign_out(user)
        if user.method == "oidc" and oidc is not None:
            try:
                provider_logout = oidc.logout_url(_base_url(request) + "/")
            except OidcFailed as error:
                log.warning("identity.provider_logout_unusable", reason=str(error))
    if is_json(request):
        response: Response = JSONResponse({"logout_url": provider_logout})
    else:
        response = RedirectResponse(provider_logout or href_for(language)("/"), status_code=303)
    clear_session_cookie(request, response)
    holders.drop_token(request, response)  # the conversation goes with the login
    return response


@router.get("/auth/demo-persons")
def demo_persons(settings: SettingsDep, identity: IdentityDep) -> dict:
    if not settings.demo_login:
        raise NotFound("not found")
    return {"persons": [{"id": p["id"], "name": p["name"]} for p in identity.demo.persons()]}


@router.post("/auth/demo-login", dependencies=[limited("auth")])
async def demo_login(request: Request, settings: SettingsDep, identity: IdentityDep) -> Response:
    """JSON `{"person": id}` for API clients, or the login page's form (with its CSRF token)."""
    if not settings.demo_login:
        raise NotFound("not found")
    language = request_language(request)
    if is_json(request):
        try:
            body = await request.json()
        except ValueError:
            body = None
        person = body.get("person") if isinstance(body, dict) else None
        return_to = None
    else:
        form = await read_form(request, language)
        check_csrf(request, form, expired(language))
        person, return_to = form.get("person"), form.get("return_to")
    login_ = identity.demo.login(person) if isinstance(person, str) else None
    if login_ is None:
        raise BadRequest(message(UNKNOWN_DEMO_PERSON, language))
    token, user = _new_session(request, identity, login_)
    if is_json(request):
        return _with_session(request, JSONResponse(me_out(user).model_dump(mode="json")), token)
    return _with_session(request, RedirectResponse(safe_return(return_to), status_code=303), token)


def _account_or_login(request: Request) -> SignedIn | Response:
    user = signed_in(request)
    if user is None:
        language = request_language(request)
        return RedirectResponse(href_for(language)("/aanmelden", return_to=ACCOUNT_PAGE), status_code=303)
    return user


@router.get(ACCOUNT_PAGE)
def account(request: Request, identity: IdentityDep, settings: SettingsDep) -> Response:
    """The person's own page: who they act as, their passkeys, the mandates they gave and got, and a
    link to who used their data (`loket.web.my_data`). Seeing it is logged, as a view of their own data."""
    user = _account_or_login(request)
    if isinstance(user, Response):
        return user
    language = request_language(request)
    granted, received, refusal = [], [], None
    if user.active.kind == "BUR":
        try:
            granted, received = identity.mandates.of(user, language)
        except StrongerLoginNeeded as refused:
            refusal = refused.message
    identity.access_log.record_own_view(user)
    return render(
        request,
        "account.html",
        language,
        page="account",
        granted=granted,
        received=received,
        stronger_login=refusal,
        today=date.today().isoformat(),
        passkeys=identity.passkeys.of(user),
        passkey_days=settings.passkey_unlock_days,
    )


def stronger_login(request: Request, text: str) -> Response:
    """The page for a login not strong enough for what it asked: a link to log in again, asking the
    provider to let the person choose a stronger method, and back to this page (or their profile)."""
    here = safe_return(request.url.path) if request.method == "GET" else ACCOUNT_PAGE
    language = request_language(request)
    return render(request, "stronger_login.html", language, status_code=403, text=text, return_to=here)


async def form_for(request: Request) -> tuple[SignedIn | None, dict[str, str], str]:
    language = request_language(request)
    form = await read_form(request, language)
    check_csrf(request, form, expired(language))
    return signed_in(request), form, language


Act = Callable[[SignedIn, dict[str, str], str], object]


async def _account_form(request: Request, act: Act, refusal_here: bool = False) -> Response:
    """The frame of the account page's forms: the form, its CSRF token checked; a login first when there
    is none; `act` (the person, the form, the language); and back to where the form was. A refusal is
    the app's error page, or with `refusal_here` a plain one with the refusal's text only."""
    user, form, language = await form_for(request)
    if user is None:
        return _account_or_login(request)
    try:
        act(user, form, language)
    except LoketError as problem:
        if not refusal_here:
            raise
        return _error(request, problem.status_code, problem.message)
    return RedirectResponse(href_for(language)(safe_return(form.get("return_to") or ACCOUNT_PAGE)), 303)


@router.post("/profiel")
async def switch(request: Request, identity: IdentityDep) -> Response:
    return await _account_form(
        request,
        lambda user, form, language: identity.sessions.switch(user, form.get("profile", ""), language),
    )


@router.post("/volmachten")
async def grant(request: Request, identity: IdentityDep) -> Response:
    def act(user: SignedIn, form: dict[str, str], language: str) -> None:
        try:
            starts_on = date.fromisoformat(form.get("starts_on") or date.today().isoformat())
            ends_on = date.fromisoformat(form["ends_on"]) if form.get("ends_on") else None
        except ValueError as error:
            raise BadRequest(message(MANDATE_DATES, language)) from error
        case_types = [t for t in form.get("case_types", "").split(",") if t.strip()]
        identity.mandates.grant(
            user,
            form.get("mandatary", ""),
            form.get("name", ""),
            case_types,
            starts_on,
            ends_on,
            language,
            messages=form.get("messages") == "on",
            suggestions=form.get("suggestions") == "on",
        )

    return await _account_form(request, act, refusal_here=True)


@router.post("/volmachten/{mandate_id}/intrekken")
async def revoke(mandate_id: str, request: Request, identity: IdentityDep) -> Response:
    return await _account_form(
        request, lambda user, _, language: identity.mandates.revoke(user, mandate_id[:36], language)
    )


@router.post("/toegangssleutels/{passkey_id}/naam")
async def rename_passkey(passkey_id: str, request: Request, identity: IdentityDep) -> Response:
    def act(user: SignedIn, form: dict[str, str], language: str) -> None:
        identity.passkeys.rename(user, passkey_id, form.get("name", ""), language)

    return await _account_form(request, act, refusal_here=True)


@router.post("/toegangssleutels/{passkey_id}/verwijderen")
async def remove_passkey(passkey_id: str, request: Request, identity: IdentityDep) -> Response:
    return await _account_form(
        request, lambda user, _, language: identity.passkeys.remove(user, passkey_id, language)
    )
