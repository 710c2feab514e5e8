"""Imports every block's tables, so Alembic and tests see the whole schema."""

from loket.assistant import models as assistant_models
from loket.catalog import models as catalog_models
from loket.search import models as search_models

__all__ = ["assistant_models", "catalog_models", "search_models"]
