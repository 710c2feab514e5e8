"""The partners block's fixed texts (gettext domain `answers`, English message ids; see `loket.i18n`)."""

from loket.i18n import N_

INVALID_TOKEN = N_("This access token is not valid (any more). Ask the token endpoint for a new one.")
INSUFFICIENT_SCOPE = N_("This client may not use this API: its token lacks the scope %(scope)s.")
QUOTA_REACHED = N_("This client has used up its quota. Wait %(seconds)s seconds and try again.")
NAME_NEEDED = N_("Give the client a name of at most %(count)s characters.")
SCOPE_NEEDED = N_("Choose at least one API the client may use.")
UNKNOWN_SCOPE = N_("There is no scope %(scope)s. The scopes are: %(scopes)s.")
SANDBOX_READS_ONLY = N_("A sandbox client can only search and ask.")
AGENCY_NEEDED = N_("The scopes %(scopes)s act for an agency: choose an active one.")
BAD_QUOTA = N_(
    "%(quota)s is not a quota. Write it as a number per second, minute, hour or day, such as 600/minute."
)
NAME_TAKEN = N_("A client named %(name)s exists already.")
SANDBOX_NOT_READY = N_("The sandbox is being prepared. Try again in half a minute.")
