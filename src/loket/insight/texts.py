"""The insight block's texts (gettext domain `answers`, English message ids)."""

from loket.i18n import N_

BAD_FILTER = N_("Choose a period of 24h, 30d or 90d, and a channel of web, widget or api.")
NOTHING_TO_REVIEW = N_(
    "There is no answer to review here: the address is wrong, or the conversation has been removed."
)
SENTENCE_VERDICTS = N_("Mark each of the answer's %(count)s sentences as right or wrong.")
CITATION_VERDICTS = N_("Mark each of the answer's %(count)s sources as right or wrong.")
REASON_NEEDED = N_("Say why: you marked part of the answer as wrong.")
REASON_TOO_LONG = N_("Keep the reason to %(count)s characters at most.")
