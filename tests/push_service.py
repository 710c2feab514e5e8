"""A Web Push service for the tests: the server at a push subscription's `endpoint` (FCM, Mozilla
autopush), and the browser that holds the subscription's keys.

Chromium cannot reach Google's push service offline, so the tests play the push service themselves.
`Subscriber` makes the key pair and auth secret a browser makes (RFC 8291) and decrypts what it is sent
with them, as the browser would; `PushService` is a real HTTP server taking `POST /push/<token>`
(RFC 8030) and recording every request, so a test checks the exact payload and headers loket sends.

    subscriber = Subscriber()
    with PushService() as service:
        service.answer("gone", 410)  # the subscription has expired
        ...  # loket sends to subscriber.subscription(service.endpoint("t1"))
        [message] = service.wait_for(1, "t1")
        json.loads(subscriber.decrypt(message.body))
        vapid_claims(message.headers)["sub"]  # VAPID (RFC 8292), its signature checked

`browser_push_shim` is the browser's side in Playwright: Chromium's own `pushManager.subscribe` needs
Google's servers, so an init script stands in for it and hands out the subscriber's subscription.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.jwk import ECKey

PATH = "/push/"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Subscriber:
    """A browser's side of one push subscription: a P-256 key pair and a 16-byte auth secret."""

    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()), repr=False
    )
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16), repr=False)

    def subscription(self, endpoint: str) -> dict[str, Any]:
        """The subscription as `PushSubscription.toJSON()` gives it, the way loket receives it."""
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"endpoint": endpoint, "keys": {"p256dh": _b64url(point), "auth": _b64url(self.auth_secret)}}

    def decrypt(self, body: bytes) -> bytes:
        """The plaintext of an `aes128gcm` message (RFC 8188, with the keys of RFC 8291)."""
        return http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth_secret, version="aes128gcm"
        )


@dataclass(frozen=True)
class Received:
    token: str
    headers: dict[str, str]  # names in lower case
    body: bytes


class PushService:
    """A push service on 127.0.0.1: records each `POST /push/<token>` and answers 201 Created, or the
    status set with `answer` (404 or 410 for a subscription that is gone, 429 or 5xx for trouble)."""

    def __init__(self) -> None:
        self._received: list[Received] = []
        self._answers: dict[str, int] = {}
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> PushService:
        threading.Thread(target=self._server.serve_forever, daemon=True, name="push-service").start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def endpoint(self, token: str) -> str:
        return f"{self.url}{PATH}{token}"

    def answer(self, token: str, status: int) -> None:
        with self._changed:
            self._answers[token] = status

    def received(self, token: str | None = None) -> list[Received]:
        with self._changed:
            return [r for r in self._received if token is None or r.token == token]

    def wait_for(self, count: int, token: str | None = None, timeout: float = 10) -> list[Received]:
        """The first `count` requests (for `token`), once that many have arrived."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.received(token)) >= count, timeout):
                found = self.received(token)
                raise AssertionError(f"{len(found)} of {count} push messages after {timeout}s: {found}")
            return self.received(token)[:count]

    def _record(self, message: Received) -> int:
        with self._changed:
            self._received.append(message)
            self._changed.notify_all()
            return self._answers.get(message.token, 201)


def _handler(service: PushService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            token = self.path.removeprefix(PATH)
            if not self.path.startswith(PATH) or not token or "/" in token:
                status = 404
            else:
                headers = {name.lower(): value for name, value in self.headers.items()}
                status = service._record(Received(token, headers, body))
            self.send_response(status)
            if status == 201:
                self.send_header("Location", f"{service.url}/message/{token}/{time.monotonic_ns()}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def vapid_claims(headers: dict[str, str]) -> dict[str, Any]:
    """The claims of a request's VAPID JWT, its ES256 signature checked with the key sent along.

    RFC 8292's `Authorization: vapid t=<JWT>, k=<key>` (pywebpush 2 and py_vapid's Vapid02), or the
    drafts' `Authorization: WebPush <JWT>` with `Crypto-Key: p256ecdsa=<key>` (py_vapid's Vapid01).
    """
    headers = {name.lower(): value for name, value in headers.items()}
    scheme, _, params = headers["authorization"].partition(" ")
    if scheme.lower() == "vapid":
        fields = dict(part.strip().split("=", 1) for part in params.split(","))
        token, key = fields["t"], fields["k"]
    elif scheme.lower() == "webpush":
        crypto_key = headers["crypto-key"].replace(",", ";").split(";")
        fields = dict(part.strip().split("=", 1) for part in crypto_key)
        token, key = params.strip(), fields["p256ecdsa"]
    else:
        raise AssertionError(f"not a VAPID authorization: {headers['authorization']!r}")
    point = _unb64url(key)
    assert len(point) == 65 and point[0] == 4, f"not an uncompressed P-256 point: {key!r}"
    jwk = ECKey.import_key({"kty": "EC", "crv": "P-256", "x": _b64url(point[1:33]), "y": _b64url(point[33:])})
    return dict(jwt.decode(token, jwk, algorithms=["ES256"]).claims)


_SHIM = """(() => {
  const subscription = %s;
  const stored = "push-shim:" + subscription.endpoint;
  const bytes = (text) =>
    Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0)).buffer;
  const make = (options) => ({
    endpoint: subscription.endpoint,
    expirationTime: null,
    options: {userVisibleOnly: options.userVisibleOnly, applicationServerKey: bytes(options.key)},
    getKey: (name) => (name in subscription.keys ? bytes(subscription.keys[name]) : null),
    toJSON: () => ({endpoint: subscription.endpoint, expirationTime: null, keys: {...subscription.keys}}),
    unsubscribe: async () => { localStorage.removeItem(stored); return true; },
  });
  const base64url = (key) => {
    if (typeof key === "string") return key;
    const view = ArrayBuffer.isView(key) ? new Uint8Array(key.buffer, key.byteOffset, key.byteLength)
      : new Uint8Array(key);
    return btoa(String.fromCharCode(...view)).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  };
  PushManager.prototype.subscribe = async function (options = {}) {
    if (Notification.permission !== "granted") {
      throw new DOMException("Registration failed - permission denied", "NotAllowedError");
    }
    if (!options.applicationServerKey) {
      throw new DOMException("Registration failed - missing applicationServerKey", "AbortError");
    }
    const saved = {userVisibleOnly: !!options.userVisibleOnly, key: base64url(options.applicationServerKey)};
    localStorage.setItem(stored, JSON.stringify(saved));
    return make(saved);
  };
  PushManager.prototype.getSubscription = async function () {
    const saved = localStorage.getItem(stored);
    return saved ? make(JSON.parse(saved)) : null;
  };
})();
"""


def browser_push_shim(subscription: dict[str, Any]) -> str:
    """An init script (Playwright's `add_init_script`) making the page's `pushManager.subscribe` and
    `getSubscription` give `subscription` (a `Subscriber.subscription(...)`) instead of asking Google.

    It subscribes only with notifications granted (`permissions=["notifications"]` on the context) and
    an `applicationServerKey`, which the subscription's `options` keep, as Chromium does. The subscription
    lives in the page origin's localStorage, so it outlasts a reload; service workers get none.
    """
    return _SHIM % json.dumps(subscription)
