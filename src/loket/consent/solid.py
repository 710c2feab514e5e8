"""Pushes a person's data export to their own Solid pod, acting as them with the client credentials
(id and secret) they made for loket at their pod provider.

Solid-OIDC over plain HTTP: the OpenID provider is found from the pod, a DPoP-bound access token is
obtained with the client credentials grant (RFC 6749 §4.4, RFC 9449), and the document is PUT into
the pod with a fresh DPoP proof. The proof key is generated for each push and never kept, so a token
that leaks is useless without it. Neither the secret nor the document is ever logged.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal, get_args
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import httpx
import rdflib
from joserfc import jwt
from joserfc.jwk import ECKey

from loket import clock
from loket.logging import get_logger

log = get_logger(__name__)

TIMEOUT_SECONDS = 10.0
CONTAINER = "loket/"  # in the pod, where exports go
MEDIA_TYPE = "application/ld+json"

SOLID = rdflib.Namespace("http://www.w3.org/ns/solid/terms#")
PIM = rdflib.Namespace("http://www.w3.org/ns/pim/space#")
OWNER_REL = "http://www.w3.org/ns/solid/terms#owner"

Reason = Literal["unreachable", "login_refused", "write_refused", "unexpected"]
REASONS: tuple[Reason, ...] = get_args(Reason)  # each needs a text for the person, in every language


class PodError(Exception):
    """The push failed. `reason` is what the person is told (one text per reason, in their
    language); `detail` is for the log and names no secret and nothing of the document."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: Reason = reason
        self.detail = detail


def push_export(
    document: dict[str, Any],
    pod: str,
    client_id: str,
    client_secret: str,
    *,
    http: httpx.Client | None = None,
) -> str:
    """Writes `document` as JSON-LD to a new resource in `pod`'s loket/ container; returns its URL.

    `pod`: the pod's URL, or the person's WebID (its pod is then the storage the profile names, or
    the nearest storage above the profile document). The resource is never overwritten: its name
    holds the time, and a second push in the same second gets a random suffix.
    """
    body = json.dumps(document, ensure_ascii=False).encode()
    with _client(http) as client:
        session = _login(client, pod, client_id, client_secret)
        container = urljoin(session.pod.rstrip("/") + "/", CONTAINER)
        name = f"export-{clock.now():%Y-%m-%dT%H%M%SZ}"
        for suffix in ("", f"-{secrets.token_hex(3)}"):
            url = f"{container}{name}{suffix}.jsonld"
            response = session.request(
                "PUT",
                url,
                content=body,
                headers={"Content-Type": MEDIA_TYPE, "If-None-Match": "*"},
            )
            if response.status_code != 412:  # 412: something already has that name
                break
        if response.status_code in (401, 403):
            raise _failed("write_refused", f"PUT answered {response.status_code}", session.pod)
        if response.status_code not in (200, 201, 204, 205):
            raise _failed("unexpected", f"PUT answered {response.status_code}", session.pod)
    log.info("solid_export_written", pod=_origin(session.pod), bytes=len(body))
    return url


def read_document(
    url: str, client_id: str, client_secret: str, *, http: httpx.Client | None = None
) -> dict[str, Any]:
    """The JSON-LD document at `url`, read as the person, to check what a push wrote. Errors as for
    push_export; a refused read has the reason "write_refused" too."""
    with _client(http) as client:
        session = _login(client, url, client_id, client_secret)
        response = session.request("GET", url, headers={"Accept": MEDIA_TYPE})
        if response.status_code in (401, 403):
            raise _failed("write_refused", f"GET answered {response.status_code}", url)
        if response.status_code != 200:
            raise _failed("unexpected", f"GET answered {response.status_code}", url)
        try:
            return response.json()
        except ValueError as error:
            raise _failed("unexpected", "the resource is not JSON", url) from error


@contextmanager
def _client(http: httpx.Client | None) -> Iterator[httpx.Client]:
    if http is not None:
        yield http
        return
    with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
        yield client


