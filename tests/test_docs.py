"""Reference docs that are generated from the code must match it (regenerate as the message says)."""

import json
from pathlib import Path

from loket.config import Settings, settings_reference
from loket.web.app import create_app

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_settings_reference_is_current():
    text = (DOCS / "configuration.md").read_text()
    assert settings_reference() in text, (
        "run `loket config --reference` and paste it into docs/configuration.md"
    )


def test_openapi_document_is_current(tmp_path):
    committed = json.loads((DOCS / "openapi.json").read_text())
    assert create_app(Settings(data_dir=tmp_path, _env_file=None)).openapi() == committed, (
        "run `loket openapi > docs/openapi.json`"
    )
