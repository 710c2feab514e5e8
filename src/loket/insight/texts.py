"""The insight block's texts (gettext domain `answers`, English message ids)."""

from loket.i18n import N_

BAD_FILTER = N_("Choose a period of 24h, 30d or 90d, and a channel of web, widget or api.")
