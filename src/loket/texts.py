"""Texts of the whole API that no block owns: JSON required, request too large (gettext domain
`answers`, English message ids; see `loket.i18n`). The rate limiter's are in `loket.ratelimit`."""

from loket.i18n import N_

JSON_REQUIRED = N_("Send this request as JSON (Content-Type: application/json).")
REQUEST_TOO_LARGE = N_("This request is too large: send at most %(kb)s KB.")
