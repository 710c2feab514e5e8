"""The composition root: every block built once for one configuration, for the app and the CLI alike."""

from __future__ import annotations

from dataclasses import dataclass

from loket.assistant.service import AssistantService
from loket.catalog.service import CatalogService
from loket.config import Settings
from loket.db import Database
from loket.search.embedders import make_embedder
from loket.search.service import SearchService
from loket.search.synonyms import BUILT_IN as BUILT_IN_SYNONYMS
from loket.search.synonyms import Synonyms


@dataclass
class Services:
    settings: Settings
    db: Database
    catalog: CatalogService
    search: SearchService
    assistant: AssistantService

    @classmethod
    def build(cls, settings: Settings) -> Services:
        db = Database(settings.sqlalchemy_url)
        catalog = CatalogService(db)
        synonyms = Synonyms.load(BUILT_IN_SYNONYMS, settings.synonyms_file)
        search = SearchService(db, catalog, make_embedder(settings), synonyms)
        assistant = AssistantService(search, settings.emergency_number, settings.suicide_line)
        return cls(settings, db, catalog, search, assistant)
