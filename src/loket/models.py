"""Imports every block's tables, so Alembic and tests see the whole schema."""

from loket.catalog import models as catalog_models
from loket.search import models as search_models

__all__ = ["catalog_models", "search_models"]
