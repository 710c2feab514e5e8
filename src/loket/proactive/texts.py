"""The proactive block's fixed texts (gettext domain `answers`, English message ids; see `loket.i18n`).
The rules' own texts (titles, reasons, questions) live with the rules, in four languages."""

from loket.i18n import N_

UNKNOWN_SUGGESTION = N_("I cannot find that suggestion among those for the profile you act in.")
MANDATE_WITHOUT_SUGGESTIONS = N_(
    "The mandate you act under does not include the services suggested to this person. Ask them to add "
    "it, or switch to your own profile."
)
OPT_OUT_AS_SELF = N_("Only the person or company itself can turn suggestions on or off, not under a mandate.")
# The inbox message: what it says carries no facts, only that there is something to look at.
OFFER_SUBJECT = N_("Services you are probably entitled to")
OFFER_BODY = N_(
    "Following a recent change in your situation, loket checked which services you are probably "
    'entitled to. Read why, and start them, under "For you" in your loket:'
)
UNKNOWN_RULE = N_("There is no such rule. GET /api/v1/rules lists them.")
