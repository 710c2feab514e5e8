"""Agencies sign every message: a JWS with a detached payload (RFC 7515 Appendix F) over the request
body's exact bytes, `alg` EdDSA with an Ed25519 key the agency registered, `kid` that key's id.

Detached, so the body the agency sends is the body that is signed: nothing is re-serialised, and what
loket keeps (body and signature) can be checked again by anyone with the agency's public key. The key
id is the key's RFC 7638 thumbprint: the same key registered twice has the same id.
"""

from __future__ import annotations

import base64
import json
import warnings

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from loket.errors import LoketError

ALGORITHMS = ["EdDSA", "Ed25519"]  # RFC 8037's name, and RFC 9864's fully specified one
MAX_SIGNATURE = 2000


class SignatureMissing(LoketError):
    status_code = 401
    code = "signature_missing"


class SignatureInvalid(LoketError):
    status_code = 401
    code = "signature_invalid"


class SignatureMalformed(LoketError):
    status_code = 422
    code = "signature_malformed"


def public_key(pem: bytes | str) -> tuple[str, str]:
    """An Ed25519 public key (PEM) as loket keeps it, and its key id; ValueError for anything else."""
    try:
        key = OKPKey.import_key(pem)
    except (JoseError, ValueError, TypeError) as error:
        raise ValueError("not a PEM public key") from error
    if key.curve_name != "Ed25519":
        raise ValueError(f"an Ed25519 key is needed, not {key.curve_name}")
    if key.is_private:
        raise ValueError("this is a private key: register the public key only, and keep this one secret")
    return key.as_pem(private=False).decode(), key.thumbprint()


def key_id(signature: str | None) -> str:
    """The `kid` a signature names, read before verifying so the right key can be found."""
    if not signature:
        raise SignatureMissing(
            "sign the request body: header Loket-Signature, a JWS with a detached payload (EdDSA)"
        )
    header, payload, _ = _parts(signature)
    if payload:
        raise SignatureMalformed("Loket-Signature must have a detached payload: header..signature")
    if header.get("alg") not in ALGORITHMS:
        raise SignatureMalformed(f"Loket-Signature: alg must be EdDSA, not {header.get('alg')!r}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise SignatureMalformed("Loket-Signature: the header needs the kid of a registered key")
    return kid


def verify(signature: str, body: bytes, pem: str) -> None:
    """Raises SignatureInvalid unless `signature` signs exactly `body` with the key `pem`."""
    try:
        with warnings.catch_warnings():
            # joserfc warns that RFC 9864 deprecates the name "EdDSA": the contract names it.
            warnings.simplefilter("ignore")
            jws.deserialize_compact(signature, OKPKey.import_key(pem), payload=body, algorithms=ALGORITHMS)
    except (JoseError, ValueError) as error:
        raise SignatureInvalid("the signature does not match this body and key") from error


def _parts(signature: str) -> tuple[dict, str, str]:
    pieces = signature.strip().split(".")
    if len(signature) > MAX_SIGNATURE or len(pieces) != 3:
        raise SignatureMalformed("Loket-Signature is not a JWS in compact serialization")
    try:
        header = json.loads(base64.urlsafe_b64decode(pieces[0] + "=" * (-len(pieces[0]) % 4)))
    except (ValueError, UnicodeDecodeError) as error:
        raise SignatureMalformed("Loket-Signature: its header is not base64url JSON") from error
    if not isinstance(header, dict):
        raise SignatureMalformed("Loket-Signature: its header is not a JSON object")
    return header, pieces[1], pieces[2]
