"""OpenID Connect login as a relying party: Authorization Code flow with PKCE, state and nonce.

Authlib builds the requests (authorization URL, PKCE challenge, random values); joserfc checks the ID
token: signature against the provider's published keys, issuer, audience, expiry, issue time and
nonce. The provider's metadata and keys come from discovery and are cached; an unknown key id fetches
the keys again, so the provider can rotate them. The ID token is read once, at login, and not kept:
logging out at the provider names loket by its client id instead.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from loket import clock
from loket.identity import national_number
from loket.identity.schemas import Login

METADATA_TTL = 3600.0


class OidcFailed(Exception):
    """The provider's answer cannot be trusted or used. The reason is for the log, never for the user."""


@dataclass(frozen=True)
class LoginRequest:
    """What the browser is sent to, and what must be kept until it comes back."""

    url: str
    state: str
    nonce: str
    code_verifier: str


class OidcClient:
    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str | None,
        scopes: str,
        clock_skew: int,
        acr_values: tuple[str, ...] = (),
        timeout: float = 10.0,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.scopes = scopes
        self.clock_skew = clock_skew
        self.acr_values = acr_values
        self.http = httpx.Client(timeout=timeout)
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._metadata is None or time.monotonic() - self._fetched_at > METADATA_TTL:
                self._metadata = self._get_json(f"{self.issuer}/.well-known/openid-configuration")
                if self._metadata.get("issuer", "").rstrip("/") != self.issuer:
                    self._metadata = None
                    raise OidcFailed("the discovery document names another issuer")
                self._keys = None
                self._fetched_at = time.monotonic()
            return self._metadata

    def login_request(self, redirect_uri: str, again: bool = False) -> LoginRequest:
        """`again`: the provider must ask who logs in (and how) even when it has a session, so that a
        person whose login was not strong enough can choose a stronger method."""
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        params = [
            ("response_type", "code"),
            ("client_id", self.client_id),
            ("redirect_uri", redirect_uri),
            ("scope", self.scopes),
            ("state", state),
            ("nonce", nonce),
            ("code_challenge", create_s256_code_challenge(verifier)),
            ("code_challenge_method", "S256"),
        ]
        if self.acr_values:
            params.append(("acr_values", " ".join(self.acr_values)))
        if again:
            params.append(("prompt", "login"))
        url = add_params_to_uri(self.metadata()["authorization_endpoint"], params)
        return LoginRequest(url, state, nonce, verifier)

    def finish_login(self, code: str, redirect_uri: str, code_verifier: str, nonce: str) -> dict:
        """Exchanges the code and returns the ID token's validated claims."""
        auth = (self.client_id, self.client_secret) if self.client_secret else None
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        if not auth:
            form["client_id"] = self.client_id
        try:
            response = self.http.post(self.metadata()["token_endpoint"], data=form, auth=auth)
        except httpx.HTTPError as error:
            raise OidcFailed(f"token endpoint unreachable: {type(error).__name__}") from error
        if response.status_code != 200:
            raise OidcFailed(f"token endpoint answered {response.status_code}")
        id_token = response.json().get("id_token")
        if not isinstance(id_token, str):
            raise OidcFailed("the token response holds no ID token")
        return self.validate(id_token, nonce)

    def validate(self, id_token: str, nonce: str) -> dict:
        try:
            token = jwt.decode(id_token, self._key_set(id_token), algorithms=["RS256", "PS256", "ES256"])
            jwt.JWTClaimsRegistry(
                now=lambda: int(clock.now().timestamp()),
                leeway=self.clock_skew,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.client_id},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(token.claims)
        except (JoseError, ValueError) as error:
            raise OidcFailed(f"ID token refused: {type(error).__name__}") from error
        return token.claims

    def logout_url(self, post_logout_redirect_uri: str) -> str | None:
        """RP-initiated logout at the provider, when it offers it. Without an ID token as hint the
        provider asks the person to confirm, and checks the return address against the client's."""
        endpoint = self.metadata().get("end_session_endpoint")
        if not endpoint:
            return None
        params = [("post_logout_redirect_uri", post_logout_redirect_uri), ("client_id", self.client_id)]
        return add_params_to_uri(endpoint, params)

    def _key_set(self, id_token: str) -> KeySet:
        kid = jws.extract_compact(id_token.encode()).headers().get("kid")
        uri = self.metadata().get("jwks_uri")
        with self._lock:
            if self._keys is None or (kid and not any(key.kid == kid for key in self._keys.keys)):
                if not uri:
                    raise OidcFailed("the provider publishes no keys")
                self._keys = KeySet.import_key_set(self._get_json(uri))
            return self._keys

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self.http.get(url)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise OidcFailed(f"{url} unusable: {type(error).__name__}") from error


# The Flemish identity platform's target groups; the ones for local and other governments act as LB.
PROFILE_KINDS = {"BUR": "BUR", "EA": "EA", "VER": "VER", "LB": "LB", "GID": "LB", "OV": "LB"}


def login_from_claims(claims: dict, names: dict[str, str], issuer: str) -> Login:
    """Maps the provider's claims, by the configured claim names, onto a login. The person is the
    issuer's subject; the national number is only what the issuer says about them."""

    def claim(key: str) -> str:
        value = claims.get(names.get(key, ""), "")
        return str(value).strip() if value is not None else ""

    number = national_number.compact(claim("national_number"))
    name = claim("name") or " ".join(filter(None, (claim("given_name"), claim("family_name"))))
    kind = PROFILE_KINDS.get(claim("profile_kind").upper())
    organisations = []
    if kind and kind != "BUR" and claim("organisation_number"):
        organisations.append(
            {"kind": kind, "number": claim("organisation_number"), "name": claim("organisation_name")}
        )
    return Login(
        subject=f"{issuer}#{claims['sub']}",
        name=name or claims["sub"],
        national_number=number if national_number.is_valid(number) else None,
        method="oidc",
        organisations=organisations,
        active_kind=kind,
        acr=str(claims["acr"]) if claims.get("acr") else None,
    )
