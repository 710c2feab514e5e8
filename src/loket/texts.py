"""Texts of the whole API that no block owns: too many requests, JSON required (gettext domain
`answers`, English message ids; see `loket.i18n`)."""

from loket.i18n import N_

TOO_MANY_REQUESTS = N_(
    "You are asking many questions in a short time. Wait %(seconds)s seconds and try again."
)
JSON_REQUIRED = N_("Send this request as JSON (Content-Type: application/json).")
