"""The identity block's fixed texts: logging in, profiles, mandates and roles (gettext domain
`answers`, English message ids; see `loket.i18n`)."""

from loket.i18n import N_

NOT_LOGGED_IN = N_("You are not logged in (any more). Log in and try again.")
ROLE_REQUIRED = N_("You do not have access to this. Ask the administrator for the role %(role)s.")
LOGIN_FAILED = N_("Logging in did not work. Please try again. If it still fails, call %(infoline)s.")
LOGIN_CANCELLED = N_("You cancelled logging in. You can also use the assistant without logging in.")
UNKNOWN_DEMO_PERSON = N_("That demo person does not exist. Choose a person from the list.")
PROFILE_NOT_HELD = N_("You cannot act in that profile. Choose one of your own profiles.")
MANDATES_AS_SELF = N_("You manage mandates only in your own name. Switch to acting as yourself first.")
BAD_NATIONAL_NUMBER = N_(
    "That is not a valid national number. It has 11 digits; check it on the identity card."
)
MANDATE_TO_SELF = N_("You cannot give a mandate to yourself.")
MANDATE_DATES = N_("The end date is before the start date. Choose an end date after the start date.")
MANDATE_NAME = N_("Fill in the name of the person you give the mandate to.")
UNKNOWN_MANDATE = N_("That mandate does not exist, or you did not give it.")
MANDATE_NOT_VALID = N_("This mandate does not apply today: it was revoked, has not started yet or has ended.")
MANDATE_OUT_OF_SCOPE = N_("Your mandate does not cover this kind of case.")
STRONGER_LOGIN_NEEDED = N_(
    "The way you logged in is not strong enough for your personal data. "
    "Log in again with a stronger method, such as your eID or itsme."
)
FULL_LOGIN_NEEDED = N_(
    "You opened loket with your passkey. For this, log in again with the government's login service, "
    "such as your eID or itsme."
)
PASSKEY_REFUSED = N_("That passkey did not work. Log in with the government's login service instead.")
PASSKEY_EXPIRED = N_(
    "Your passkey opens loket for %(days)s days after you last logged in with the government's login "
    "service. Log in there again; after that your passkey works again."
)
PASSKEY_NOT_REGISTERED = N_("Your passkey could not be saved. Please try again.")
PASSKEY_AFTER_FULL_LOGIN = N_(
    "You can add a passkey only after logging in with the government's login service, not with a passkey."
)
UNKNOWN_PASSKEY = N_("That passkey does not exist, or it is not yours.")
PASSKEY_NAME = N_("Give the passkey a name of 1 to 100 characters.")
