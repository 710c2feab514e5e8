"""Imports every block's tables, and the shared ones of plumbing (events), so Alembic and tests see the
whole schema."""

from loket import events
from loket.assistant import models as assistant_models
from loket.cases import models as cases_models
from loket.catalog import models as catalog_models
from loket.consent import models as consent_models
from loket.handoff import models as handoff_models
from loket.identity import models as identity_models
from loket.insight import models as insight_models
from loket.messages import models as messages_models
from loket.partners import models as partners_models
from loket.proactive import models as proactive_models
from loket.reports import models as reports_models
from loket.search import models as search_models

__all__ = [
    "assistant_models",
    "cases_models",
    "catalog_models",
    "consent_models",
    "events",
    "handoff_models",
    "identity_models",
    "insight_models",
    "messages_models",
    "partners_models",
    "proactive_models",
    "reports_models",
    "search_models",
]
