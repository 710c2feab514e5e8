"""The composition root: every block built once for one configuration, for the app and the CLI alike."""

from __future__ import annotations

from dataclasses import dataclass

from loket.assistant.service import AssistantService
from loket.catalog.service import CatalogService
from loket.config import Settings
from loket.db import Database
from loket.search.service import SearchService


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
        search = SearchService(catalog)
        return cls(settings, db, catalog, search, AssistantService(search))
