"""The consent block's texts for people (gettext domain `answers`, English message ids)."""

from loket.i18n import N_

POD_FAILED = {
    "unreachable": N_("Your pod could not be reached. Check its address and try again later."),
    "login_refused": N_(
        "Your pod provider refused the login. Check the client ID and secret you made for loket there."
    ),
    "write_refused": N_("Your pod refused to store the file. Check that these credentials may write to it."),
    "unexpected": N_("Your pod gave an answer loket did not expect. Nothing was stored."),
}
POD_ADDRESS = N_("Give your pod's address or your WebID as a public https address.")
CHOICE_END = N_("Only a choice to turn something on can end, and only at a moment still to come.")
# The data categories of the register (the access log's `what`), as the person reads them.
CATEGORIES = {
    "person": N_("your personal details"),
    "mandate": N_("your data, under your mandate"),
    "cases": N_("your cases"),
    "case": N_("one of your cases"),
    "messages": N_("your messages"),
    "message": N_("one of your messages"),
    "suggestions": N_("your facts, to suggest services"),
    "conversation": N_("your conversation with the assistant"),
    "contact": N_("your contact details"),
    "passkey_added": N_("a passkey added to your login"),
    "passkey_used": N_("your passkey, to open loket"),
    "passkey_removed": N_("a passkey removed from your login"),
    "report": N_("a report you made"),
    "report_photo": N_("a photo of a report you made"),
}
