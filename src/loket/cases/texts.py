"""The cases block's fixed texts (gettext domain `answers`, English message ids; see `loket.i18n`)."""

from loket.i18n import N_

UNKNOWN_CASE = N_("I cannot find that case among the cases you can see in this profile.")