class _Session:
    """An access token and the key it is bound to, for requests to the pod."""

    def __init__(self, http: httpx.Client, pod: str, key: ECKey, token: str) -> None:
        self.http = http
        self.pod = pod
        self.key = key
        self.token = token
        self._ath = _b64(hashlib.sha256(token.encode()).digest())

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {**kwargs.pop("headers", {}), "Authorization": f"DPoP {self.token}"}

        def send(nonce: str | None) -> httpx.Response:
            proof = _proof(self.key, method, url, nonce=nonce, ath=self._ath)
            return _send(self.http, method, url, headers={**headers, "DPoP": proof}, **kwargs)

        response = send(None)
        if nonce := _nonce_asked(response):
            response = send(nonce)
        return response


def _login(http: httpx.Client, target: str, client_id: str, client_secret: str) -> _Session:
    """Finds the pod and its OpenID provider from `target` (a WebID, or a URL in the pod), and gets
    a DPoP-bound token there with the client credentials.

    From a URL in the pod, the provider is its owner's (when the pod names one), else the one at the
    pod's origin, as on the Community Solid Server and most pod providers."""
    try:
        parts = urlsplit(target)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. a broken IPv6 address
        valid = False
    if not valid:
        raise PodError("unreachable", "the pod's address is not an http(s) URL")
    is_webid = "#" in target
    webid = target if is_webid else _owner(http, target)
    storage = None
    if webid:
        issuer, storage = _profile(http, webid, near=target)
    else:
        issuer = _origin(target) + "/"
    metadata = _metadata(http, issuer)
    key = ECKey.generate_key("P-256")
    token = _token(http, metadata["token_endpoint"], key, client_id, client_secret, target)
    session = _Session(http, target, key, token)
    if is_webid:
        session.pod = storage or _storage_above(session, target)
    return session


def _owner(http: httpx.Client, url: str) -> str | None:
    """The WebID the pod names as its owner (Solid Protocol §4.1, optional); None when it names none."""
    response = _send(http, "HEAD", url)
    for link in response.headers.get_list("link", split_commas=True):
        target, _, params = link.partition(";")
        if f'rel="{OWNER_REL}"' in params.replace(" ", ""):
            return urljoin(str(response.url), target.strip(" <>"))
    return None


def _profile(http: httpx.Client, webid: str, near: str) -> tuple[str, str | None]:
    """The WebID's OpenID provider (the one on the pod's origin when it names several) and its
    storage, if named."""
    document = webid.split("#", 1)[0]
    response = _send(http, "GET", document, headers={"Accept": "text/turtle"}, follow_redirects=True)
    if response.status_code != 200:
        raise _failed("unexpected", f"the WebID profile answered {response.status_code}", webid)
    graph = rdflib.Graph()
    try:
        graph.parse(data=response.text, format="turtle", publicID=str(response.url))
    except Exception as error:  # rdflib raises many kinds for bad Turtle
        raise _failed("unexpected", "the WebID profile is not Turtle", webid) from error
    subject = rdflib.URIRef(webid)
    issuers = sorted(str(o) for o in graph.objects(subject, SOLID.oidcIssuer))
    if not issuers:
        raise _failed("unexpected", "the WebID profile names no OpenID provider", webid)
    same_origin = [issuer for issuer in issuers if _origin(issuer) == _origin(near)]
    storages = sorted(str(o) for o in graph.objects(subject, PIM.storage))
    return (same_origin or issuers)[0], (storages[0] if storages else None)


