"""The composition root: every block built once for one configuration, for the app and the CLI alike."""

from __future__ import annotations

from dataclasses import dataclass

from loket.assistant.compose import Composer, ExtractiveComposer
from loket.assistant.conversations import ConversationStore
from loket.assistant.llm import ChatClient, LLMComposer, LLMRewriter
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
        composer, rewriter = _composer(settings)
        assistant = AssistantService(
            search,
            ConversationStore(db),
            composer,
            rewriter,
            settings.emergency_number,
            settings.suicide_line,
            settings.infoline,
        )
        return cls(settings, db, catalog, search, assistant)


def _composer(settings: Settings) -> tuple[Composer, LLMRewriter | None]:
    """The LLM composer and rewriter when an endpoint is configured, else the extractive default."""
    if not settings.llm_base_url:
        return ExtractiveComposer(), None
    client = ChatClient(
        settings.llm_base_url,
        settings.llm_model or "default",
        settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
        settings.llm_timeout,
        settings.llm_retries,
    )
    composer = LLMComposer(
        client, settings.llm_max_tokens, settings.llm_cost_prompt, settings.llm_cost_completion
    )
    return composer, LLMRewriter(client)
