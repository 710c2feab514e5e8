"""The reports block's fixed texts (gettext domain `answers`, English message ids; see `loket.i18n`)."""

from loket.i18n import N_

UNKNOWN_CATEGORY = N_("There is no category %(category)s. The categories are: %(categories)s.")
OUTSIDE_AREA = N_("This place is outside the area we take reports for. Check the location.")
DESCRIPTION_NEEDED = N_("Describe the problem in at most %(count)s characters.")
PHOTO_NEEDED = N_("Add at least one photo.")
TOO_MANY_PHOTOS = N_("Add at most %(count)s photos.")
PHOTO_TOO_LARGE = N_("A photo may be at most %(mb)s MB.")
NOT_A_PHOTO = N_("%(name)s is not a photo we can read. Send a JPEG, PNG or WebP image.")
PHOTO_TOO_BIG = N_("%(name)s has too many pixels. Send a smaller photo.")
UNKNOWN_PHOTO = N_("There is no such photo, or it is not yours to see.")
UNKNOWN_REPORT_OF_YOURS = N_("There is no such report, or it is not yours to see.")
NOT_SAME_SITE = N_("Send the report from loket's own pages, or without a session cookie.")
UNKNOWN_REPORT = N_("There is no open report like that to follow, or you are not logged in.")
CONTACT_TOO_LONG = N_("Give a contact of at most %(count)s characters.")
STATUS_NEEDED = N_("Give the report's new status in at most %(count)s characters.")
DETAILS_TOO_LONG = N_("Give the details in at most %(count)s characters.")
# The message to the people following a report when its authority changes it (in Dutch: see `_tell`).
UPDATE_SUBJECT = N_("Your report: %(category)s")
UPDATE_BODY = N_("%(authority)s changed the status of your report of %(date)s to: %(status)s.")
UPDATE_CLOSED = N_("Your report is handled and closed.")
NOT_IN_QUEUE = N_("There is no report %(id)s in your queue.")
REPORT_CLOSED = N_("This report is closed; it can no longer change.")