def _metadata(http: httpx.Client, issuer: str) -> dict[str, Any]:
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    response = _send(http, "GET", url)
    try:
        metadata = response.json() if response.status_code == 200 else None
    except ValueError:
        metadata = None
    if not isinstance(metadata, dict) or not isinstance(metadata.get("token_endpoint"), str):
        raise _failed("unexpected", f"no OpenID provider metadata ({response.status_code})", issuer)
    if str(metadata.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
        raise _failed("unexpected", "the OpenID provider metadata names another issuer", issuer)
    return metadata


def _token(
    http: httpx.Client, endpoint: str, key: ECKey, client_id: str, client_secret: str, target: str
) -> str:
    # RFC 6749 §2.3.1: form-encode id and secret before Basic; httpx's auth= would not.
    pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
    headers = {"Authorization": f"Basic {base64.b64encode(pair.encode()).decode()}"}
    form = {"grant_type": "client_credentials", "scope": "webid"}

    def send(nonce: str | None) -> httpx.Response:
        proof = _proof(key, "POST", endpoint, nonce=nonce)
        return _send(http, "POST", endpoint, data=form, headers={**headers, "DPoP": proof})

    response = send(None)
    if nonce := _nonce_asked(response):
        response = send(nonce)
    error = _json(response).get("error")
    if response.status_code == 401 or error in ("invalid_client", "unauthorized_client", "invalid_grant"):
        raise _failed("login_refused", f"token endpoint answered {response.status_code} {error}", target)
    answer = _json(response)
    if response.status_code != 200 or not isinstance(answer.get("access_token"), str):
        raise _failed("unexpected", f"token endpoint answered {response.status_code} {error}", target)
    if str(answer.get("token_type", "")).lower() != "dpop":
        raise _failed("unexpected", "the token is not DPoP-bound", target)
    return answer["access_token"]


def _storage_above(session: _Session, webid: str) -> str:
    """The nearest container above the WebID's profile that says it is a storage (Solid Protocol
    §4.1): how a pod is found when the profile does not name it. Asked as the person, since the
    containers in between may be private."""
    parts = urlsplit(webid.split("#", 1)[0])
    segments = parts.path.split("/")[:-1]  # the profile document's container, then up
    while segments:
        url = urlunsplit((parts.scheme, parts.netloc, "/".join(segments) + "/", "", ""))
        response = session.request("HEAD", url)
        if any(
            str(PIM.Storage) in link and 'rel="type"' in link.replace(" ", "")
            for link in response.headers.get_list("link", split_commas=True)
        ):
            return url
        segments.pop()
    raise _failed("unexpected", "no storage above the WebID profile", webid)


def _proof(key: ECKey, method: str, url: str, *, nonce: str | None = None, ath: str | None = None) -> str:
    """A DPoP proof (RFC 9449 §4.2) for one request. Real time, not loket's clock: the server checks it."""
    parts = urlsplit(url)
    claims: dict[str, Any] = {
        "jti": secrets.token_urlsafe(16),
        "htm": method,
        "htu": urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
        "iat": int(time.time()),
    }
    if nonce:
        claims["nonce"] = nonce
    if ath:
        claims["ath"] = ath
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}
    return jwt.encode(header, claims, key)


def _nonce_asked(response: httpx.Response) -> str | None:
    """The nonce a server wants in the proof (RFC 9449 §8, §9), so the request can be sent once more."""
    nonce = response.headers.get("DPoP-Nonce")
    if not nonce or response.status_code not in (400, 401):
        return None
    asked = "use_dpop_nonce" in response.headers.get("WWW-Authenticate", "")
    return nonce if asked or _json(response).get("error") == "use_dpop_nonce" else None


def _send(http: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    kwargs.setdefault("follow_redirects", False)  # never carry the secret or a token elsewhere
    try:
        return http.request(method, url, timeout=TIMEOUT_SECONDS, **kwargs)
    except (httpx.TransportError, httpx.InvalidURL) as error:  # refused, DNS, TLS, timeouts
        raise _failed("unreachable", type(error).__name__, url) from error
    except httpx.HTTPError as error:  # too many redirects, undecodable body
        raise _failed("unexpected", type(error).__name__, url) from error


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _failed(reason: Reason, detail: str, url: str) -> PodError:
    log.warning("solid_push_failed", reason=reason, detail=detail, pod=_origin(url))
    return PodError(reason, detail)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
