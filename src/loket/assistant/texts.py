"""The assistant's fixed texts: the answers it gives without sources, its notices and its errors.

They are stored with the answers. Gettext domain `answers`, English message ids; see `loket.i18n`.
"""

from loket.i18n import N_

AI_LABEL = N_("This answer comes from an A.I. assistant. Check it against the source.")
FROM_ORGANISATION = N_("Information from %(organisation)s.")
UNANSWERABLE = N_(
    "I cannot find reliable information about that. Try asking in another way or call the Flemish "
    "information line on the free number %(infoline)s."
)
PERSONAL_DATA = N_(
    "Your question contains personal details, such as a national number, bank account, phone number or "
    "e-mail address. I do not process them, to protect your privacy. Ask again without them. Is it about "
    "your own case? Then log in."
)
CRISIS_SUICIDE = N_(
    "I am sorry you feel this way. You do not have to face this alone: call the suicide prevention line on "
    "%(suicide_line)s, free and anonymous, day and night. If you or someone is in immediate danger, call "
    "%(emergency)s."
)
CRISIS_EMERGENCY = N_(
    "Is someone's life, health or safety in danger? Call %(emergency)s now. It is free and answers day and "
    "night."
)
ABUSE = N_(
    "I will not do that. I answer questions about public services, based on official information. Feel "
    "free to ask about those."
)
EMPTY_QUESTION = N_("Please ask a question.")
QUESTION_TOO_LONG = N_("Your question is too long. Keep it under %(limit)s characters.")
GREETING = N_(
    "Hello! I am the government's digital assistant, an A.I. assistant. Ask me about a public service, a "
    "benefit, a certificate or a permit."
)
OUT_OF_SCOPE = N_(
    "I cannot help with that. I only answer questions about public services, such as documents, benefits, "
    "taxes, permits and allowances."
)
HANDOFF = N_(
    "You would like to talk to a person. Call the Flemish information line on the free number "
    "%(infoline)s, on working days from 9 am to 7 pm."
)
NEEDS_LOGIN = N_("That is about your own case or data. Log in and I can look it up for you.")
NO_MESSAGES = N_("You have no messages in this profile.")
NEW_MESSAGES = N_("You have %(count)s new message(s):")
NO_NEW_MESSAGES = N_("You have no new messages. The latest:")
MESSAGE_LINE = N_("“%(subject)s” from %(sender)s, received on %(date)s.")
MAINTENANCE = N_("The assistant is temporarily unavailable: %(reason)s. Please try again later.")
UNKNOWN_CONVERSATION = N_("This conversation does not exist (any more). Start a new one.")
BAD_RATING = N_("Give your rating as 'up' or 'down'.")
OTHER_LANGUAGE = N_("This information is only available in %(language)s.")
NO_CASES = N_(
    "I find no running cases for you in this profile. Are you acting for someone else or for a company? "
    "Then choose that profile first."
)
YOUR_CASES = N_("You have %(count)s running cases.")
CASE_STATUS = N_(
    "Your case '%(name)s' (number %(number)s) at %(organisation)s: %(status)s, last changed on %(date)s."
)
CASE_ACTION = N_("For '%(name)s' you still need to do something: %(action)s.")
CASE_NO_ACTION = N_("You do not need to do anything at the moment.")
NOTHING_TO_DO = N_("You do not need to do anything for any of your running cases.")
OWN_CASE_NOT_STORED = N_("(Answer from your cases: not kept.)")
OWN_MESSAGES_NOT_STORED = N_("(Answer from your messages: not kept.)")
ENTITLEMENTS_NOT_STORED = N_("(Answer from what loket knows of you: not kept.)")
FOR_YOU_INTRO = N_("According to the rules, and what loket knows of you:")
ENTITLED_ELIGIBLE = N_("%(service)s: you are probably entitled to it; you can apply.")
ENTITLED_GRANTED = N_("%(service)s: you get it automatically, without applying.")
ENTITLED_NEED_INFO = N_("%(service)s: perhaps; it depends on this: %(questions)s")
NOTHING_FOR_YOU_YET = N_(
    "I see no suggestions for you about this yet. Once an authentic source tells loket, they appear under "
    '"For you" in your loket.'
)
SUGGESTIONS_OFF = N_(
    "You turned off the use of your data for suggestions, so I only explain the rules. You can turn it "
    'on again under "For you" in your loket.'
)
RULES_INTRO = N_("These services can follow; whether they apply to you depends on the rules:")
PASSED_TO_AGENT = N_("Your message was passed to the person helping you.")
ACCESS_LOG_NEEDS_LOGIN = N_(
    'Who used your data is shown only to you. Log in and I can tell you, or see "Who used my data" in '
    "your loket."
)
ACCESS_LOG_INTRO = N_("The latest uses of your data, the newest first:")
ACCESS_LOG_ORGANISATION_INTRO = N_("The latest uses of the data of %(name)s, the newest first:")
ACCESS_LOG_LINE = N_("%(date)s: %(who)s; %(what)s; why: %(why)s.")
ACCESS_LOG_NOTHING = N_(
    'No one but you has used your data in loket yet. Every use will be shown under "Who used my data".'
)
ACCESS_LOG_MORE = N_('All uses, with their legal basis and filters, are under "Who used my data".')
ACCESS_LOG_PAGE = N_("Who used my data")
REPORT_OFFER = N_(
    "You can report this to %(authority)s. Start a report with the link below: you can add a description, "
    "photos and the place."
)
REPORT_START = N_("Start a report: %(category)s")
ACCESS_LOG_NOT_STORED = N_("(Answer from who used your data: not kept.)")
ACCESS_BY_LOKET = N_("loket (automatically)")
ACCESS_FOR_YOU = N_("%(name)s, acting for you")
# The access log's data categories (processing.yaml) in plain words.
