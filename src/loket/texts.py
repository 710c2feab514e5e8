"""Texts of the whole API that no block owns: JSON required (gettext domain `answers`, English
message ids; see `loket.i18n`). The rate limiter's are in `loket.ratelimit`."""

from loket.i18n import N_

JSON_REQUIRED = N_("Send this request as JSON (Content-Type: application/json).")
