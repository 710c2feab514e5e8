"""The catalog block's fixed texts: how its open-data record (DCAT) names the catalogue (gettext domain
`answers`, English message ids; see `loket.i18n`)."""

from loket.i18n import N_

CATALOGUE_TITLE = N_("loket's open data")
DATASET_TITLE = N_("Public services")
DATASET_DESCRIPTION = N_(
    "The public services this assistant answers from, in the IPDC-LPDC vocabulary: every service at its "
    "own address, and every change to them in a Linked Data Event Stream."
)
FEED_TITLE = N_("Every change, as a Linked Data Event Stream")
SERVICES_TITLE = N_("Every service at its own address, named in the stream's members")
