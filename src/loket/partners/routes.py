"""The token endpoint of OAuth2's client credentials grant (RFC 6749 §4.4), and its metadata (RFC 8414).

Its errors are the protocol's (`{"error", "error_description"}`, RFC 6749 §5.2), not loket's own form,
so that any OAuth2 client library reads them.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from loket.deps import provided
from loket.forms import FormTooLong, form_pairs, is_url_encoded
from loket.partners.schemas import InvalidClient, OAuthError, Scope
from loket.partners.service import PartnerService
from loket.ratelimit import limited

router = APIRouter(tags=["partners"])
PartnersDep = Annotated[PartnerService, provided(PartnerService)]
TOKEN_PATH = "/oauth/token"
MAX_FORM_BYTES = 4096
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.post(
    TOKEN_PATH,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["grant_type"],
                        "properties": {
                            "grant_type": {"type": "string", "enum": ["client_credentials"]},
                            "scope": {
                                "type": "string",
                                "description": "Space-separated; all the client's if absent.",
                            },
                            "client_id": {
                                "type": "string",
                                "description": "Or in HTTP Basic authentication.",
                            },
                            "client_secret": {
                                "type": "string",
                                "description": "Or in HTTP Basic authentication.",
                            },
                        },
                    }
                }
            },
        }
    },
    responses={
        200: {"description": "`access_token`, `token_type` (Bearer), `expires_in`, `scope`."},
        400: {"description": "RFC 6749 §5.2: invalid_request, unsupported_grant_type, invalid_scope."},
        401: {"description": "invalid_client: unknown client, wrong secret, or a revoked client."},
        429: {"description": "Too many attempts from this address."},
    },
    dependencies=[limited("auth")],
)
async def token(request: Request, partners: PartnersDep) -> JSONResponse:
    """A bearer token for a partner client: its id and secret in HTTP Basic authentication or in the
    form, and the scopes it asks for (all its own when none)."""
    try:
        form = await _form(request)
        client_id, secret = _credentials(request, form)
        if form.get("grant_type") != "client_credentials":
            raise OAuthError("unsupported_grant_type", "only grant_type=client_credentials is supported")
        issued = partners.issue(client_id, secret, form.get("scope"))
    except OAuthError as error:
        headers = {"WWW-Authenticate": 'Basic realm="loket"'} if isinstance(error, InvalidClient) else {}
        body = {"error": error.code, "error_description": error.message}
        return JSONResponse(body, status_code=error.status_code, headers=NO_STORE | headers)
    body = {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "scope": " ".join(issued.scopes),
    }
    return JSONResponse(body, headers=NO_STORE)


@router.get("/.well-known/oauth-authorization-server")
def metadata(request: Request) -> dict:
    """Where partners get tokens, and what they may ask for (RFC 8414)."""
    base = str(request.base_url).rstrip("/")
    return {
        "issuer": base,
        "token_endpoint": base + TOKEN_PATH,
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": [scope.value for scope in Scope],
        "response_types_supported": [],
    }


async def _form(request: Request) -> dict[str, str]:
    """The URL-encoded body; a parameter sent twice is an error (RFC 6749 §3.2)."""
    if not is_url_encoded(request):
        raise OAuthError("invalid_request", "send the parameters as application/x-www-form-urlencoded")
    try:
        pairs = await form_pairs(request, MAX_FORM_BYTES, 10)
    except FormTooLong:
        raise OAuthError("invalid_request", "the request is too long") from None
    except ValueError:  # more fields than that
        raise OAuthError("invalid_request", "too many parameters") from None
    names = [name for name, _ in pairs]
    if len(names) != len(set(names)):
        raise OAuthError("invalid_request", "a parameter was sent more than once")
    return dict(pairs)


def _credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    """From HTTP Basic (its parts form-encoded, RFC 6749 §2.3.1) or the form, never both."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        if "client_secret" in form:
            raise OAuthError("invalid_request", "send the client's credentials one way, not two")
        try:
            client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidClient("the Basic credentials cannot be read") from None
        return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))
    if not form.get("client_id") or not form.get("client_secret"):
        raise InvalidClient("send the client's id and secret (HTTP Basic, or client_id and client_secret)")
    return form["client_id"], form["client_secret"]
