"""The messages block's fixed texts (gettext domain `answers`, English message ids; see `loket.i18n`)."""

from loket.i18n import N_

UNKNOWN_MESSAGE = N_("I cannot find that message among the messages you can see in this profile.")
MANDATE_WITHOUT_MESSAGES = N_(
    "The mandate you act under does not include this person's messages. Ask them to add it, or switch to "
    "your own profile."
)
# The only words a notification carries, beside the sender's name: no name, subject, link or number.
NOTIFICATION = N_("You have a new message in your loket")
VERDICT_GENUINE = N_(
    "This code belongs to a message the government sent through loket. Read it in your loket, after "
    "logging in: never through a link in an e-mail or text message."
)
VERDICT_NOT_FOUND = N_(
    "We do not know this code or text. loket never sends links, names or amounts in an e-mail or text "
    "message: if it asks you to click, log in or pay, it is not from us. Do not answer it."
)
VERDICT_PHISHING = N_(
    "This is a known phishing message. It is not from the government: do not click its links, do not "
    "answer it, and delete it."
)
VERIFY_NOTHING = N_("Give the reference code printed on the message, or paste its text.")
# What the check advises, per verdict
ADVICE = {"genuine": VERDICT_GENUINE, "not_found": VERDICT_NOT_FOUND, "known_phishing": VERDICT_PHISHING}
