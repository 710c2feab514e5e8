"""What the pages use of the blocks, by type; `create_app` provides each (see `loket.deps`)."""

from __future__ import annotations

from typing import Annotated

from loket.assistant.service import AssistantService
from loket.cases.service import CaseService
from loket.catalog.service import CatalogService
from loket.config import Settings
from loket.consent.choices import Choices
from loket.db import Database
from loket.deps import provided
from loket.handoff.service import HandoffService
from loket.identity.oidc import OidcClient
from loket.identity.service import IdentityService
from loket.insight.gaps import GapService
from loket.insight.review import ReviewService
from loket.insight.service import InsightService
from loket.messages.notify import Notifier
from loket.messages.service import MessageService
from loket.partners.service import PartnerService
from loket.proactive.service import ProactiveService
from loket.reports.addresses import AddressRegister
from loket.reports.service import ReportService
from loket.search.service import SearchService

SettingsDep = Annotated[Settings, provided(Settings)]
DatabaseDep = Annotated[Database, provided(Database)]
CatalogDep = Annotated[CatalogService, provided(CatalogService)]
SearchDep = Annotated[SearchService, provided(SearchService)]
AssistantDep = Annotated[AssistantService, provided(AssistantService)]
IdentityDep = Annotated[IdentityService, provided(IdentityService)]
OidcDep = Annotated[OidcClient | None, provided(OidcClient, optional=True)]
CasesDep = Annotated[CaseService, provided(CaseService)]
MessagesDep = Annotated[MessageService, provided(MessageService)]
NotifierDep = Annotated[Notifier, provided(Notifier)]
HandoffDep = Annotated[HandoffService, provided(HandoffService)]
ProactiveDep = Annotated[ProactiveService, provided(ProactiveService)]
ChoicesDep = Annotated[Choices, provided(Choices)]
InsightDep = Annotated[InsightService, provided(InsightService)]
ReviewsDep = Annotated[ReviewService, provided(ReviewService)]
GapsDep = Annotated[GapService, provided(GapService)]
PartnersDep = Annotated[PartnerService, provided(PartnerService)]
ReportsDep = Annotated[ReportService, provided(ReportService)]
AddressesDep = Annotated[AddressRegister | None, provided(AddressRegister, optional=True)]
