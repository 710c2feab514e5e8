"""Reference docs that are generated from the code must match it (regenerate as the message says)."""

import importlib.util
import json
from pathlib import Path

from loket.config import Settings, settings_reference
from loket.web.api_reference import reference
from loket.web.app import create_app
from loket.web.evaluation import PUBLISHED, markdown_table

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def test_settings_reference_is_current():
    text = (DOCS / "configuration.md").read_text()
    assert settings_reference() in text, (
        "run `loket config --reference` and paste it into docs/configuration.md"
    )


def test_openapi_document_is_current(tmp_path):
    committed = json.loads((DOCS / "openapi.json").read_text())
    assert create_app(Settings(data_dir=tmp_path, _env_file=None)).openapi() == committed, (
        "run `make api-docs`"
    )


def test_api_reference_is_current(tmp_path):
    document = create_app(Settings(data_dir=tmp_path, _env_file=None)).openapi()
    assert (DOCS / "api.md").read_text() == reference(document), "run `make api-docs`"


def test_architecture_diagram_is_current():
    spec = importlib.util.spec_from_file_location("architecture", ROOT / "tools" / "architecture.py")
    architecture = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(architecture)
    assert architecture.current((DOCS / "architecture.md").read_text()) == architecture.diagram(), (
        "run `make architecture`"
    )


def test_readme_shows_the_published_evaluation_figures():
    """The README's figures are `loket eval all`'s (src/loket/web/evaluation.json), never typed in."""
    readme = (ROOT / "README.md").read_text()
    shown = readme.split("<!-- evaluation:start -->\n", 1)[1].split("\n<!-- evaluation:end -->", 1)[0]
    assert shown == markdown_table(json.loads(PUBLISHED.read_text(encoding="utf-8"))), (
        "paste `python -c 'import json; from loket.web.evaluation import PUBLISHED, markdown_table; "
        "print(markdown_table(json.loads(PUBLISHED.read_text())))'` into the README"
    )
